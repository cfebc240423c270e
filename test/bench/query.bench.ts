// npm run bench:query [-- --quick] [-- --density N]: the insight queries over generated stores of one busy
// domain (20 records a report, 50,000 distinct IPs), at 100 and at 200 reports a day, on the SQLite
// default, with the project's offline sender identification. Each density is measured in its own
// process (query/child.ts, bundled with the command's build options so that it runs the code the
// service runs, without the TypeScript loader; its peak RSS is the query process's memory); then `dmarc-bot ask ready` from the build
// is timed as whole processes on the one-year store at 100 reports a day (730,000 records).
// Both run with the memory settings of the installed command (a 4 MB young generation, two malloc
// arenas), as the bot does.
// Every goal is printed next to its figure. Stores are built once into a temp folder keyed by
// their parameters, the store layout's code and the last day (the store ends yesterday, UTC, so
// that `ask ready`, which reads the clock, sees a full window); later runs reuse them.
//
//   --quick        45-day stores and fewer runs (the `ask ready` store too): for CI and a first look
//   --density N    only that density (no ratio, no `ask ready`)
//   --rounds N     measured children per density, run alternately (default 2; 1 with --quick): the
//                  runs of a density's rounds are pooled, so a ratio is not one moment's load
//                  against another's
//   --build-store N  only build (or find) the store of that density, then exit; the run builds
//                  the missing stores of both densities this way, side by side
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
import { addDays, utcDay } from '../../src/insight/stats.ts';
import {
  DOMAIN,
  IPS,
  RECORDS,
  REGULAR,
  REGULAR_PER_REPORT,
  ipOf,
  quantile,
  rng,
  type DensityResult,
  type QueryName,
} from './query/shape.ts';

/** A query's figures over the pooled runs of a density's rounds. */
interface QueryFigure {
  p50: number;
  p95: number;
  cpuP50: number;
  cpuP95: number;
  runs: number;
  /** the cold first run of each round */
  firstMs: number[];
}

interface DensityFigures {
  reports: number;
  queries: Record<QueryName, QueryFigure>;
  rounds: DensityResult[];
  maxRssMb: number;
}

