// `dmarc-bot ask` and `dmarc-bot digest` as child processes against a SQLite store in DMARC_STORE.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastDigestAt } from '../src/digest/state.ts';
import { openStore } from '../src/store/index.ts';
import { FORGOTTEN, scenarioReports, storeWith, type TestStore } from './commands/scenario.ts';

const run = promisify(execFile);
// each run starts node with tsx: slow on a busy two-core machine
const CLI_TEST_TIMEOUT = 180_000;

/** Where the last terminal digest ended, read from the store file the CLI wrote. */
async function terminalDigestState(): Promise<string | null> {
  const store = await openStore(fixture.url);
  try {
    return (await lastDigestAt(store, 'terminal'))?.toISOString() ?? null;
  } finally {
    await store.close();
  }
}
let fixture: TestStore;

beforeAll(async () => {
  fixture = await storeWith(scenarioReports());
  await fixture.store.close(); // the CLI opens the file itself
});
afterAll(() => fixture.close().catch(() => undefined));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['src/bin.mjs', ...args], {
      env: {
        PATH: process.env.PATH,
        DMARC_STORE: fixture.url,
        DNS_SERVERS: '127.0.0.1:9',
        DNS_TIMEOUT_MS: '200',
        LOG_LEVEL: 'silent',
        NO_COLOR: '1',
      },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

// The data lies in June 2026; the CLI's clock is the real one, so windows are made long.
describe('dmarc-bot ask --json', () => {
  it(
    'prints the fixed keys of ip',
    async () => {
      const { code, stdout } = await cli('ask', `ip ${FORGOTTEN} days:3650`, '--json');
      expect(code).toBe(0);
      const data = JSON.parse(stdout);
      for (const key of [
        'ip',
        'messages',
        'dmarcPass',
        'dmarcFail',
        'firstSeen',
        'lastSeen',
        'ptr',
        'asn',
        'asName',
        'country',
        'sender',
        'domains',
        'reporters',
        'days',
      ])
        expect(data).toHaveProperty(key);
      expect(data).toMatchObject({
        ip: FORGOTTEN,
        messages: 580,
        dmarcPass: 0,
        dmarcFail: 580,
        firstSeen: '2026-06-01',
        lastSeen: '2026-06-29',
        domains: ['example.com'],
        reporters: ['google.com'],
      });
      expect(data.days[0]).toEqual({ date: '2026-06-01', messages: 20, dmarcPass: 0 });
    },
    CLI_TEST_TIMEOUT,
  );

  it(
    'prints the fixed keys of date and ready',
    async () => {
      const date = JSON.parse((await cli('ask', '/dmarc date 2026-06-11', '--json')).stdout);
      expect(date).toMatchObject({ date: '2026-06-11', reports: 2, messages: 225, dmarcPass: 200, dmarcFail: 25 });
      expect(date.domains[0].domain).toBe('example.com');

      const ready = JSON.parse((await cli('ask', 'ready', 'example.com', 'days:3650', '--json')).stdout);
      for (const key of ['domain', 'verdict', 'checks', 'blockers', 'policy', 'nextStep'])
        expect(ready).toHaveProperty(key);
      expect(ready.verdict).toBe('not-ready');
      for (const check of ready.checks)
        expect(Object.keys(check)).toEqual(expect.arrayContaining(['id', 'ok', 'detail']));
    },
    CLI_TEST_TIMEOUT,
  );

  it(
    'prints text for the terminal, and exits 2 with the usage error for a bad argument',
    async () => {
      const text = await cli('ask', 'summary 3650');
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('example.com');
      const bad = await cli('ask', 'ip 999.1.1.1');
      expect(bad.code).toBe(2);
      expect(bad.stdout).toContain('"999.1.1.1" is not an IPv4 or IPv6 address');
    },
    CLI_TEST_TIMEOUT,
  );

  it.each([
    // a command that reads the store refuses any bad setting
    ['summary', 'DMARC_STORE', 'mysql://nope'],
    // help reads only the locale and time zone, and refuses a bad one
    ['help', 'LOCALE', 'fr'],
    ['help', 'TZ', 'Mars/Phobos'],
  ])(
    '`ask %s` exits 1 naming %s when it is wrong',
    async (command, setting, value) => {
      const { code, stderr } = await run('node', ['src/bin.mjs', 'ask', command], {
        env: { PATH: process.env.PATH, [setting]: value },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(code).toBe(1);
      expect(stderr).toContain(`configuration: ${setting}: `);
      expect(stderr).toContain(value);
    },
    CLI_TEST_TIMEOUT,
  );

  it(
    '`ask help` answers in the LOCALE of the environment, whatever the store setting',
    async () => {
      const { stdout } = await run('node', ['src/bin.mjs', 'ask', 'help'], {
        env: { PATH: process.env.PATH, LOCALE: 'ja', DMARC_STORE: 'mysql://nope', NO_COLOR: '1' },
      });
      expect(stdout).toContain('/dmarc のコマンド');
    },
    CLI_TEST_TIMEOUT,
  );
});

describe('dmarc-bot digest', () => {
  it(
    'prints the digest since --since, remembers where it ended, and --dry-run changes nothing',
    async () => {
      const dry = await cli('digest', '--since', '2026-06-20T00:00:00Z', '--json', '--dry-run');
      expect(dry.code).toBe(0);
      const all = JSON.parse(dry.stdout);
      // google reports for 2026-06-19 .. 2026-06-29 arrive from 2026-06-20 on
      expect(all.received).toEqual({ aggregate: 11, failure: 0, tls: 0 });
      expect(await terminalDigestState()).toBeNull();

      const sent = await cli('digest', '--since', '2026-06-20T00:00:00Z', '--json');
      expect(JSON.parse(sent.stdout).received.aggregate).toBe(11);
      expect(await terminalDigestState()).toBe(JSON.parse(sent.stdout).until);
      // the next digest starts where that one ended: nothing new since
      const next = await cli('digest');
      expect(next.code).toBe(0);
      expect(next.stdout).toContain('DMARC digest: no new reports');

      const badSince = await cli('digest', '--since', 'last tuesday');
      expect(badSince.code).toBe(2);
      expect(badSince.stderr).toContain('"last tuesday" is not a time');
    },
    CLI_TEST_TIMEOUT,
  );
});
