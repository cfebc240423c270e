import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openLease } from '../../src/lease/index.ts';
import { openStore } from '../../src/store/index.ts';
import { startCli } from './run-cli.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmarc-ingest-lease-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('dmarc-bot ingest waits while another instance holds the store, then writes alone', async () => {
  const url = `sqlite://${join(dir, 'store.sqlite')}`;
  const bot = await openLease(url, { holder: 'bot:elsewhere:1', ttlMs: 3_000 });
  expect(await bot.tryAcquire()).toBe(true);
  // the other instance keeps renewing, as a running bot does (a loaded machine starts the CLI slowly)
  const renewing = setInterval(() => void bot.tryAcquire(), 500);
  const run = startCli(['ingest', 'test/fixtures/corpus/extract_report/nice-input.xml'], { DMARC_STORE: url });
  let stderr = '';
  run.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  while (!stderr.includes('waiting') && run.child.exitCode === null)
    await new Promise((resolve) => setTimeout(resolve, 50));
  // while the other instance holds the lease nothing is written
  await new Promise((resolve) => setTimeout(resolve, 500));
  const during = await openStore(url);
  expect(await during.domains()).toEqual([]);
  await during.close();
  clearInterval(renewing);
  await bot.release();
  const result = await run.done;
  expect(result.stderr).toContain('waiting up to 30 s for another dmarc-bot instance');
  expect(result.stdout.trim().split('\n').at(-1)).toBe('ingested 1 reports (0 duplicates, 0 errors)');
  expect(result.code).toBe(0);
  // and the ingest gave the lease back when it finished
  expect(await bot.tryAcquire()).toBe(true);
  await bot.close();
});
