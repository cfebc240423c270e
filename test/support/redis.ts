// A real redis-server on a free loopback port, for store tests and benchmarks. No persistence:
// `kill()` (SIGKILL) loses the data, like a crashed cache without AOF would.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { serverBinaries } from './servers.ts';
import { noteStarted } from './started-servers.ts';

export interface RedisServer {
  url: string;
  port: number;
  /** Shuts the server down and removes its folder. */
  stop(): Promise<void>;
  /** SIGKILL, leaving the folder for restart(). */
  kill(): Promise<void>;
  /** Starts the server again on the same port (after kill or stop). */
  restart(): Promise<void>;
  /** Graceful stop (SIGTERM), leaving the folder (and with appendOnly the data) for restart(). */
  terminate(): Promise<void>;
}

export interface RedisOptions {
  /** an append-only file fsync'd on every write: a stop and restart keeps what was written */
  appendOnly?: boolean;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const binary = serverBinaries('redis')['redis-server']!;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-redis-'));
  let child: ChildProcess | undefined;
  let stderr = '';

  const launch = async () => {
    stderr = '';
    const current = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        ...(options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
        '--dir',
        dir,
        '--protected-mode',
        'no',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    current.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child = current;
    if (current.pid) {
      const forget = noteStarted({
        label: 'Redis',
        pid: current.pid,
        cmdline: ['redis-server', String(port)],
        dirs: [dir],
      });
      current.once('exit', forget);
    }
    for (let attempt = 0; attempt < 200; attempt++) {
      if (current.exitCode !== null) throw new Error(`redis-server exited with ${current.exitCode}: ${stderr}`);
      if (await ping(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server on port ${port} did not answer PING: ${stderr}`);
  };

  // The test process may end without calling stop(): never leave a server behind.
  const onExit = () => {
    if (child?.pid && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const terminate = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited(child);
    }
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart() {
      await terminate();
      await launch();
    },
    terminate,
    async stop() {
      await terminate();
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
