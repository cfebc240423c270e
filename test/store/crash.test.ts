// A process ingesting reports is killed with SIGKILL at several points; after a final run to the
// end, the store holds exactly the totals of one clean run. Same on every backend.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { allFixtures, describeEachBackend, type BackendFixture, type StoreTarget } from './backends.ts';

const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const REPORTS = 60;

interface ChildRun {
  killed: boolean;
  flushes: number;
  outcomes: Record<string, number> | null;
}

/**
 * Runs the child. `killAfterFlushes`: the parent kills it once it has flushed that many times, plus
 * a short random delay. `killSelfAtFlush`: the child kills itself between documents and markers.
 */
function runChild(target: StoreTarget, killAfterFlushes: number | null, killSelfAtFlush?: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const args = [
      '--import',
      'tsx',
      child,
      target.url,
      target.namespace,
      String(REPORTS),
      ...(killSelfAtFlush ? [String(killSelfAtFlush)] : []),
    ];
    const process_ = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let flushes = 0;
    let output = '';
    let errors = '';
    let killed = false;
    process_.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    process_.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      flushes = output.split('\n').filter((line) => line === 'flushed').length;
      if (killAfterFlushes !== null && !killed && flushes >= killAfterFlushes) {
        killed = true;
        // Somewhere in the middle of the next batch or its flush.
        setTimeout(() => process_.kill('SIGKILL'), Math.floor(Math.random() * 15));
      }
    });
    process_.on('error', reject);
    process_.on('exit', (code, signal) => {
      const done = /^done (.*)$/m.exec(output);
      if (signal === 'SIGKILL' || done)
        resolve({
          killed: signal === 'SIGKILL',
          flushes,
          outcomes: done ? (JSON.parse(done[1]!) as Record<string, number>) : null,
        });
      else reject(new Error(`crash child exited with ${code ?? signal}: ${errors}`));
    });
  });
}

async function snapshot(target: StoreTarget) {
  const store = await openStore(target.url, { namespace: target.namespace });
  try {
    const days = await store.days(null, '2000-01-01', '2100-01-01');
    const perDay = days.map((day) => ({
      key: `${day.domain} ${day.date}`,
      reports: Object.keys(day.reports).sort(),
      messages: Object.values(day.reports).reduce((sum, part) => sum + part.messages, 0),
    }));
    const ips = new Set(
      days.flatMap((day) => Object.values(day.reports).flatMap((part) => part.sources.map((source) => source.ip))),
    );
    const sample = [...ips].sort().slice(0, 20);
    const ipTotals = await Promise.all(
      sample.map(async (ip) =>
        (await store.ipEntries(ip, '2000-01-01', '2100-01-01')).reduce((sum, entry) => sum + entry.messages, 0),
      ),
    );
    const logged = (await store.ingestedSince('2000-01-01T00:00:00Z')).length;
    return { perDay, ipTotals, logged };
  } finally {
    await store.close();
  }
}

describeEachBackend(allFixtures(), 'SIGKILL during ingest on $name', (fixture: BackendFixture) => {
  beforeAll(() => fixture.start());
  afterAll(() => fixture.stop());

  it('ends with the totals of one clean run', async () => {
    const clean = fixture.fresh();
    const cleanRun = await runChild(clean, null);
    expect(cleanRun.outcomes).toEqual({ new: REPORTS });
    const expected = await snapshot(clean);
    expect(expected.logged).toBe(REPORTS);

    const crashed = fixture.fresh();
    // Killed by itself between documents and markers of its 2nd flush, then from outside at random
    // moments, then again by itself; each run resumes where the store stands.
    const runs = [
      await runChild(crashed, null, 2),
      await runChild(crashed, 1),
      await runChild(crashed, null, 2),
      await runChild(crashed, 3),
      await runChild(crashed, 2),
    ];
    expect(runs[0]!.killed).toBe(true);
    expect(runs[2]!.killed).toBe(true);
    const final = await runChild(crashed, null);
    expect(final.killed).toBe(false);
    // Reports stored before the kills are duplicates now; the rest (and any half-written one) are new.
    expect((final.outcomes?.new ?? 0) + (final.outcomes?.duplicate ?? 0)).toBe(REPORTS);
    expect(final.outcomes?.duplicate ?? 0).toBeGreaterThan(0);
    expect(await snapshot(crashed)).toEqual(expected);
  });
});
