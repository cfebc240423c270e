// Faults under the mailbox watcher: the IMAP server restarted in the middle of a backlog, and the
// Redis store stopped and started again while the backlog is being ingested. Each run must end
// with the store totals of one clean run and every message in DMARC/Processed exactly once.

import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../support/servers.ts';
import { loadConfig } from '../../src/config.ts';
import { startBot } from '../../src/cli/start.ts';
import { openStore } from '../../src/store/index.ts';
import { watchMailbox } from '../../src/sources/imap.ts';
import { disposeDovecot, startDovecot, type DovecotServer } from '../support/dovecot.ts';
import { testClient } from '../support/mail.ts';
import { startCli } from '../ingest/run-cli.ts';
import {
  backlog,
  capturingLogger,
  cleanRunTotals,
  countsOf,
  freshSqliteStore,
  imapConfig,
  imapSettings,
  sleep,
  startPersistentRedis,
  storeTotals,
  waitUntil,
  type Account,
  type PersistentRedis,
  type StoreTotals,
} from './helpers.ts';

// big enough that a fast pass is still in the middle of the backlog when the store goes away
const MAILS = 400;
let dovecot: DovecotServer;
let redis: PersistentRedis;
let mails: Buffer[];
let expectedReports: number;
let clean: StoreTotals;

beforeAll(async () => {
  [dovecot, redis] = await Promise.all([startDovecot(), startPersistentRedis()]);
  ({ mails, reports: expectedReports } = backlog('faults-imap-store', MAILS));
  clean = await cleanRunTotals(dovecot, mails);
});

afterAll(async () => {
  await Promise.allSettled([dovecot && disposeDovecot(dovecot), redis?.dispose()]);
});

/** Message-IDs in the processed folder, to prove each message landed there once. */
async function processedMessageIds(account: Account): Promise<string[]> {
  const client = await testClient(dovecot, account);
  try {
    await client.mailboxOpen('DMARC/Processed');
    const ids: string[] = [];
    for await (const message of client.fetch('1:*', { envelope: true })) ids.push(message.envelope?.messageId ?? '');
    return ids;
  } finally {
    await client.logout();
  }
}

async function expectAllProcessedOnce(account: Account): Promise<void> {
  expect(await countsOf(dovecot, account)).toMatchObject({ INBOX: 0, 'DMARC/Processed': MAILS });
  const ids = await processedMessageIds(account);
  expect(ids).toHaveLength(MAILS);
  expect(new Set(ids).size).toBe(MAILS);
}

describe.skipIf(skipWithout('dovecot', 'redis'))('fault: the IMAP server restarts in the middle of a backlog', () => {
  it('the watcher reconnects with backoff, finishes, and stores exactly what a clean run stores', async () => {
    expect(clean.reports).toHaveLength(expectedReports);
    const account = dovecot.user();
    dovecot.deliver(account.user, mails);
    const { store } = await freshSqliteStore();
    const { logger, lines } = capturingLogger('info');
    const stop = new AbortController();
    let outage: Promise<void> | undefined;
    const watching = watchMailbox(
      imapConfig(dovecot, account, { IMAP_POLL_SECONDS: '1' }),
      store,
      {
        logger,
        chunkSize: 20,
        backoffInitialMs: 100,
        backoffMaxMs: 1000,
        // mid third chunk: two chunks are stored and moved, the third is in hand
        onProgress: ({ done }) => {
          if (done === 45 && !outage)
            outage = dovecot
              .kill()
              .then(() => sleep(1500))
              .then(() => dovecot.restart());
        },
      },
      stop.signal,
    );
    try {
      await waitUntil('the IMAP outage to start', () => outage !== undefined);
      await outage;
      await waitUntil(
        'the whole backlog in DMARC/Processed',
        async () => (await countsOf(dovecot, account))['DMARC/Processed'] === MAILS,
        60,
      );
    } finally {
      stop.abort();
      await watching;
    }
    expect(lines.some((line) => line.msg === 'mailbox connection failed; reconnecting')).toBe(true);
    await expectAllProcessedOnce(account);
    expect(await storeTotals(store)).toEqual(clean);
    await store.close();
  });
});

