// npm run bench:query [-- --quick] [-- --density N]: the insight queries over generated stores of one busy
// domain (20 records a report, 50,000 distinct IPs), at 100 and at 200 reports a day, on the SQLite
// default, with the project's offline sender identification. Each density is measured in its own
// process (its peak RSS is the query process's memory); then `dmarc-bot ask ready` from the build
// is timed as whole processes on the one-year store at 100 reports a day (730,000 records).
// Both run with the memory settings of the installed command (a 4 MB young generation, two malloc
// arenas), as the bot does.
// Every goal is printed next to its figure. Stores are built once into a temp folder keyed by
// their parameters, the store layout's code and the last day (the store ends yesterday, UTC, so
// that `ask ready`, which reads the clock, sees a full window); later runs reuse them.
//
//   --quick        45-day stores and fewer runs (the `ask ready` store too): for CI and a first look
//   --density N    only that density (no ratio, no `ask ready`)
//   BENCH_DAYS=N   days of the density stores (default 365; 45 with --quick)

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { AggregateRecord, AggregateReport } from '../../src/model.ts';
import { openStore } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import type { Identify, SenderIdentity } from '../../src/insight/types.ts';
import { queryDate, queryDigest, queryIp, queryReady, querySummary, type Timings } from '../../src/insight/queries.ts';
import { DEFAULT_THRESHOLDS } from '../../src/insight/readiness.ts';
import { addDays, utcDay, windowEnding } from '../../src/insight/stats.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const self = fileURLToPath(import.meta.url);
const QUICK = process.argv.includes('--quick');
const densityArg = process.argv.indexOf('--density');
const ONLY_DENSITY = densityArg > 0 ? Number(process.argv[densityArg + 1]) : null;
const CHILD = process.argv.includes('--child');
const DAYS = Number(process.env.BENCH_DAYS ?? (QUICK ? 45 : 365));
const RECORDS = 20;
const IPS = 50_000;
const DENSITIES = ONLY_DENSITY ? [ONLY_DENSITY] : [100, 200];
const DOMAIN = 'busy.example';
/** the stores end yesterday (UTC) */
const LAST_DAY = addDays(utcDay(Date.now()), -1);
const FIRST_DAY = addDays(LAST_DAY, -(DAYS - 1));
/** The regular senders (own servers, ESPs, a forgotten relay) send every day; the rest is random. */
const REGULAR = 500;
const REGULAR_PER_REPORT = Math.round(RECORDS * 0.6);
const GOALS = { readyMs: 250, digestMs: 250, ipMs: 50, dateMs: 50, memoryMb: 300, densityRatio: 1.3, askReadyMs: 400 };

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

function storeFile(reports: number): string {
  const dir = join(tmpdir(), 'dmarc-bot-bench');
  mkdirSync(dir, { recursive: true });
  // The cache is keyed by the parameters and by the store's key layout code, so a changed layout rebuilds.
  const layout = createHash('sha256');
  for (const name of ['keys.ts', 'contributions.ts', 'days.ts', 'store.ts', 'summary.ts'])
    layout.update(readFileSync(new URL(`../../src/store/${name}`, import.meta.url)));
  return join(
    dir,
    `query-${DAYS}d-${reports}r-${RECORDS}x-${IPS}ip-${LAST_DAY}-${layout.digest('hex').slice(0, 12)}.sqlite`,
  );
}

