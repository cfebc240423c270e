// Vitest global setup (runs in the main process): gives the run a directory where test workers note
// the servers they start and the servers they could not find. At the end, and also when vitest is
// interrupted (SIGINT, SIGTERM, SIGHUP), it stops every server a test left running; at the end it
// prints one line per missing server with the package that brings it.

import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingInRun, missingLine, RUN_DIR_ENV } from './servers.ts';
import { stopStartedServers } from './started-servers.ts';

const RUNS_ROOT = join(tmpdir(), 'dmarc-bot-test-runs');
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops the servers of runs whose vitest died without its teardown (SIGKILL, a power cut). */
export function sweepAbandonedRuns(root = RUNS_ROOT): void {
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, 'owner'), 'utf8'));
    } catch {
      // a run that had not written its owner yet, or not a run folder: leave it
      continue;
    }
    if (owner > 0 && alive(owner)) continue;
    stopStartedServers(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

export default function setup(): () => void {
  mkdirSync(RUNS_ROOT, { recursive: true });
  sweepAbandonedRuns();
  const runDir = mkdtempSync(join(RUNS_ROOT, 'run-'));
  writeFileSync(join(runDir, 'owner'), String(process.pid));
  // the test workers are forked after global setup and inherit this
  process.env[RUN_DIR_ENV] = runDir;
  // the files processes keep for the next one (range tables, identities) go to the run's folder,
  // not the user's: a test never reads what another run or the user's bot left
  process.env.XDG_CACHE_HOME = join(runDir, 'cache');

  let finished = false;
  const finish = () => {
    if (finished) return [];
    finished = true;
    const left = stopStartedServers(runDir);
    const missing = missingInRun(runDir);
    rmSync(runDir, { recursive: true, force: true });
    return [
      ...left.map((server) => `Stopped a ${server.label} server (pid ${server.pid}) that a test left running.`),
      ...missing.map((kind) => missingLine(kind)),
    ];
  };
  const report = (lines: string[]) => {
    if (lines.length > 0) process.stderr.write(`\n${lines.join('\n')}\n`);
  };
  const onExit = () => report(finish());
  const onSignal = (signal: (typeof SIGNALS)[number]) => {
    report(finish());
    // vitest exits on these signals by itself; this is for when it does not
    process.exitCode ??= 128 + SIGNAL_NUMBERS[signal];
    setTimeout(() => process.exit(), 500);
  };
  process.once('exit', onExit);
  for (const signal of SIGNALS) process.once(signal, onSignal);

  return () => {
    process.off('exit', onExit);
    for (const signal of SIGNALS) process.off(signal, onSignal);
    const lines = finish();
    if (lines.length > 0) console.log(`\n${lines.join('\n')}\n`);
  };
}
