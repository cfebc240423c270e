// A real PostgreSQL server (Debian's package) on a free loopback port, for store tests and
// benchmarks. PostgreSQL refuses to run as root, and the tests run as root: initdb and the server
// run as the `postgres` user (spawned with its uid/gid, so the pid we hold is the server itself).
// fsync is off for speed; commits still reach the OS before they return (no synchronous_commit=off),
// so a SIGKILL of the server, as in the outage tests, loses no committed data.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

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

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error(`no PostgreSQL server binaries under ${root} (install the postgresql package)`);
  return join(root, versions[0]!, 'bin');
}

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
  const bin = binDir();
  const user = process.getuid?.() === 0 ? postgresUser() : undefined;
  const root = mkdtempSync(join(tmpdir(), 'dmarc-pg-'));
  const dataDir = join(root, 'data');
  if (user) chownSync(root, user.uid, user.gid);
  const asPostgres = { cwd: root, ...(user ?? {}), env: { ...process.env, LC_ALL: 'C', LANG: 'C' } };

  execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'], {
    ...asPostgres,
    stdio: 'pipe',
  });

  const port = await freePort();
  let child: ChildProcess | undefined;
  let stderr = '';

  const isReady = () => {
    try {
      execFileSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };

  const launch = async () => {
    stderr = '';
    const current = spawn(
      join(bin, 'postgres'),
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
    execFileSync(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', database], {
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