async function buildStore(reports: number): Promise<string> {
  const file = storeFile(reports);
  if (existsSync(file)) {
    const store = await openStore(`sqlite://${file}`);
    const complete = await store.getState<boolean>('bench:complete');
    await store.close();
    if (complete) {
      console.log(`store: reusing ${file}`);
      return file;
    }
    rmSync(file, { force: true });
  }
  // Stores of an older layout or day are of no further use (each is several hundred MB).
  const prefix = `query-${DAYS}d-${reports}r-`;
  const dir = dirname(file);
  for (const name of readdirSync(dir))
    if (name.startsWith(prefix) && join(dir, name) !== file) rmSync(join(dir, name), { force: true });
  console.log(`store: building ${file} (${DAYS} days x ${reports} reports x ${RECORDS} records, ${IPS} IPs)`);
  const store = await openStore(`sqlite://${file}`, { limits: { maxPendingReports: 1000, maxPendingDocs: 20_000 } });
  const random = rng(20250101 + reports);
  const started = performance.now();
  for (let d = 0; d < DAYS; d += 1) {
    const day = addDays(FIRST_DAY, d);
    for (let k = 0; k < reports; k += 1) {
      // received the next day, spread over 16 hours
      const receivedAt = new Date(
        Date.parse(`${addDays(day, 1)}T00:00:00Z`) + Math.floor((k * 16 * 3_600_000) / reports),
      );
      await store.ingest(reportOf(day, k, random), 'bench', receivedAt);
    }
    if ((d + 1) % 60 === 0 || d === DAYS - 1)
      console.log(`  ${d + 1} days, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  await store.flush();
  await store.setState('bench:complete', true);
  await store.close();
  console.log(`store: built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return file;
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
async function measure(runs: number, run: (i: number) => Promise<unknown>): Promise<QueryFigure> {
  const coldStart = performance.now();
  await run(0);
  const firstMs = performance.now() - coldStart;
  const times: number[] = [];
  for (let i = 1; i <= runs; i += 1) {
    const start = performance.now();
    await run(i);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p95: quantile(times, 0.95), firstMs };
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

interface QueryFigure {
  p50: number;
  p95: number;
  firstMs: number;
}

interface DensityResult {
  reports: number;
  queries: Record<'ip' | 'date' | 'ready' | 'summary' | 'digest', QueryFigure>;
  readyBreakdown: string;
  digestBreakdown: string;
  sources: number;
  maxRssMb: number;
}

/** One density, in its own process: every query, timed. */
async function runDensity(file: string, reports: number): Promise<DensityResult> {
  const store: ReportStore = await openStore(`sqlite://${file}`);
  const identify = await chooseIdentify(store);
  const now = new Date(`${addDays(LAST_DAY, 1)}T18:00:00Z`);
  const random = rng(7);
  const runs = QUICK ? 8 : 20;
  const randomIp = () =>
    ipOf(random() < 0.5 ? Math.floor(random() * REGULAR) : REGULAR + Math.floor(random() * (IPS - REGULAR)));
  const randomDay = () => addDays(LAST_DAY, -Math.floor(random() * Math.min(DAYS, 30)));
  const since = new Date(now.getTime() - 86_400_000);
  const queries = {
    ip: await measure(runs * 2, () => queryIp(store, identify, randomIp(), { days: 30, now })),
    date: await measure(runs * 2, () => queryDate(store, randomDay(), identify, { now })),
    ready: await measure(runs, () => queryReady(store, identify, DOMAIN, DEFAULT_THRESHOLDS, now)),
    summary: await measure(runs, () => querySummary(store, 30, now)),
    digest: await measure(runs, () => queryDigest(store, identify, { since, until: now, now })),
  };
  const format = (timings: Timings) =>
    Object.entries(timings)
      .map(([phase, ms]) => `${phase} ${ms.toFixed(1)} ms`)
      .join(', ');
  const readyTimings: Timings = {};
  const [result] = await queryReady(store, identify, DOMAIN, DEFAULT_THRESHOLDS, now, readyTimings);
  const digestTimings: Timings = {};
  await queryDigest(store, identify, { since, until: now, now, timings: digestTimings });
  const window = windowEnding(now, DEFAULT_THRESHOLDS.windowDays);
  const summaries = await store.summaries(DOMAIN, window.from, window.to);
  await store.close();
  return {
    reports,
    queries,
    readyBreakdown: `${format(readyTimings)}; verdict ${result!.verdict}, ${result!.sources.length} sender groups`,
    digestBreakdown: format(digestTimings),
    sources: summaries.reduce((sum, day) => sum + day.sources.length, 0),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

function spawnDensity(file: string, reports: number): Promise<DensityResult> {
  return new Promise((done, fail) => {
    // the memory settings the bot runs with (its shebang, npm start, the systemd unit)
    const args = [
      '--max-semi-space-size=4',
      '--import',
      'tsx',
      self,
      '--child',
      '--density',
      String(reports),
      '--file',
      file,
    ];
    if (QUICK) args.push('--quick');
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, MALLOC_ARENA_MAX: '2' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', fail);
    child.once('close', (code) => {
      const line = output.split('\n').find((text) => text.startsWith('{'));
      if (code !== 0 || !line) return fail(new Error(`density ${reports} exited ${code}: ${output}`));
      done(JSON.parse(line) as DensityResult);
    });
  });
}

/** `dmarc-bot ask ready` from the build, as whole processes: best and median of the runs. */
function askReady(file: string, runs: number): { bestMs: number; medianMs: number; output: string } {
  const bin = join(root, 'dist/src/bin.js');
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!/^(IMAP_|DMARC_|SLACK_|DISCORD_|DNS_|NODE_OPTIONS)/.test(key)) env[key] = value;
  // No DNS server answers on the discard port: the DNS checks fail at once instead of waiting.
  Object.assign(env, {
    MALLOC_ARENA_MAX: '2',
    DMARC_STORE: `sqlite://${file}`,
    DMARC_DEMO: '0',
    DNS_SERVERS: '127.0.0.1:9',
    LOG_LEVEL: 'warn',
  });
  const times: number[] = [];
  let output = '';
  // one unmeasured run first: the prepared range tables are written if missing
  for (let run = 0; run <= runs; run++) {
    const started = performance.now();
    // as the installed command runs (its shebang's settings)
    const result = spawnSync(process.execPath, ['--max-semi-space-size=4', bin, 'ask', `ready ${DOMAIN}`], {
      env,
      encoding: 'utf8',
    });
    const ms = performance.now() - started;
    if (result.status !== 0) throw new Error(`ask ready exited ${result.status}: ${result.stderr}`);
    output = result.stdout;
    if (run > 0) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return { bestMs: times[0]!, medianMs: quantile(times, 0.5), output };
}

/** The build is what `ask` runs: rebuilt when a source is newer than it. */
function ensureBuild(): void {
  const bin = join(root, 'dist/src/bin.js');
  const newest = (dir: string): number =>
    readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .reduce((max, entry) => Math.max(max, statSync(join(entry.parentPath, entry.name)).mtimeMs), 0);
  if (existsSync(bin) && statSync(bin).mtimeMs >= Math.max(newest('src'), newest('commands'))) return;
  console.log('build: npm run build');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
}

function goal(name: string, figure: string, target: string, ok: boolean): boolean {
  console.log(`  ${name.padEnd(36)} ${figure.padStart(12)}   goal ${target.padEnd(10)} ${ok ? 'MET' : 'MISSED'}`);
  return ok;
}

async function main(): Promise<void> {
  if (CHILD) {
    const file = process.argv[process.argv.indexOf('--file') + 1]!;
    process.stdout.write(JSON.stringify(await runDensity(file, ONLY_DENSITY!)) + '\n');
    return;
  }
  console.log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0]!.toFixed(1)}, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}${QUICK ? '; --quick' : ''}`,
  );
  console.log(
    `identify: ${process.env.BENCH_IDENTIFY === 'table' ? "the benchmark's table of generated ranges" : "the project's offline identification (no DNS)"}`,
  );
  const results: DensityResult[] = [];
  for (const reports of DENSITIES) {
    const file = await buildStore(reports);
    const result = await spawnDensity(file, reports);
    results.push(result);
    console.log(
      `\n${reports} reports a day (${DAYS} days, ${(reports * RECORDS * DAYS).toLocaleString('en')} records; ${result.sources.toLocaleString('en')} day-source rows in the 30-day window):`,
    );
    for (const [name, figure] of Object.entries(result.queries))
      console.log(
        `  ${name.padEnd(8)} p50 ${figure.p50.toFixed(1).padStart(7)} ms  p95 ${figure.p95.toFixed(1).padStart(7)} ms  (first run ${figure.firstMs.toFixed(1)} ms)`,
      );
    console.log(`  ready breakdown: ${result.readyBreakdown}`);
    console.log(`  digest breakdown: ${result.digestBreakdown}`);
    console.log(`  query process peak RSS ${result.maxRssMb.toFixed(0)} MB`);
  }
  let ask: ReturnType<typeof askReady> | null = null;
  if (!ONLY_DENSITY) {
    ensureBuild();
    ask = askReady(await buildStore(100), QUICK ? 3 : 7);
  }

  console.log('\ngoals:');
  let missed = 0;
  const check = (name: string, figure: string, target: string, ok: boolean) => {
    if (!goal(name, figure, target, ok)) missed += 1;
  };
  for (const result of results) {
    const { ready, digest, ip, date } = result.queries;
    const at = `at ${result.reports}/day`;
    check(`ready p95 ${at}`, `${ready.p95.toFixed(1)} ms`, `< ${GOALS.readyMs} ms`, ready.p95 < GOALS.readyMs);
    check(`digest p95 ${at}`, `${digest.p95.toFixed(1)} ms`, `< ${GOALS.digestMs} ms`, digest.p95 < GOALS.digestMs);
    check(`ip p95 ${at}`, `${ip.p95.toFixed(1)} ms`, `< ${GOALS.ipMs} ms`, ip.p95 < GOALS.ipMs);
    check(`date p95 ${at}`, `${date.p95.toFixed(1)} ms`, `< ${GOALS.dateMs} ms`, date.p95 < GOALS.dateMs);
    check(
      `query process memory ${at}`,
      `${result.maxRssMb.toFixed(0)} MB`,
      `< ${GOALS.memoryMb} MB`,
      result.maxRssMb < GOALS.memoryMb,
    );
  }
  const low = results.find((result) => result.reports === 100);
  const high = results.find((result) => result.reports === 200);
  if (low && high)
    for (const name of ['ready', 'digest', 'ip', 'date'] as const) {
      const ratio = high.queries[name].p95 / low.queries[name].p95;
      check(
        `${name} p95 200/day vs 100/day`,
        `${ratio.toFixed(2)}x`,
        `<= ${GOALS.densityRatio}x`,
        ratio <= GOALS.densityRatio,
      );
    }
  if (ask)
    check(
      `ask ready, whole process (${DAYS} days x 100/day)`,
      `${ask.bestMs.toFixed(0)} ms`,
      `< ${GOALS.askReadyMs} ms`,
      ask.bestMs < GOALS.askReadyMs,
    );
  if (ask)
    console.log(
      `  (ask ready: best ${ask.bestMs.toFixed(0)} ms, median ${ask.medianMs.toFixed(0)} ms; first line: ${ask.output.split('\n')[0]})`,
    );
  console.log(
    missed === 0
      ? 'all goals met'
      : `${missed} goal(s) missed (timing on a shared machine varies: repeat a run before trusting a miss)`,
  );
}

await main();
