// A real PostgreSQL server (Debian's or RHEL's package) on a free loopback port, for store tests and
// benchmarks. PostgreSQL refuses to run as root, and the tests run as root: initdb and the server
// run as the `postgres` user (spawned with its uid/gid, so the pid we hold is the server itself).
// fsync is off for speed; commits still reach the OS before they return (no synchronous_commit=off),
// so a SIGKILL of the server, as in the outage tests, loses no committed data.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { serverBinaries } from './servers.ts';
import { noteStarted } from './started-servers.ts';

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/dmarc (trust authentication) */
  url: string;
  port: number;
  stop(): Promise<void>;
  /** SIGKILL the postmaster, leaving the data folder for restart(). */
  kill(): Promise<void>;
  restart(): Promise<void>;
}

const database = 'dmarc';

function postgresUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = serverBinaries('postgres');
  const user = process.getuid?.() === 0 ? postgresUser() : undefined;
  const root = mkdtempSync(join(tmpdir(), 'dmarc-pg-'));
  const dataDir = join(root, 'data');
  if (user) chownSync(root, user.uid, user.gid);
  const asPostgres = { cwd: root, ...(user ?? {}), env: { ...process.env, LC_ALL: 'C', LANG: 'C' } };

  execFileSync(bin.initdb!, ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'], {
    ...asPostgres,
    stdio: 'pipe',
  });

  const port = await freePort();
  let child: ChildProcess | undefined;
  let stderr = '';

  const isReady = () => {
    try {
      execFileSync(bin.pg_isready!, ['-h', '127.0.0.1', '-p', String(port), '-q'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };

  const launch = async () => {
    stderr = '';
    const current = spawn(
      bin.postgres!,
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${root}`,
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=50',
      ],
      { ...asPostgres, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    current.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child = current;
    if (current.pid) {
      const forget = noteStarted({
        label: 'PostgreSQL',
        pid: current.pid,
        cmdline: [dataDir],
        stop: { file: bin.pg_ctl!, args: ['stop', '-D', dataDir, '-m', 'immediate'], ...(user ?? {}) },
        dirs: [root],
      });
      current.once('exit', forget);
    }
    for (let attempt = 0; attempt < 400; attempt++) {
      if (current.exitCode !== null) throw new Error(`postgres exited with ${current.exitCode}: ${stderr}`);
      if (isReady()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`postgres on port ${port} did not become ready: ${stderr}`);
  };

  const onExit = () => {
    if (child?.pid && child.exitCode === null) child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const shutdown = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      // SIGINT = "fast" shutdown: disconnects clients instead of waiting for them.
      child.kill('SIGINT');
      await exited(child);
    }
  };

  try {
    await launch();
    execFileSync(bin.createdb!, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', database], {
      ...asPostgres,
      stdio: 'pipe',
    });
  } catch (error) {
    onExit();
    process.removeListener('exit', onExit);
    throw error;
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/${database}`,
    port,
    async kill() {
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart() {
      await shutdown();
      await launch();
    },
    async stop() {
      await shutdown();
      process.removeListener('exit', onExit);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
