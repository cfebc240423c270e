// A realistic month of aggregate reports for one domain, with the right answers known by construction.
//
// Addresses: documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) for
// the owner, the forgotten relay and the spoofers. Two sources use real public ranges on purpose,
// because identifying the provider from the address is the point: the newsletter ESP sends from
// Mailchimp's 205.201.128.0/20, and forwarding goes through Google's 209.85.128.0/17.
import type { AggregateRecord, AggregateReport, PolicyPublished } from '../model.ts';
import { aggregateReportMail, type Container } from './mail.ts';
import { createRng, type Rng } from './prng.ts';
import { isoFromEpoch } from './random.ts';
import { buildRecord, policyPublished, type RecordSpec } from './records.ts';
import { REPORTERS, type Reporter } from './reporters.ts';

export type SourceRole = 'own' | 'esp' | 'forgotten' | 'forwarder' | 'spoofer';

export interface ScenarioSource {
  /** a short human name: "own server", "newsletter ESP", ... */
  name: string;
  role: SourceRole;
  ips: string[];
  /** messages from this source over the whole scenario, as the reports count them */
  messages: number;
  /** of those, how many the reporters evaluated as DMARC pass */
  dmarcPass: number;
  /** the UTC days (YYYY-MM-DD) on which this source sent */
  days: string[];
}

export interface ScenarioTruth {
  domain: string;
  /** first and last day included, YYYY-MM-DD */
  firstDay: string;
  lastDay: string;
  policy: PolicyPublished;
  sources: ScenarioSource[];
  totals: { reports: number; records: number; messages: number; dmarcPass: number; dmarcFail: number };
  /** days with the spoofing burst */
  spoofDays: string[];
  /** the one report covering three days (null when the scenario is shorter than three days) */
  multiDayReport: { orgName: string; reportId: string; begin: string; end: string } | null;
  /** messages per reporter org name */
  byReporter: Record<string, number>;
  /** per source IP: its role and its messages over the scenario */
  byIp: Record<string, { role: SourceRole; messages: number; dmarcPass: number }>;
}

export interface ExampleMonthOptions {
  domain?: string;
  /** last day included, YYYY-MM-DD (default 2026-01-31) */
  endDay?: string;
  days?: number;
  seed?: number | string;
  /** published policy overrides (default p=none, relaxed alignment) */
  policy?: Partial<PolicyPublished>;
}

export interface ExampleMonth {
  reports: AggregateReport[];
  truth: ScenarioTruth;
}

const DAY = 86_400;

interface SourcePlan {
  name: string;
  role: SourceRole;
  ips: string[];
  /** expected messages per IP on an active day (0 = silent that day) */
  dailyVolume(dayIndex: number, weekday: number, rng: Rng): number;
  /** which reporters see this source's mail, with their share */
  reporters: ReadonlyArray<readonly [Reporter, number]>;
  spec(ip: string, count: number, reporter: Reporter, domain: string, rng: Rng): RecordSpec;
}

const MAILBOX_SHARES: ReadonlyArray<readonly [Reporter, number]> = [
  [REPORTERS.google, 0.5],
  [REPORTERS.microsoft, 0.25],
  [REPORTERS.yahoo, 0.15],
  [REPORTERS.smallIsp, 0.1],
];

const SPOOFER_IPS = [
  ...[7, 19, 23, 38, 41, 52, 66, 77, 83, 97, 104, 118, 130, 142, 155, 169, 177, 188, 201, 214, 226, 239].map(
    (n) => `203.0.113.${n}`,
  ),
  '2001:db8:bad::1',
  '2001:db8:bad::2f',
];

