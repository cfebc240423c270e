// Start-up and whole-process cost, the way a user pays them: each figure is one process from exec
// to exit, best of N runs (wall time, and peak RSS from GNU time when it is installed).
//  - bare `node -e 0`, `dmarc-bot help` and `dmarc-bot ask help` from the build (and, for scale,
//    `ask help` through tsx from the sources);
//  - `parse --json` of a generated 1k- and 20k-record aggregate report, ours (the build) against
//    the npm package dmarc-report-parser in a plain node script, measured in the same run.
// Run with `npm run bench:startup` (which builds first).

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { randomAggregateReport } from '../../src/generate/random.ts';
import { writeAggregateXml } from '../../src/generate/xml.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const builtBin = join(root, 'dist/src/bin.js');
const sourceBin = join(root, 'src/bin.mjs');
const peerScript = join(root, 'test/bench/startup/peer-parse.mjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const GOALS = { askHelpVsBare: 4, parse1kVsPeer: 1, parse20kVsPeer: 2.5 };
const GNU_TIME = ['/usr/bin/time', '/bin/time'].find((path) => existsSync(path));

interface Figure {
  wallMs: number;
  /** user + system CPU time: steadier than wall time on a busy machine */
  cpuMs: number | null;
  rssMb: number | null;
}

/** One process, exec to exit; throws when it exits non-zero. */
function once(args: string[], cwd: string): Promise<Figure> {
  const rssFile = join(cwd, '.rss');
  const [command, ...rest] = GNU_TIME ? [GNU_TIME, '-f', '%M %U %S', '-o', rssFile, ...args] : args;
  return new Promise((done, fail) => {
    const started = process.hrtime.bigint();
    const child = spawn(command!, rest, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: benchEnv() });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', fail);
    child.once('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return fail(new Error(`${args.join(' ')} exited ${code}: ${stderr.trim()}`));
      const [rssKb, user, system] = GNU_TIME
        ? readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
        : [NaN, NaN, NaN];
      rmSync(rssFile, { force: true });
      const cpuMs = (user! + system!) * 1000;
      done({
        wallMs,
        cpuMs: Number.isFinite(cpuMs) ? cpuMs : null,
        rssMb: Number.isFinite(rssKb) ? rssKb! / 1024 : null,
      });
    });
  });
}

/** No settings from the caller's environment or .env leak into the measured processes. */
function benchEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!/^(IMAP_|DMARC_|SLACK_|DISCORD_|NODE_OPTIONS)/.test(key)) env[key] = value;
  return env;
}

async function best(args: string[], cwd: string): Promise<Figure> {
  const figures: Figure[] = [];
  for (let run = 0; run < RUNS; run++) figures.push(await once(args, cwd));
  const lowest = (values: Array<number | null>) => {
    const known = values.filter((value): value is number => value !== null);
    return known.length ? Math.min(...known) : null;
  };
  return {
    wallMs: Math.min(...figures.map((figure) => figure.wallMs)),
    cpuMs: lowest(figures.map((figure) => figure.cpuMs)),
    rssMb: lowest(figures.map((figure) => figure.rssMb)),
  };
}

async function generated(dir: string, records: number): Promise<string> {
  const path = join(dir, `generated-${records}.xml`);
  // no override reasons: dmarc-report-parser rejects every <reason> (see parse.bench.ts)
  const report = randomAggregateReport({
    seed: `startup-${records}`,
    records,
    domain: 'example.com',
    org: 'google.com',
    overrideShare: 0,
  });
  const stream = createWriteStream(path);
  await writeAggregateXml(report, stream);
  stream.end();
  await finished(stream);
  return path;
}

const fmtMs = (figure: Figure) =>
  `${figure.wallMs.toFixed(0).padStart(5)} ms wall${figure.cpuMs === null ? '' : `, ${figure.cpuMs.toFixed(0).padStart(5)} ms CPU`}`;
const fmtRss = (figure: Figure) => (figure.rssMb === null ? '   n/a' : `${figure.rssMb.toFixed(0).padStart(4)} MB`);
const verdict = (met: boolean) => (met ? 'met' : 'MISSED');

async function main(): Promise<void> {
  if (!existsSync(builtBin)) throw new Error(`${builtBin} is missing: run \`npm run build\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-startup-'));
  // the commands run in an empty folder: anything they write there would show
  const cwd = join(dir, 'cwd');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(cwd);
  try {
    process.stdout.write(
      `start-up benchmark: ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}, node ${process.version}, best of ${RUNS}` +
        `${GNU_TIME ? '' : ' (no GNU time: peak RSS not measured)'}\n`,
    );
    const files = { 1000: await generated(dir, 1000), 20000: await generated(dir, 20_000) };
    const rows: Array<[string, Figure]> = [];
    const measure = async (label: string, args: string[]) => {
      const figure = await best(args, cwd);
      rows.push([label, figure]);
      process.stdout.write(`${label.padEnd(44)} ${fmtMs(figure)}, peak RSS ${fmtRss(figure)}\n`);
      return figure;
    };
    const node = process.execPath;
    const bare = await measure('node -e 0', [node, '-e', '0']);
    await measure('dmarc-bot --version (build)', [node, builtBin, '--version']);
    await measure('dmarc-bot help (build)', [node, builtBin, 'help']);
    const askHelp = await measure('dmarc-bot ask help (build)', [node, builtBin, 'ask', 'help']);
    await measure('dmarc-bot ask help (sources through tsx)', [node, sourceBin, 'ask', 'help']);
    const parsed: Record<string, { ours: Figure; peer: Figure }> = {};
    for (const [records, path] of Object.entries(files)) {
      const size = `${(statSync(path).size / 1e6).toFixed(1)} MB`;
      const label = `${Number(records) / 1000}k records`;
      parsed[records] = {
        ours: await measure(`parse --json ${label} (${size}), ours`, [node, builtBin, 'parse', '--json', path]),
        peer: await measure(`parse ${label}, dmarc-report-parser`, [node, peerScript, path]),
      };
    }
    const leftovers = readdirSync(cwd);
    process.stdout.write(leftovers.length ? `files written into the working folder: ${leftovers.join(', ')}\n` : '');

    // the goals are on wall time; the CPU-time ratio is shown next to it because on a loaded
    // machine wall time mostly measures the other processes
    const ratio = (over: Figure, under: Figure) => {
      const wall = over.wallMs / under.wallMs;
      const cpu = over.cpuMs !== null && under.cpuMs ? over.cpuMs / under.cpuMs : null;
      return { wall, text: `${wall.toFixed(2)}x wall${cpu === null ? '' : ` (${cpu.toFixed(2)}x CPU)`}` };
    };
    const ask = ratio(askHelp, bare);
    const p1k = ratio(parsed[1000]!.peer, parsed[1000]!.ours);
    const p20k = ratio(parsed[20000]!.peer, parsed[20000]!.ours);
    process.stdout.write(
      [
        '',
        `goal: ask help within ${GOALS.askHelpVsBare}x a bare node start: ask help / node -e 0 = ${ask.text} ${verdict(ask.wall <= GOALS.askHelpVsBare)}`,
        `goal: parse 1k faster than the peer: peer / ours = ${p1k.text} ${verdict(p1k.wall > GOALS.parse1kVsPeer)}`,
        `goal: parse 20k at least ${GOALS.parse20kVsPeer}x faster than the peer: peer / ours = ${p20k.text} ${verdict(p20k.wall >= GOALS.parse20kVsPeer)}`,
        '',
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
