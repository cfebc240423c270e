// npm run bench [-- --quick]: the four benchmarks one after the other (start-up, parsing, IMAP
// ingest, queries) on one build, each printing its own goals; then how long each took and the
// whole run against its goal (ten minutes on the development machine). `--quick` passes on to each
// (smaller inputs, 45-day query stores, fewer start-up runs): for CI and a first look.

import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const QUICK = process.argv.includes('--quick');
const GOAL_SECONDS = 600;

interface Bench {
  name: string;
  args: string[];
  env?: Record<string, string>;
}

const benches: Bench[] = [
  {
    name: 'startup',
    args: ['--import', 'tsx', 'test/bench/startup.bench.ts'],
    ...(QUICK ? { env: { BENCH_RUNS: '3' } } : {}),
  },
  {
    name: 'parse',
    args: ['--expose-gc', '--import', 'tsx', 'test/bench/parse.bench.ts', ...(QUICK ? ['--quick'] : [])],
  },
  { name: 'ingest', args: ['--import', 'tsx', 'test/bench/ingest.bench.ts', ...(QUICK ? ['--quick'] : [])] },
  { name: 'query', args: ['--import', 'tsx', 'test/bench/query.bench.ts', ...(QUICK ? ['--quick'] : [])] },
];

function run(command: string, args: string[], env: Record<string, string> = {}): number {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

const started = performance.now();
// start-up and ingest measure the build
if (run('npm', ['run', 'build']) !== 0) process.exit(1);
const durations: Array<{ name: string; seconds: number; status: number }> = [];
for (const bench of benches) {
  process.stdout.write(`\n== bench:${bench.name}${QUICK ? ' --quick' : ''}\n`);
  const benchStarted = performance.now();
  const status = run(process.execPath, bench.args, bench.env);
  durations.push({ name: bench.name, seconds: (performance.now() - benchStarted) / 1000, status });
}
const total = (performance.now() - started) / 1000;

process.stdout.write(
  `\n== npm run bench${QUICK ? ' --quick' : ''}: ${cpus().length} cores, load average at the end ${loadavg()
    .map((value) => value.toFixed(1))
    .join(' ')}\n`,
);
for (const { name, seconds, status } of durations)
  process.stdout.write(
    `  bench:${name.padEnd(8)} ${seconds.toFixed(0).padStart(5)} s${status === 0 ? '' : ` (exit ${status})`}\n`,
  );
process.stdout.write(
  `  whole run ${total.toFixed(0).padStart(9)} s   goal < ${GOAL_SECONDS} s   ${total < GOAL_SECONDS ? 'MET' : 'MISSED'}` +
    `${QUICK ? ' (quick run; the goal is set for the full one)' : ''}\n`,
);
process.exit(durations.some(({ status }) => status !== 0) ? 1 : 0);
