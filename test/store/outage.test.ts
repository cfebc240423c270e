// The database server dies while reports wait in the write buffer: the flush fails (or waits),
// nothing is dropped, and once the server is back a flush stores every buffered report once.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { describeEachBackend, postgresFixture, redisFixture, type BackendFixture } from './backends.ts';
import { aggregate, record } from './factories.ts';

const reports = [1, 2, 3].map((day) =>
  aggregate({
    reportId: `outage-${day}`,
    begin: `2024-03-0${day}T00:00:00Z`,
    end: `2024-03-0${day}T23:59:59Z`,
    records: [record('192.0.2.1', day)],
  }),
);

async function retryUntilStored(flush: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await flush();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describeEachBackend([redisFixture(), postgresFixture()], 'server outage on $name', (fixture: BackendFixture) => {
  beforeAll(() => fixture.start());
  afterAll(() => fixture.stop());

  it('keeps buffered reports through a failed flush and stores them once the server is back', async () => {
    const target = fixture.fresh();
    const store = await openStore(target.url, { namespace: target.namespace });
    try {
      for (const report of reports) expect(await store.ingest(report, 'x')).toBe('new');
      await fixture.kill!();
      // The client may fail at once or queue the commands until it reconnects: both are fine,
      // as long as a flush after the restart completes.
      const during = store.flush();
      during.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await fixture.restart!();
      const outcome = await Promise.race([
        during.then(
          () => 'stored',
          () => 'failed',
        ),
        new Promise((resolve) => setTimeout(() => resolve('waiting'), 20_000)),
      ]);
      expect(['stored', 'failed']).toContain(outcome);
      // A failed flush is retried by its caller (the IMAP watcher does, with backoff): the client
      // may take a moment to reconnect after the restart.
      if (outcome === 'failed') await retryUntilStored(() => store.flush());
      const days = await store.days('example.org', '2024-03-01', '2024-03-31');
      expect(days.map((day) => Object.values(day.reports)[0]!.messages)).toEqual([1, 2, 3]);
      for (const report of reports) expect(await store.ingest(report, 'x')).toBe('duplicate');
    } finally {
      await store.close().catch(() => undefined);
    }
  });
});
