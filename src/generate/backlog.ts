// A lazy backlog of report mails for ingest tests and benchmarks: mails are made one at a time,
// so 10,000 of them never sit in memory together.
import type { AggregateReport } from '../model.ts';
import { aggregateAttachment, reportMail, rfc5322Date, type Container } from './mail.ts';
import { createRng, type Rng } from './prng.ts';
import { randomAggregateReport } from './random.ts';
import { ALL_REPORTERS } from './reporters.ts';
import type { GeneratedMail } from './scenario.ts';

export interface BacklogOptions {
  seed: number | string;
  count: number;
  minRecords?: number;
  maxRecords?: number;
  /** first report day, ISO (default 2025-01-01) */
  start?: string;
}

const DOMAIN_POOL = [
  'example.com',
  'example.org',
  'example.net',
  'shop.example',
  'mail-owner.example',
  'family.example',
  'club.example',
  'consulting.example',
  'photos.example',
  'blog.example',
] as const;
const DAY = 86_400;

/** Most reports are small, some large: 70 % tiny, 22 % medium, 8 % up to the maximum. */
function recordCount(rng: Rng, min: number, max: number): number {
  const roll = rng.next();
  const [lo, hi] = roll < 0.7 ? [min, min + 9] : roll < 0.92 ? [min + 10, min + 100] : [min + 100, max];
  return Math.min(max, Math.max(min, rng.int(lo, Math.min(hi, max))));
}

/**
 * Mail i gets reporter (i / domains) mod reporters, domain i mod domains and day i / (domains x reporters):
 * every (org, domain, range) is distinct, and report ids are random on top.
 */
export function* reportMailBacklog(options: BacklogOptions): Generator<GeneratedMail> {
  const min = options.minRecords ?? 1;
  const max = options.maxRecords ?? 500;
  if (!(min >= 1 && max >= min))
    throw new Error(`reportMailBacklog: need 1 <= minRecords <= maxRecords, got ${min}..${max}`);
  const startEpoch = Math.floor(Date.parse(options.start ?? '2025-01-01T00:00:00Z') / 1000);
  const root = createRng(options.seed);
  for (let i = 0; i < options.count; i++) {
    const rng = root.fork(i);
    const domain = DOMAIN_POOL[i % DOMAIN_POOL.length]!;
    const reporter = ALL_REPORTERS[Math.floor(i / DOMAIN_POOL.length) % ALL_REPORTERS.length]!;
    const dayIndex = Math.floor(i / (DOMAIN_POOL.length * ALL_REPORTERS.length));
    const begin = new Date((startEpoch + dayIndex * DAY) * 1000).toISOString();
    const reports: AggregateReport[] = [
      randomAggregateReport({
        seed: `${options.seed}:${i}`,
        records: recordCount(rng, min, max),
        domain,
        org: reporter.orgName,
        begin,
      }),
    ];
    // a few reporters put two domains' reports in one mail; the second domain is outside the pool
    if (rng.chance(0.03)) {
      reports.push(
        randomAggregateReport({
          seed: `${options.seed}:${i}:b`,
          records: recordCount(rng, min, max),
          domain: `alt.${domain}`,
          org: reporter.orgName,
          begin,
        }),
      );
    }
    const container: Container = rng.weighted([
      ['zip', 45],
      ['gzip', 35],
      ['xml', 20],
    ] as const);
    const attachments = reports.map((r) => aggregateAttachment(r, container, { receiver: reporter.receiver }));
    const first = reports[0]!;
    const raw = reportMail(attachments, {
      from: reporter.email,
      to: `dmarc-reports@${domain}`,
      subject: `Report Domain: ${domain} Submitter: ${reporter.orgName} Report-ID: <${first.reportId}>`,
      date: rfc5322Date(new Date(Date.parse(first.end) + 3_600_000)),
      messageId: `backlog-${i}-${first.reportId}@${reporter.receiver}`,
    });
    yield {
      name: `${String(i).padStart(6, '0')}-${attachments[0]!.filename}.eml`,
      raw,
      reports: reports.length,
      records: reports.reduce((n, r) => n + r.records.length, 0),
    };
  }
}
