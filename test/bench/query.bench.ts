// npm run bench:query — the insight queries over a generated one-year store of a busy domain
// (365 days x 100 reports a day x 20 records, about 730,000 records from 50,000 distinct IPs) on
// the SQLite default. The store is built once into a temp file keyed by its parameters (building
// takes a while); later runs reuse it. Prints p50/p95 per query and PASS/MISS per target.
//
// Scale for a quick try: BENCH_DAYS=30 BENCH_REPORTS=20 npm run bench:query

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AggregateRecord, AggregateReport } from '../../src/model.ts';
import { openStore } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import type { Identify, SenderIdentity } from '../../src/insight/types.ts';
import {
  identifyDays,
  queryDate,
  queryDigest,
  queryIp,
  queryReady,
  querySummary,
  type Timings,
} from '../../src/insight/queries.ts';
import { DEFAULT_THRESHOLDS } from '../../src/insight/readiness.ts';
import { addDays, windowEnding } from '../../src/insight/stats.ts';

const DAYS = Number(process.env.BENCH_DAYS ?? 365);
const REPORTS = Number(process.env.BENCH_REPORTS ?? 100);
const RECORDS = Number(process.env.BENCH_RECORDS ?? 20);
const IPS = Number(process.env.BENCH_IPS ?? 50_000);
const DOMAIN = 'busy.example';
const FIRST_DAY = '2025-01-01';
const LAST_DAY = addDays(FIRST_DAY, DAYS - 1);
/** The regular senders (own servers, ESPs, a forgotten relay) send every day; the rest is random. */
const REGULAR = 500;
const REGULAR_PER_REPORT = Math.round(RECORDS * 0.6);