function pool(reports: number, rounds: DensityResult[]): DensityFigures {
  const names = Object.keys(rounds[0]!.queries) as QueryName[];
  const queries = {} as Record<QueryName, QueryFigure>;
  for (const name of names) {
    const times = rounds.flatMap((round) => round.queries[name].times).sort((a, b) => a - b);
    const cpu = rounds.flatMap((round) => round.queries[name].cpu).sort((a, b) => a - b);
    queries[name] = {
      p50: quantile(times, 0.5),
      p95: quantile(times, 0.95),
      cpuP50: quantile(cpu, 0.5),
      cpuP95: quantile(cpu, 0.95),
      runs: times.length,
      firstMs: rounds.map((round) => round.queries[name].firstMs),
    };
  }
  return { reports, queries, rounds, maxRssMb: Math.max(...rounds.map((round) => round.maxRssMb)) };
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const childDir = join(root, 'dist/bench/query');
const childScript = join(childDir, 'child.js');
const QUICK = process.argv.includes('--quick');
const densityArg = process.argv.indexOf('--density');
const ONLY_DENSITY = densityArg > 0 ? Number(process.argv[densityArg + 1]) : null;
const DAYS = Number(process.env.BENCH_DAYS ?? (QUICK ? 45 : 365));
const DENSITIES = ONLY_DENSITY ? [ONLY_DENSITY] : [100, 200];
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : QUICK ? 1 : 2;
const buildArg = process.argv.indexOf('--build-store');
const BUILD_ONLY = buildArg > 0 ? Number(process.argv[buildArg + 1]) : null;
/** the stores end yesterday (UTC) */
const LAST_DAY = addDays(utcDay(Date.now()), -1);
const FIRST_DAY = addDays(LAST_DAY, -(DAYS - 1));
const GOALS = { readyMs: 250, digestMs: 250, ipMs: 50, dateMs: 50, memoryMb: 300, densityRatio: 1.3, askReadyMs: 400 };

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
      console.log(`  ${reports}/day: ${d + 1} days, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  await store.flush();
  await store.setState('bench:complete', true);
  await store.close();
  console.log(`store: ${reports}/day built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return file;
}

/** The stores not built yet are built in child processes side by side (one core each). */
async function buildMissingStores(densities: readonly number[]): Promise<void> {
  const missing = densities.filter((reports) => !existsSync(storeFile(reports)));
  if (missing.length < 2) return;
  await Promise.all(
    missing.map(
      (reports) =>
        new Promise<void>((done, fail) => {
          const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--build-store', String(reports)];
          if (QUICK) args.push('--quick');
          const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
          child.on('error', fail);
          child.on('exit', (code) =>
            code === 0 ? done() : fail(new Error(`building the ${reports}/day store exited ${code}`)),
          );
        }),
    ),
  );
}

/** The measured child (query/child.ts), bundled with the command's build options as the service runs. */
async function buildChild(): Promise<void> {
  const { bundleOptions } = await import('../../build.ts');
  const { build } = await import('esbuild');
  rmSync(childDir, { recursive: true, force: true });
  await build({ ...bundleOptions, entryPoints: { child: 'test/bench/query/child.ts' }, outdir: childDir });
}

function spawnDensity(file: string, reports: number): Promise<DensityResult> {
  return new Promise((done, fail) => {
    // the memory settings the bot runs with (its shebang, npm start, the systemd unit)
    const args = [
      '--max-semi-space-size=4',
      childScript,
      '--density',
      String(reports),
      '--file',
      file,
      '--days',
      String(DAYS),
      '--last-day',
      LAST_DAY,
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

/** The build is what `ask` runs: rebuilt when a source or the build script is newer than it. */
function ensureBuild(): void {
  const bin = join(root, 'dist/src/bin.js');
  const newest = (dir: string): number =>
    readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .reduce((max, entry) => Math.max(max, statSync(join(entry.parentPath, entry.name)).mtimeMs), 0);
  if (
    existsSync(bin) &&
    statSync(bin).mtimeMs >= Math.max(newest('src'), newest('commands'), statSync(join(root, 'build.ts')).mtimeMs)
  )
    return;
  console.log('build: npm run build');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
}

function goal(name: string, figure: string, target: string, ok: boolean): boolean {
  console.log(`  ${name.padEnd(36)} ${figure.padStart(12)}   goal ${target.padEnd(10)} ${ok ? 'MET' : 'MISSED'}`);
  return ok;
}

async function main(): Promise<void> {
  if (BUILD_ONLY !== null) {
    await buildStore(BUILD_ONLY);
    return;
  }
  console.log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0]!.toFixed(1)}, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}${QUICK ? '; --quick' : ''}`,
  );
  console.log(
    `identify: ${process.env.BENCH_IDENTIFY === 'table' ? "the benchmark's table of generated ranges" : "the project's offline identification (no DNS)"}`,
  );
  console.log(
    "queries: run in a child bundled with the command's build options (the code the service runs, no TypeScript loader)",
  );
  await buildChild();
  await buildMissingStores(DENSITIES);
  const files = new Map<number, string>();
  for (const reports of DENSITIES) files.set(reports, await buildStore(reports));
  // the densities alternate, round after round, so that both meet the same spells of load
  const measured = new Map<number, DensityResult[]>(DENSITIES.map((reports) => [reports, []]));
  for (let round = 1; round <= ROUNDS; round++)
    for (const reports of DENSITIES) {
      const result = await spawnDensity(files.get(reports)!, reports);
      measured.get(reports)!.push(result);
      console.log(`  round ${round}, ${reports}/day measured (load ${loadavg()[0]!.toFixed(1)})`);
    }
  const results = DENSITIES.map((reports) => pool(reports, measured.get(reports)!));
  for (const result of results) {
    const { reports } = result;
    const first = result.rounds[0]!;
    console.log(
      `\n${reports} reports a day (${DAYS} days, ${(reports * RECORDS * DAYS).toLocaleString('en')} records; ${first.sources.toLocaleString('en')} day-source rows in the 30-day window; ${ROUNDS} round(s) pooled):`,
    );
    for (const [name, figure] of Object.entries(result.queries))
      console.log(
        `  ${name.padEnd(8)} p50 ${figure.p50.toFixed(1).padStart(7)} ms  p95 ${figure.p95.toFixed(1).padStart(7)} ms  (CPU p50 ${figure.cpuP50.toFixed(1)}, p95 ${figure.cpuP95.toFixed(1)} ms; ${figure.runs} runs; first run ${figure.firstMs.map((ms) => ms.toFixed(1)).join(' / ')} ms)`,
      );
    console.log(`  ready breakdown: ${first.readyBreakdown}`);
    console.log(`  digest breakdown: ${first.digestBreakdown}`);
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
      // beside it, the steadier ratios of the medians and of the CPU time (what load moves least)
      const medians = high.queries[name].p50 / low.queries[name].p50;
      const cpu = high.queries[name].cpuP95 / low.queries[name].cpuP95;
      console.log(
        `  ${`(${name} p50 200/day vs 100/day`.padEnd(36)} ${`${medians.toFixed(2)}x;`.padStart(12)} CPU p95 ${cpu.toFixed(2)}x)`,
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