function plans(spoofDays: ReadonlySet<number>): SourcePlan[] {
  return [
    {
      name: 'own server',
      role: 'own',
      ips: ['192.0.2.10', '2001:db8:10::25'],
      dailyVolume: (_d, weekday, rng) => (weekday === 0 || weekday === 6 ? rng.int(4, 10) : rng.int(15, 30)),
      reporters: MAILBOX_SHARES,
      spec: (ip, count, _r, domain) => ({
        sourceIp: ip,
        count,
        headerFrom: domain,
        envelopeFrom: domain,
        dkim: [{ domain, selector: 'mail', result: 'pass' }],
        spf: [{ domain, scope: 'mfrom', result: 'pass' }],
      }),
    },
    {
      // weekly newsletter on Tuesdays: SPF passes for the ESP's bounce domain, DKIM with the ESP's domain
      name: 'newsletter ESP',
      role: 'esp',
      ips: ['205.201.131.98', '205.201.139.75'],
      dailyVolume: (_d, weekday, rng) => (weekday === 2 ? rng.int(120, 180) : 0),
      reporters: MAILBOX_SHARES,
      spec: (ip, count, _r, domain) => ({
        sourceIp: ip,
        count,
        headerFrom: domain,
        envelopeFrom: 'mail98.atl11.mcsv.net',
        dkim: [{ domain: 'mcsv.net', selector: 'k2', result: 'pass' }],
        spf: [{ domain: 'mail98.atl11.mcsv.net', scope: 'mfrom', result: 'pass' }],
      }),
    },
    {
      // the owner's work mail, relayed by the ISP's smarthost on most weekdays: not in SPF, not signed
      name: 'forgotten ISP relay',
      role: 'forgotten',
      ips: ['198.51.100.25'],
      dailyVolume: (dayIndex, weekday) => (weekday >= 1 && weekday <= 5 && dayIndex % 7 !== 3 ? 4 + (dayIndex % 3) : 0),
      reporters: MAILBOX_SHARES,
      spec: (ip, count, _r, domain) => ({
        sourceIp: ip,
        count,
        headerFrom: domain,
        envelopeFrom: domain,
        dkim: [],
        spf: [{ domain, scope: 'mfrom', result: 'softfail' }],
      }),
    },
    {
      // mail to a Gmail user who forwards elsewhere: SPF fails, the list footer breaks DKIM
      name: 'forwarding via mailbox provider',
      role: 'forwarder',
      ips: ['209.85.220.41', '209.85.220.69'],
      dailyVolume: (_d, _w, rng) => rng.int(1, 4),
      reporters: [
        [REPORTERS.microsoft, 0.5],
        [REPORTERS.yahoo, 0.3],
        [REPORTERS.smallIsp, 0.2],
      ],
      spec: (ip, count, reporter, domain) => ({
        sourceIp: ip,
        count,
        headerFrom: domain,
        envelopeFrom: domain,
        dkim: [{ domain, selector: 'mail', result: 'fail' }],
        spf: [{ domain, scope: 'mfrom', result: 'fail' }],
        reasons: reporter === REPORTERS.microsoft ? [{ type: 'forwarded', comment: null }] : [],
      }),
    },
    {
      // a botnet run: many addresses, a few messages each, on two or three days
      name: 'spoofing burst',
      role: 'spoofer',
      ips: SPOOFER_IPS,
      dailyVolume: (dayIndex, _w, rng) => (spoofDays.has(dayIndex) ? rng.int(1, 6) : 0),
      reporters: [
        [REPORTERS.google, 0.6],
        [REPORTERS.microsoft, 0.25],
        [REPORTERS.yahoo, 0.15],
      ],
      spec: (ip, count, _r, domain) => ({
        sourceIp: ip,
        count,
        headerFrom: domain,
        envelopeFrom: `${domain}`,
        dkim: [],
        spf: [{ domain, scope: 'mfrom', result: 'fail' }],
      }),
    },
  ];
}

/** Splits n messages over reporters by share; the remainder goes to the first reporter. */
function split(n: number, shares: ReadonlyArray<readonly [Reporter, number]>): Map<Reporter, number> {
  const out = new Map<Reporter, number>();
  let given = 0;
  for (const [reporter, share] of shares.slice(1)) {
    const part = Math.floor(n * share);
    out.set(reporter, part);
    given += part;
  }
  const first = shares[0];
  if (first) out.set(first[0], n - given);
  return out;
}

function dayString(epoch: number): string {
  return isoFromEpoch(epoch).slice(0, 10);
}