// 198.18.0.0/15 is reserved for benchmarks (RFC 2544): 131,072 addresses.
const ipOf = (index: number) => `198.${18 + (index >> 16)}.${(index >> 8) & 255}.${index & 255}`;
const indexOf = (ip: string) => {
  const [, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
  return ((b - 18) << 16) | (c << 8) | d;
};

/** Small deterministic PRNG (mulberry32) so every build is the same store. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function record(ipIndex: number, count: number): AggregateRecord {
  const sourceIp = ipOf(ipIndex);
  const base = {
    sourceIp,
    count,
    disposition: 'none',
    reasons: [],
    identifiers: { headerFrom: DOMAIN, envelopeFrom: DOMAIN, envelopeTo: null },
  };
  if (ipIndex < 100) {
    // own servers: SPF and DKIM aligned
    return {
      ...base,
      evaluated: { dkim: 'pass', spf: 'pass' },
      dmarc: 'pass',
      authResults: {
        dkim: [{ domain: DOMAIN, selector: 's1', result: 'pass' }],
        spf: [{ domain: DOMAIN, scope: 'mfrom', result: 'pass' }],
      },
      alignment: { dkim: true, spf: true },
    };
  }
  if (ipIndex < 400) {
    // an ESP: DKIM aligned, SPF for its bounce domain
    return {
      ...base,
      evaluated: { dkim: 'pass', spf: 'fail' },
      dmarc: 'pass',
      authResults: {
        dkim: [{ domain: DOMAIN, selector: 'esp', result: 'pass' }],
        spf: [{ domain: 'bounce.esp.example', scope: 'mfrom', result: 'pass' }],
      },
      alignment: { dkim: true, spf: false, spfUnalignedPass: ['bounce.esp.example'] },
    };
  }
  if (ipIndex < REGULAR) {
    // a forgotten relay: SPF passes for the ISP only
    return {
      ...base,
      evaluated: { dkim: 'fail', spf: 'fail' },
      dmarc: 'fail',
      authResults: { dkim: [], spf: [{ domain: 'isp-relay.example', scope: 'mfrom', result: 'pass' }] },
      alignment: { dkim: false, spf: false, spfUnalignedPass: ['isp-relay.example'] },
    };
  }
  if (ipIndex % 10 === 0) {
    // forwarded: our signature broken by the relay
    return {
      ...base,
      evaluated: { dkim: 'fail', spf: 'fail' },
      dmarc: 'fail',
      authResults: {
        dkim: [{ domain: DOMAIN, selector: 's1', result: 'fail' }],
        spf: [{ domain: 'forwarder.example', scope: 'mfrom', result: 'pass' }],
      },
      alignment: { dkim: false, spf: false },
    };
  }
  // spoofing
  return {
    ...base,
    disposition: 'none',
    evaluated: { dkim: 'fail', spf: 'fail' },
    dmarc: 'fail',
    authResults: { dkim: [], spf: [{ domain: DOMAIN, scope: 'mfrom', result: 'fail' }] },
    alignment: { dkim: false, spf: false },
  };
}

function reportOf(day: string, k: number, random: () => number): AggregateReport {
  const records: AggregateRecord[] = [];
  const used = new Set<number>();
  const pick = (from: number, to: number) => {
    for (;;) {
      const index = from + Math.floor(random() * (to - from));
      if (!used.has(index)) return (used.add(index), index);
    }
  };
  for (let r = 0; r < RECORDS; r += 1) {
    const index = r < REGULAR_PER_REPORT ? pick(0, REGULAR) : pick(REGULAR, IPS);
    records.push(record(index, index < REGULAR ? 1 + Math.floor(random() * 20) : 1 + Math.floor(random() * 3)));
  }
  return {
    kind: 'aggregate',
    orgName: `reporter-${k}.example`,
    orgEmail: null,
    reportId: `${day}-${k}`,
    begin: `${day}T00:00:00.000Z`,
    end: `${day}T23:59:59.000Z`,
    policy: {
      domain: DOMAIN,
      p: 'none',
      sp: null,
      np: null,
      pct: null,
      adkim: 'r',
      aspf: 'r',
      fo: null,
      testing: null,
    },
    records,
    errors: [],
  };
}

async function buildOrOpen(): Promise<ReportStore> {
  const dir = join(tmpdir(), 'dmarc-bot-bench');
  mkdirSync(dir, { recursive: true });
  // The cache is keyed by the parameters and by the store's key layout code, so a changed layout rebuilds.
  const layout = createHash('sha256');
  for (const name of ['keys.ts', 'contributions.ts', 'days.ts', 'store.ts'])
    layout.update(readFileSync(new URL(`../../src/store/${name}`, import.meta.url)));
  const file = join(dir, `query-${DAYS}d-${REPORTS}r-${RECORDS}x-${IPS}ip-${layout.digest('hex').slice(0, 12)}.sqlite`);
  if (existsSync(file)) {
    const store = await openStore(`sqlite://${file}`);
    if (await store.getState<boolean>('bench:complete')) {
      console.log(`store: reusing ${file}`);
      return store;
    }
    await store.close();
    rmSync(file, { force: true });
  }
  // Stores built by an older store layout are of no further use (each is about 600 MB).
  const prefix = `query-${DAYS}d-${REPORTS}r-${RECORDS}x-${IPS}ip-`;
  for (const name of readdirSync(dir))
    if (name.startsWith(prefix) && join(dir, name) !== file) rmSync(join(dir, name), { force: true });
  console.log(`store: building ${file} (${DAYS} days x ${REPORTS} reports x ${RECORDS} records, ${IPS} IPs)`);
  const store = await openStore(`sqlite://${file}`);
  const random = rng(20250101);
  const started = performance.now();
  for (let d = 0; d < DAYS; d += 1) {
    const day = addDays(FIRST_DAY, d);
    for (let k = 0; k < REPORTS; k += 1) {
      // received the next day, spread over 16 hours
      const receivedAt = new Date(
        Date.parse(`${addDays(day, 1)}T00:00:00Z`) + Math.floor((k * 16 * 3_600_000) / REPORTS),
      );
      await store.ingest(reportOf(day, k, random), 'bench', receivedAt);
    }
    if ((d + 1) % 30 === 0 || d === DAYS - 1)
      console.log(`  ${d + 1} days, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  await store.flush();
  await store.setState('bench:complete', true);
  console.log(`store: built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return store;
}

/** Offline identification as the real one does it with `dns: false`: ranges and the ASN table. */
const tableIdentify: Identify = async (ip) => {
  const index = indexOf(ip);
  const base: SenderIdentity = {
    key: ip,
    name: ip,
    by: 'ip',
    service: null,
    forwarder: false,
    ptr: null,
    asn: null,
    asName: null,
    country: null,
  };
  if (index < 100)
    return { ...base, key: 'own.example', name: 'own.example', by: 'ptr', ptr: `mx${index}.own.example` };
  if (index < 400) return { ...base, key: 'esp', name: 'Example ESP', by: 'known', service: 'esp' };
  if (index < REGULAR)
    return {
      ...base,
      key: 'isp-relay.example',
      name: 'isp-relay.example',
      by: 'ptr',
      ptr: `smtp${index}.isp-relay.example`,
    };
  if (index % 10 === 0)
    return { ...base, key: 'mailbox', name: 'Mailbox Provider', by: 'known', service: 'mailbox', forwarder: true };
  if (index % 3 === 0)
    return {
      ...base,
      key: `AS${64500 + (index % 300)}`,
      name: `AS${64500 + (index % 300)} Example Net`,
      by: 'asn',
      asn: 64500 + (index % 300),
    };
  return base;
};

/** The project's identification (known ranges, ASN table) without DNS; BENCH_IDENTIFY=table: a small lookup table instead. */
async function chooseIdentify(store: ReportStore): Promise<Identify> {
  if (process.env.BENCH_IDENTIFY === 'table') return tableIdentify;
  const { createIdentify } = await import('../../src/senders/identify.ts');
  return createIdentify({ store, reverse: async () => [], resolve: async () => [], timeoutMs: 0 });
}

/** The first run is reported apart as "cold": it fills the process's offline identity memo. */
const coldRuns: Record<string, number> = {};

async function measure(name: string, runs: number, run: (i: number) => Promise<unknown>): Promise<number[]> {
  const coldStart = performance.now();
  await run(0);
  coldRuns[name] = performance.now() - coldStart;
  const times: number[] = [];
  for (let i = 1; i <= runs; i += 1) {
    const start = performance.now();
    await run(i);
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

async function main(): Promise<void> {
  const store = await buildOrOpen();
  const identify = await chooseIdentify(store);
  console.log(
    `identify: ${process.env.BENCH_IDENTIFY === 'table' ? "the benchmark's table of generated ranges" : "the project's offline identification (no DNS)"}`,
  );
  const now = new Date(`${addDays(LAST_DAY, 1)}T18:00:00Z`);
  const random = rng(7);
  const targets: Array<[string, number, number[], string]> = [];

  const randomIp = () =>
    ipOf(random() < 0.5 ? Math.floor(random() * REGULAR) : REGULAR + Math.floor(random() * (IPS - REGULAR)));
  targets.push([
    'ip (30 days)',
    100,
    await measure('ip', 40, () => queryIp(store, identify, randomIp(), { days: 30, now })),
    'ip',
  ]);
  const randomDay = () => addDays(FIRST_DAY, Math.floor(random() * DAYS));
  targets.push(['date', 100, await measure('date', 30, () => queryDate(store, randomDay(), identify)), 'date']);
  targets.push([
    'ready',
    500,
    await measure('ready', 10, () => queryReady(store, identify, DOMAIN, DEFAULT_THRESHOLDS, now)),
    'ready',
  ]);
  targets.push(['summary (30 days)', 500, await measure('summary', 10, () => querySummary(store, 30, now)), 'summary']);
  const since = new Date(now.getTime() - 86_400_000);
  targets.push([
    'digest',
    500,
    await measure('digest', 10, () => queryDigest(store, identify, { since, until: now, now })),
    'digest',
  ]);

  let missed = 0;
  for (const [name, target, times, key] of targets) {
    const p50 = quantile(times, 0.5);
    const p95 = quantile(times, 0.95);
    const ok = p95 < target;
    if (!ok) missed += 1;
    console.log(
      `${name.padEnd(18)} p50 ${p50.toFixed(1).padStart(7)} ms  p95 ${p95.toFixed(1).padStart(7)} ms  target p95 < ${target} ms  ${ok ? 'PASS' : 'MISS'}  (first run ${coldRuns[key]!.toFixed(1)} ms)`,
    );
  }

  // Where the time goes: reading the day documents, identifying the IPs, computing.
  const readyTimings: Timings = {};
  const [result] = await queryReady(store, identify, DOMAIN, DEFAULT_THRESHOLDS, now, readyTimings);
  const window = windowEnding(now, DEFAULT_THRESHOLDS.windowDays);
  const days = await store.days(DOMAIN, window.from, window.to);
  const rows = days.reduce(
    (sum, doc) => sum + Object.values(doc.reports).reduce((s, part) => s + part.sources.length, 0),
    0,
  );
  const bytes = Buffer.byteLength(JSON.stringify(days));
  const format = (timings: Timings) =>
    Object.entries(timings)
      .map(([phase, ms]) => `${phase} ${ms.toFixed(1)} ms`)
      .join(', ');
  // Identification without the memo (a new function has an empty one): what a first question pays.
  const fresh: Identify = (ip, hints, options) => identify(ip, hints, options);
  const coldStart = performance.now();
  const identities = await identifyDays(fresh, days, { dns: false });
  const coldIdentifyMs = performance.now() - coldStart;
  console.log(
    `ready breakdown: ${format(readyTimings)}; ${days.length} day docs, ${rows} source rows, ${(bytes / 1e6).toFixed(1)} MB of JSON; verdict ${result!.verdict}, ${result!.sources.length} sender groups`,
  );
  console.log(`identify without memo: ${Object.keys(identities).length} IPs in ${coldIdentifyMs.toFixed(1)} ms`);
  const digestTimings: Timings = {};
  await queryDigest(store, identify, { since, until: now, now, timings: digestTimings });
  console.log(`digest breakdown: ${format(digestTimings)}`);

  await store.close();
  console.log(missed === 0 ? 'all targets met' : `${missed} target(s) missed`);
}

await main();
