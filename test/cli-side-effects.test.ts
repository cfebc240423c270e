// Commands that only answer or check write nothing: run in an empty working folder with the
// default store (sqlite://./data/dmarc.sqlite), no file or folder may appear there.

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = join(process.cwd(), 'src/bin.mjs');
// each run starts node with tsx: slow on a busy two-core machine
const TIMEOUT = 120_000;

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'dmarc-quiet-'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [bin, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      LOG_LEVEL: 'silent',
      DNS_SERVERS: '127.0.0.1:9',
      DNS_TIMEOUT_MS: '200',
      ...env,
    },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

it(
  '`help` and `ask help` create no store',
  async () => {
    expect((await cli(['help'])).code).toBe(0);
    const askHelp = await cli(['ask', 'help']);
    expect(askHelp.code).toBe(0);
    expect(askHelp.stdout).toContain('/dmarc ready');
    expect(readdirSync(cwd)).toEqual([]);
  },
  TIMEOUT,
);

it(
  '`doctor` checks a store that does not exist yet without creating it or its folder',
  async () => {
    const result = await cli(['doctor'], { DMARC_STORE: 'sqlite://./state/deep/dmarc.sqlite' });
    expect(result.stdout).toMatch(/^ok\s+store\s.*does not exist yet/m);
    expect(readdirSync(cwd)).toEqual([]);
  },
  TIMEOUT,
);

it(
  'a refused `ingest --imap` opens no store and prunes nothing',
  async () => {
    const result = await cli(['ingest', '--imap'], { RETENTION_DAYS: '30' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--imap needs IMAP_HOST, IMAP_USER and IMAP_PASSWORD');
    expect(readdirSync(cwd)).toEqual([]);
  },
  TIMEOUT,
);