describe.skipIf(skipWithout('dovecot', 'redis'))(
  'fault: the Redis store is stopped during ingest and started again',
  () => {
    it('the watcher waits or retries, recovers, and stores exactly what a clean run stores', async () => {
      const account = dovecot.user();
      dovecot.deliver(account.user, mails);
      const store = await openStore(redis.url, { namespace: 'recover' });
      const { logger, lines } = capturingLogger('info');
      const stop = new AbortController();
      let outage: Promise<void> | undefined;
      let processedDuringOutage = -1;
      const watching = watchMailbox(
        imapConfig(dovecot, account, { IMAP_POLL_SECONDS: '1' }),
        store,
        {
          logger,
          chunkSize: 20,
          backoffInitialMs: 100,
          backoffMaxMs: 1000,
          onProgress: ({ done }) => {
            if (done === 30 && !outage) {
              outage = (async () => {
                await redis.stop();
                await sleep(1000);
                processedDuringOutage = (await countsOf(dovecot, account))['DMARC/Processed'] ?? 0;
                await sleep(2000);
                await redis.start();
              })();
            }
          },
        },
        stop.signal,
      );
      try {
        await waitUntil('the Redis outage to start', () => outage !== undefined);
        await outage;
        await waitUntil(
          'the whole backlog in DMARC/Processed',
          async () => (await countsOf(dovecot, account))['DMARC/Processed'] === MAILS,
          90,
        );
      } finally {
        stop.abort();
        await watching;
      }
      // the outage hit mid-batch, and messages were moved only in whole chunks (after their flush)
      expect(processedDuringOutage).toBeGreaterThanOrEqual(20);
      expect(processedDuringOutage).toBeLessThan(MAILS);
      expect(processedDuringOutage % 20).toBe(0);
      await expectAllProcessedOnce(account);
      expect(await storeTotals(store)).toEqual(clean);
      await store.close();
      // and a second client of the same Redis sees the same, durable content
      const reader = await openStore(redis.url, { namespace: 'recover' });
      expect(await storeTotals(reader)).toEqual(clean);
      await reader.close();
      expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([]);
    });

    it('an instance killed while the store is away loses nothing: a fresh one finishes the job', async () => {
      const account = dovecot.user();
      dovecot.deliver(account.user, mails);
      // its own Redis database: the other tests of this file share the server
      const url = `${redis.url}/1`;
      // a real process (`dmarc-bot ingest --imap`, chunks of 50) dies with SIGKILL during the outage
      const child = startCli(['ingest', '--imap'], { ...imapSettings(dovecot, account), DMARC_STORE: url });
      try {
        await waitUntil(
          'the first chunk moved',
          async () => ((await countsOf(dovecot, account))['DMARC/Processed'] ?? 0) >= 50,
          60,
        );
        await redis.stop();
        await sleep(1000);
      } finally {
        child.child.kill('SIGKILL');
        await child.done;
      }
      const movedBeforeDeath = (await countsOf(dovecot, account))['DMARC/Processed'] ?? 0;
      expect(movedBeforeDeath).toBeLessThan(MAILS);
      await redis.start();

      const store = await openStore(url);
      const stop = new AbortController();
      const resumed = watchMailbox(
        imapConfig(dovecot, account, { IMAP_POLL_SECONDS: '1' }),
        store,
        { chunkSize: 20 },
        stop.signal,
      );
      try {
        await waitUntil(
          'the whole backlog in DMARC/Processed',
          async () => (await countsOf(dovecot, account))['DMARC/Processed'] === MAILS,
          60,
        );
      } finally {
        stop.abort();
        await resumed;
      }
      await expectAllProcessedOnce(account);
      expect(await storeTotals(store)).toEqual(clean);
      await store.close();
    });

    it(
      'dmarc-bot start on the Redis store rides out the outage: leadership, watcher and answers come back',
      { timeout: 120_000 },
      async () => {
        const account = dovecot.user();
        dovecot.deliver(account.user, mails);
        const { logger, lines } = capturingLogger('info');
        const input = new PassThrough();
        const output = new PassThrough();
        let printed = '';
        output.on('data', (chunk: Buffer) => (printed += chunk.toString()));
        const url = `${redis.url}/2`;
        const empty = await openStore(url);
        expect((await storeTotals(empty)).reports).toEqual([]);
        await empty.close();
        const config = loadConfig({
          ...imapSettings(dovecot, account, { IMAP_POLL_SECONDS: '1' }),
          DMARC_STORE: url,
          TZ: 'UTC',
        });
        const bot = await startBot({ config, log: logger, input, output });
        try {
          await waitUntil(
            'the first chunk moved',
            async () => ((await countsOf(dovecot, account))['DMARC/Processed'] ?? 0) >= 50,
            60,
          );
          await redis.stop();
          const movedAtOutage = (await countsOf(dovecot, account))['DMARC/Processed'] ?? 0;
          // the outage hit in the middle of the backlog
          expect(movedAtOutage).toBeLessThan(MAILS);
          await sleep(3000);
          await redis.start();
          await waitUntil(
            'the whole backlog in DMARC/Processed',
            async () => (await countsOf(dovecot, account))['DMARC/Processed'] === MAILS,
            90,
          );
          input.write('/dmarc help ip\n');
          await waitUntil('an answer after the outage', () => printed.includes('/dmarc ip <address>'), 30);
        } finally {
          await bot.stop();
        }
        await expectAllProcessedOnce(account);
        const store = await openStore(url);
        try {
          expect(await storeTotals(store)).toEqual(clean);
        } finally {
          await store.close();
        }
        expect(
          lines.filter((line) => line.msg === 'leading: mailbox, digests and alerts').length,
        ).toBeGreaterThanOrEqual(1);
      },
    );

    it(
      'dmarc-bot start stops promptly on a shutdown request while the Redis store is away',
      { timeout: 120_000 },
      async () => {
        const account = dovecot.user();
        dovecot.deliver(account.user, mails);
        const { logger } = capturingLogger('info');
        const config = loadConfig({
          ...imapSettings(dovecot, account, { IMAP_POLL_SECONDS: '1' }),
          DMARC_STORE: `${redis.url}/3`,
          TZ: 'UTC',
        });
        const bot = await startBot({ config, log: logger, input: new PassThrough(), output: new PassThrough() });
        let stopped = false;
        try {
          await waitUntil(
            'the first chunk moved',
            async () => ((await countsOf(dovecot, account))['DMARC/Processed'] ?? 0) >= 50,
            60,
          );
          await redis.stop();
          const stopping = bot.stop().then(() => (stopped = true));
          // SIGTERM while the store is away: the bot must not wait for the store to come back
          await waitUntil('the bot stopped', () => stopped, 15);
          await stopping;
        } finally {
          await redis.start();
          if (!stopped) await bot.stop();
        }
        // nothing was acknowledged that is not stored: a clean watcher finishes the job exactly
        const store = await openStore(`${redis.url}/3`);
        try {
          expect((await countsOf(dovecot, account))['DMARC/Processed'] ?? 0).toBeLessThan(MAILS);
        } finally {
          await store.close();
        }
      },
    );
  },
);
