// A test server outlives the test process that started it when that process dies without its
// afterAll (a crashed worker, an interrupted run). These tests kill such processes for real and
// check that the run's teardown stops the servers they left.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sweepAbandonedRuns } from '../support/global-setup.ts';
import { RUN_DIR_ENV, skipWithout, type ServerKind } from '../support/servers.ts';
import { isOurs, stopStartedServers, type StartedServer } from '../support/started-servers.ts';
import { childEnv, collect, portOpen, runVitest, waitFor } from './child.ts';

const scratch: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of scratch.splice(0)) {
    stopStartedServers(dir);
    rmSync(dir, { recursive: true, force: true });
  }
});

const notesIn = (runDir: string): StartedServer[] => {
  const dir = join(runDir, 'started');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as StartedServer);
};

/** Starts a server in a child node process that notes it in runDir, as a test worker does. */
async function startInChild(kind: ServerKind, runDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/servers/start-server.ts', kind], {
    env: childEnv({ [RUN_DIR_ENV]: runDir }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { output, finished } = collect(child);
  const port = await waitFor(
    () => {
      const match = /^ready (\d+)$/m.exec(output());
      if (match) return Number(match[1]);
      if (child.exitCode !== null) throw new Error(`the ${kind} server did not start: ${output()}`);
      return undefined;
    },
    60_000,
    `the ${kind} server`,
  );
  return { child, finished, port };
}

const kinds: ServerKind[] = ['dovecot', 'redis', 'postgres'];

describe.each(kinds)('a %s whose test process is SIGKILLed', (kind) => {
  it.skipIf(skipWithout(kind))('keeps running until the teardown stops it', async () => {
    const runDir = tempDir('dmarc-run-');
    const { child, finished, port } = await startInChild(kind, runDir);
    const [server, ...others] = notesIn(runDir);
    expect(others).toEqual([]);

    child.kill('SIGKILL');
    await finished;
    // no exit hook ran: the server is still there, as after a crashed worker
    expect(isOurs(server!)).toBe(true);
    expect(await portOpen(port)).toBe(true);

    const stopped = stopStartedServers(runDir);

    expect(stopped.map((entry) => entry.pid)).toEqual([server!.pid]);
    expect(isOurs(server!)).toBe(false);
    expect(await portOpen(port)).toBe(false);
    for (const dir of server!.dirs) expect(existsSync(dir)).toBe(false);
    expect(notesIn(runDir)).toEqual([]);
  });
});

describe('an interrupted vitest run', () => {
  it.skipIf(skipWithout('dovecot'))('stops the Dovecot its test started when vitest gets SIGTERM', async () => {
    const report = join(tempDir('dmarc-hang-'), 'report.json');
    const { child, finished } = runVitest(
      ['--config', 'test/fixtures/servers/vitest.config.ts'],
      childEnv({ HANG_REPORT: report }),
    );
    const started = await waitFor(
      () =>
        existsSync(report)
          ? (JSON.parse(readFileSync(report, 'utf8')) as { port: number; dir: string; notes: StartedServer[] })
          : undefined,
      90_000,
      'the Dovecot of the child run',
    );
    const [server] = started.notes;
    expect(server?.label).toBe('Dovecot');
    expect(isOurs(server!)).toBe(true);

    child.kill('SIGTERM');
    const { output } = await finished;

    expect(isOurs(server!), output).toBe(false);
    expect(output).toContain(`Stopped a Dovecot server (pid ${server!.pid}) that a test left running.`);
    expect(await portOpen(started.port)).toBe(false);
    expect(existsSync(started.dir)).toBe(false);
  });
});

describe('a run killed outright (no teardown at all)', () => {
  it.skipIf(skipWithout('redis'))('has its servers stopped by the next run, and a live run is left alone', async () => {
    const root = tempDir('dmarc-runs-');
    const abandoned = join(root, 'run-abandoned');
    const { child, finished } = await startInChild('redis', abandoned);
    const [server] = notesIn(abandoned);
    child.kill('SIGKILL');
    await finished;
    // its owner, the child, is dead now
    writeFileSync(join(abandoned, 'owner'), String(child.pid));
    const live = join(root, 'run-live');
    mkdirSync(live);
    writeFileSync(join(live, 'owner'), String(process.pid));
    expect(isOurs(server!)).toBe(true);

    sweepAbandonedRuns(root);

    expect(isOurs(server!)).toBe(false);
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
