// A note per test server started in this run, so that the global setup can stop what a test left
// running: a failed test that never reached its afterAll, a worker that crashed, or a run that was
// interrupted. A server runs as a child of a test worker, and a child outlives a SIGKILLed parent.
// Everything here is synchronous so that it also works in `exit` and signal handlers.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_DIR_ENV } from './servers.ts';

export interface StartedServer {
  label: string;
  pid: number;
  /** strings the process's command line must contain: a reused pid is never killed */
  cmdline: string[];
  /** the server's own stop command (run first), e.g. `doveadm -c CONF stop` */
  stop?: { file: string; args: string[]; uid?: number; gid?: number };
  /** folders to remove once the server is gone */
  dirs: string[];
}

const startedDir = (runDir: string) => join(runDir, 'started');
const noteName = (server: Pick<StartedServer, 'label' | 'pid'>) => `${server.label}-${server.pid}.json`;

/** Notes a started server; returns the function that forgets it again after a clean stop. */
export function noteStarted(server: StartedServer): () => void {
  const runDir = process.env[RUN_DIR_ENV];
  if (!runDir) return () => {};
  mkdirSync(startedDir(runDir), { recursive: true });
  const path = join(startedDir(runDir), noteName(server));
  writeFileSync(path, JSON.stringify(server));
  return () => rmSync(path, { force: true });
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

/** Alive and still the process we started (not a reused pid, not a zombie). */
export function isOurs(server: Pick<StartedServer, 'pid' | 'cmdline'>): boolean {
  const line = commandLine(server.pid);
  return line !== undefined && line !== '' && server.cmdline.every((part) => line.includes(part));
}

function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of existsSync('/proc') ? readdirSync('/proc') : []) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // the command name in field 2 may hold spaces and parentheses: the ppid follows the last ')'
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function waitGone(server: StartedServer, ms: number): boolean {
  for (const deadline = Date.now() + ms; Date.now() < deadline; sleepSync(50)) if (!isOurs(server)) return true;
  return !isOurs(server);
}

const signal = (pid: number, name: NodeJS.Signals) => {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
};

/**
 * Stops one server: its own stop command, then SIGTERM, then SIGKILL of it and its children.
 * Returns whether it was still running.
 */
export function stopServer(server: StartedServer): boolean {
  const running = isOurs(server);
  if (running && server.stop) {
    try {
      const { file, args, uid, gid } = server.stop;
      execFileSync(file, args, { stdio: 'ignore', timeout: 10_000, ...(uid === undefined ? {} : { uid, gid }) });
    } catch {
      // the signals below still apply
    }
    waitGone(server, 5_000);
  }
  if (isOurs(server)) {
    signal(server.pid, 'SIGTERM');
    if (!waitGone(server, 3_000)) {
      const children = childPids(server.pid);
      signal(server.pid, 'SIGKILL');
      for (const child of children) signal(child, 'SIGKILL');
      waitGone(server, 2_000);
    }
  }
  for (const dir of server.dirs) rmSync(dir, { recursive: true, force: true });
  return running;
}

/** Stops every server still noted in a run directory; returns those that were still running. */
export function stopStartedServers(runDir: string): StartedServer[] {
  const dir = startedDir(runDir);
  if (!existsSync(dir)) return [];
  const stopped: StartedServer[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    let server: StartedServer;
    try {
      server = JSON.parse(readFileSync(path, 'utf8')) as StartedServer;
    } catch {
      rmSync(path, { force: true });
      continue;
    }
    if (stopServer(server)) stopped.push(server);
    rmSync(path, { force: true });
  }
  return stopped;
}
