// Hostile and huge mail in the watched mailbox: a gzip decompression bomb (1 GiB of zeros), an XML
// entity bomb (billion laughs), a million nested tags (the reader's '<' repair was quadratic) and a
// ~30 MB report mail between good report mails. The bombs go to DMARC/Invalid with their reason
// logged, the big report is stored whole, the good ones are stored, and the watcher keeps running
// (it picks up mail delivered afterwards).

import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '../support/servers.ts';
import { aggregateAttachment, gzipBytes, randomAggregateReport, reportMail } from '../../src/generate/index.ts';
import type { AggregateReport } from '../../src/model.ts';
import { watchMailbox } from '../../src/sources/imap.ts';
import { disposeDovecot, startDovecot, type DovecotServer } from '../support/dovecot.ts';
import {
  backlog,
  capturingLogger,
  cleanRunTotals,
  countsOf,
  freshSqliteStore,
  imapConfig,
  recentStart,
  storeTotals,
  waitUntil,
} from './helpers.ts';

const GIB = 1024 ** 3;
// a reference pass and a watched pass over a 30 MB report mail (mailparser takes about 20 s for it on
// a busy two-core machine), plus making a 1 GiB bomb: minutes under load, never a hang
const SLOW_CASE_TIMEOUT_MS = 360_000;
let dovecot: DovecotServer;

beforeAll(async () => {
  dovecot = await startDovecot();
});

afterAll(async () => {
  if (dovecot) await disposeDovecot(dovecot);
});

const headers = (subject: string, id: string) => ({
  from: 'noreply@hostile.example',
  to: 'dmarc@example.com',
  subject,
  date: new Date(),
  messageId: `<${id}@hostile.example>`,
});

/** gzip of 1 GiB of zeros, made as a stream so the test itself never holds the gigabyte. */
async function gzipBombBytes(): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => parts.push(chunk));
  const finished = new Promise<void>((resolve, reject) => (gzip.on('end', resolve), gzip.on('error', reject)));
  const zeros = Buffer.alloc(16 * 1024 * 1024);
  for (let written = 0; written < GIB; written += zeros.length) {
    if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await finished;
  return Buffer.concat(parts);
}

/** The classic "billion laughs": ten levels of ten references, 10^9 "lol"s once expanded. */
function entityBombXml(): string {
  const levels = ['<!ENTITY lol "lol">'];
  for (let n = 1; n <= 9; n++) levels.push(`<!ENTITY lol${n} "${`&lol${n === 1 ? '' : n - 1};`.repeat(10)}">`);
  return `<?xml version="1.0"?>\n<!DOCTYPE feedback [\n${levels.join('\n')}\n]>\n<feedback><report_metadata><org_name>&lol9;</org_name></report_metadata></feedback>\n`;
}

/** A million nested open tags (3 MB, a few KB gzip'd): cheap to send, must be cheap to refuse. */
function nestingBombXml(): string {
  const depth = 1_000_000;
  return `<?xml version="1.0"?>\n<feedback>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</feedback>\n`;
}

/** A big aggregate report whose plain XML makes a mail of about 30 MB once base64'd. */
function bigReport(): AggregateReport {
  return randomAggregateReport({
    seed: 'faults-big',
    records: 34_000,
    domain: 'big.example',
    org: 'google.com',
    begin: recentStart(5),
  });
}

describe.skipIf(skipWithout('dovecot'))('fault: bombs and a 30 MB report in the mailbox', () => {
  it(
    'moves the bombs to DMARC/Invalid with their reason, stores the big and the good reports, and keeps watching',
    async () => {
      const good = backlog('faults-hostile', 8);
      const big = bigReport();
      const bigMail = reportMail([aggregateAttachment(big, 'xml')], headers('Report Domain: big.example', 'big'));
      expect(bigMail.length).toBeGreaterThan(28 * 1024 * 1024);
      const gzipBomb = reportMail(
        [
          {
            filename: 'google.com!example.com!1!2.xml.gz',
            contentType: 'application/gzip',
            content: await gzipBombBytes(),
          },
        ],
        headers('Report Domain: example.com', 'gzip-bomb'),
      );
      const entityBomb = reportMail(
        [
          {
            filename: 'google.com!example.com!1!2.xml',
            contentType: 'text/xml',
            content: Buffer.from(entityBombXml()),
          },
        ],
        headers('Report Domain: example.com', 'entity-bomb'),
      );
      const nestingBomb = reportMail(
        [
          {
            filename: 'google.com!example.com!1!2.xml.gz',
            contentType: 'application/gzip',
            content: gzipBytes(nestingBombXml()),
          },
        ],
        headers('Report Domain: example.com', 'nesting-bomb'),
      );
      const late = backlog('faults-hostile-late', 2);

      // the reference: the good mails, the big one and the late ones in one undisturbed pass
      const clean = await cleanRunTotals(dovecot, [...good.mails, bigMail, ...late.mails]);
      // independent of the code under test: the big report's messages are the sum of its record counts
      const bigMessages = big.records.reduce((sum, record) => sum + record.count, 0);
      const bigDays = Object.entries(clean.messagesPerDomainDay).filter(([key]) => key.startsWith('big.example '));
      expect(bigDays.reduce((sum, [, messages]) => sum + messages, 0)).toBe(bigMessages);

      const account = dovecot.user();
      const [g0, g1, g2, g3, ...rest] = good.mails;
      dovecot.deliver(account.user, [g0!, gzipBomb, g1!, entityBomb, g2!, nestingBomb, bigMail, g3!, ...rest]);
      const { store } = await freshSqliteStore();
      const { logger, lines } = capturingLogger('info');
      const stop = new AbortController();
      let peakRss = process.memoryUsage().rss;
      const baseRss = peakRss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
      const watching = watchMailbox(
        imapConfig(dovecot, account, { IMAP_POLL_SECONDS: '1' }),
        store,
        { logger, backoffInitialMs: 100, backoffMaxMs: 1000 },
        stop.signal,
      );
      try {
        await waitUntil('the first batch handled', async () => (await countsOf(dovecot, account)).INBOX === 0, 240);
        expect(await countsOf(dovecot, account)).toMatchObject({
          'DMARC/Processed': good.mails.length + 1,
          'DMARC/Invalid': 3,
        });
        // still watching: mail delivered now is picked up by the same watcher
        dovecot.deliver(account.user, late.mails);
        await waitUntil(
          'the late mail processed',
          async () =>
            (await countsOf(dovecot, account))['DMARC/Processed'] === good.mails.length + 1 + late.mails.length,
          60,
        );
      } finally {
        clearInterval(sampler);
        stop.abort();
        await watching;
      }

      const invalidReasons = lines
        .filter((line) => line.msg === 'message holds no report: moving it to the invalid folder')
        .map((line) => String(line.reason));
      expect(invalidReasons).toHaveLength(3);
      expect(invalidReasons.find((reason) => /inflates past the cap|decompression/i.test(reason))).toBeDefined();
      expect(invalidReasons.find((reason) => /entit/i.test(reason))).toBeDefined();
      expect(invalidReasons.find((reason) => /nested/i.test(reason))).toBeDefined();
      expect(lines.filter((line) => line.msg === 'mailbox connection failed; reconnecting')).toEqual([]);
      expect(await storeTotals(store)).toEqual(clean);
      // the bomb was capped, not inflated: far below the gigabyte it would take
      expect(peakRss - baseRss).toBeLessThan(768 * 1024 * 1024);
      await store.close();
    },
    SLOW_CASE_TIMEOUT_MS,
  );
});
