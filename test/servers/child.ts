// Child processes for the tests of the test-server machinery: a node script, or a vitest run of its
// own, with an environment free of this run's vitest variables.

import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { RUN_DIR_ENV } from '../support/servers.ts';

export const VITEST_CLI = 'node_modules/vitest/vitest.mjs';

/** This process's environment without vitest's own variables and this run's directory. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('VITEST') || key === 'TEST' || key === RUN_DIR_ENV || key === 'CI') continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Collects stdout and stderr (colours off) until the child exits. */
export function collect(child: ChildProcess): { output: () => string; finished: Promise<Finished> } {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const finished = new Promise<Finished>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, output })),
  );
  return { output: () => output, finished };
}

export function runVitest(
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; finished: Promise<Finished> } {
  const child = spawn(process.execPath, [VITEST_CLI, 'run', ...args], {
    env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, finished: collect(child).finished };
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 100))) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}