export function exampleMonth(options: ExampleMonthOptions = {}): ExampleMonth {
  const domain = options.domain ?? 'example.com';
  const days = options.days ?? 30;
  if (!Number.isInteger(days) || days < 1)
    throw new Error(`exampleMonth: days must be a positive integer, got ${days}`);
  const endDay = options.endDay ?? '2026-01-31';
  const endMs = Date.parse(`${endDay}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(endDay) || Number.isNaN(endMs))
    throw new Error(`exampleMonth: endDay must be YYYY-MM-DD, got ${endDay}`);
  const rng = createRng(options.seed ?? 2026);
  const firstEpoch = endMs / 1000 - (days - 1) * DAY;
  const policy = policyPublished(domain, options.policy);

  const spoofDays = new Set<number>();
  const burstRng = rng.fork('spoof');
  const burstLength = Math.min(days, burstRng.int(2, 3));
  const burstStart = burstRng.int(0, days - burstLength);
  for (let i = 0; i < burstLength; i++) spoofDays.add(burstStart + i);

  // the small ISP sends one report covering three days instead of three daily ones
  const multiStart = days >= 3 ? rng.fork('multi').int(0, days - 3) : -1;

  const sourcePlans = plans(spoofDays);
  const byIp: ScenarioTruth['byIp'] = {};
  for (const plan of sourcePlans) for (const ip of plan.ips) byIp[ip] = { role: plan.role, messages: 0, dmarcPass: 0 };
  const sources: ScenarioSource[] = sourcePlans.map((p) => ({
    name: p.name,
    role: p.role,
    ips: [...p.ips],
    messages: 0,
    dmarcPass: 0,
    days: [],
  }));
  // records accumulate per (reporter, report slot); a slot is a day, or the multi-day range
  const slots = new Map<
    string,
    { reporter: Reporter; begin: number; end: number; records: Map<string, AggregateRecord> }
  >();
  const slotFor = (reporter: Reporter, dayIndex: number) => {
    const inMulti =
      reporter === REPORTERS.smallIsp && multiStart >= 0 && dayIndex >= multiStart && dayIndex < multiStart + 3;
    const startIndex = inMulti ? multiStart : dayIndex;
    const key = `${reporter.orgName}|${startIndex}`;
    let slot = slots.get(key);
    if (!slot) {
      const begin = firstEpoch + startIndex * DAY;
      slot = { reporter, begin, end: begin + (inMulti ? 3 : 1) * DAY - 1, records: new Map() };
      slots.set(key, slot);
    }
    return slot;
  };

  for (let dayIndex = 0; dayIndex < days; dayIndex++) {
    const dayEpoch = firstEpoch + dayIndex * DAY;
    const weekday = new Date(dayEpoch * 1000).getUTCDay();
    sourcePlans.forEach((plan, s) => {
      const planRng = rng.fork(`${plan.role}:${dayIndex}`);
      const source = sources[s]!;
      let sentToday = false;
      for (const ip of plan.ips) {
        const volume = plan.dailyVolume(dayIndex, weekday, planRng);
        if (volume <= 0) continue;
        for (const [reporter, count] of split(volume, plan.reporters)) {
          if (count <= 0) continue;
          const spec = plan.spec(ip, count, reporter, domain, planRng);
          const record = buildRecord(spec, policy);
          const slot = slotFor(reporter, dayIndex);
          const key = `${ip}|${JSON.stringify(record.authResults)}|${JSON.stringify(record.reasons)}`;
          const existing = slot.records.get(key);
          if (existing) existing.count += record.count;
          else slot.records.set(key, record);
          source.messages += count;
          byIp[ip]!.messages += count;
          if (record.dmarc === 'pass') {
            source.dmarcPass += count;
            byIp[ip]!.dmarcPass += count;
          }
          sentToday = true;
        }
      }
      if (sentToday) source.days.push(dayString(dayEpoch));
    });
  }

  const reports: AggregateReport[] = [];
  const byReporter: Record<string, number> = {};
  let multiDayReport: ScenarioTruth['multiDayReport'] = null;
  const ordered = [...slots.values()].sort(
    (a, b) => a.begin - b.begin || a.reporter.orgName.localeCompare(b.reporter.orgName),
  );
  for (const slot of ordered) {
    const records = [...slot.records.values()];
    if (records.length === 0) continue;
    const report: AggregateReport = {
      kind: 'aggregate',
      version: '1.0',
      orgName: slot.reporter.orgName,
      orgEmail: slot.reporter.email,
      reportId: slot.reporter.reportId(rng.fork(`id:${slot.reporter.orgName}:${slot.begin}`), slot.begin),
      begin: isoFromEpoch(slot.begin),
      end: isoFromEpoch(slot.end),
      policy,
      records,
      errors: [],
    };
    reports.push(report);
    byReporter[report.orgName] = (byReporter[report.orgName] ?? 0) + records.reduce((n, r) => n + r.count, 0);
    if (slot.end - slot.begin > DAY)
      multiDayReport = { orgName: report.orgName, reportId: report.reportId, begin: report.begin, end: report.end };
  }

  const messages = sources.reduce((n, s) => n + s.messages, 0);
  const dmarcPass = sources.reduce((n, s) => n + s.dmarcPass, 0);
  return {
    reports,
    truth: {
      domain,
      firstDay: dayString(firstEpoch),
      lastDay: endDay,
      policy,
      sources,
      totals: {
        reports: reports.length,
        records: reports.reduce((n, r) => n + r.records.length, 0),
        messages,
        dmarcPass,
        dmarcFail: messages - dmarcPass,
      },
      spoofDays: [...spoofDays].sort((a, b) => a - b).map((i) => dayString(firstEpoch + i * DAY)),
      multiDayReport,
      byReporter,
      byIp,
    },
  };
}

export interface GeneratedMail {
  /** a file name for the mail (.eml) */
  name: string;
  raw: Buffer;
  /** number of reports in the mail */
  reports: number;
  /** number of aggregate records over those reports */
  records: number;
}

export interface ScenarioMail extends GeneratedMail {
  report: AggregateReport;
}

/** The same month as report mails, each reporter packing its XML its usual way (zip, gzip or plain). */
export function exampleMonthMails(options: ExampleMonthOptions & { to?: string } = {}): {
  mails: ScenarioMail[];
  truth: ScenarioTruth;
} {
  const { reports, truth } = exampleMonth(options);
  const mails = reports.map((report, i): ScenarioMail => {
    const reporter = Object.values(REPORTERS).find((r) => r.orgName === report.orgName);
    const container: Container = reporter?.container ?? 'xml';
    const raw = aggregateReportMail(report, container, {
      ...(options.to ? { to: options.to } : {}),
      ...(reporter ? { receiver: reporter.receiver } : {}),
    });
    const name = `${String(i + 1).padStart(4, '0')}-${reporter?.receiver ?? 'report'}-${report.reportId}.eml`;
    return { name, raw, reports: 1, records: report.records.length, report };
  });
  return { mails, truth };
}
