// A child `dmarc-bot ingest FOLDER` killed with SIGKILL at several moments, then run to the end,
// leaves exactly the store of one clean run: nothing lost, nothing counted twice.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportMailBacklog } from '../../src/generate/index.ts';
import { openStore } from '../../src/store/index.ts';
import { runCli, startCli } from './run-cli.ts';
import { storeTotals, type StoreTotals } from './totals.ts';

const MAILS = 600;
let folder: string;
let oneMailFolder: string;
let expectedReports = 0;

function storeUrl(): string {
  return `sqlite://${join(mkdtempSync(join(tmpdir(), 'dmarc-crash-')), 'store.sqlite')}`;
}

async function totalsOf(url: string): Promise<StoreTotals> {
  const store = await openStore(url);
  try {
    return await storeTotals(store);
  } finally {
    await store.close();
  }
}

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'dmarc-backlog-'));
  oneMailFolder = mkdtempSync(join(tmpdir(), 'dmarc-one-'));
  for (const mail of reportMailBacklog({ seed: 'crash-test', count: MAILS, minRecords: 1, maxRecords: 120 })) {
    writeFileSync(join(folder, mail.name), mail.raw);
    if (expectedReports === 0) writeFileSync(join(oneMailFolder, mail.name), mail.raw);
    expectedReports += mail.reports;
  }
});

describe('ingest killed with SIGKILL', () => {
  it(
    'ends with the totals of one clean run after being killed at several points and run again',
    { timeout: 600_000 },
    async () => {
      // the start-up with one mail, so that the kills land in the work and not before it
      const startupStarted = Date.now();
      expect((await runCli(['ingest', oneMailFolder], { DMARC_STORE: storeUrl() })).code).toBe(0);
      const startupMs = Date.now() - startupStarted;
      const cleanUrl = storeUrl();
      const cleanStarted = Date.now();
      const clean = await runCli(['ingest', folder], { DMARC_STORE: cleanUrl });
      const cleanMs = Date.now() - cleanStarted;
      expect(clean.code).toBe(0);
      expect(clean.stdout).toContain(`ingested ${expectedReports} reports (0 duplicates, 0 errors)`);
      const expected = await totalsOf(cleanUrl);
      expect(expected.reports).toHaveLength(expectedReports);

      const url = storeUrl();
      const killedAt: number[] = [];
      // kill points as shares of a clean run's work on this machine, so that a faster ingest is still
      // hit in the middle; each run after a kill has less left to do, so the later ones may miss
      const workMs = Math.max(200, cleanMs - startupMs);
      for (const share of [0.1, 0.2, 0.25, 0.3, 0.5]) {
        const afterMs = Math.round(startupMs + workMs * share);
        const run = startCli(['ingest', folder], { DMARC_STORE: url });
        const timer = setTimeout(() => run.child.kill('SIGKILL'), afterMs);
        const result = await run.done;
        clearTimeout(timer);
        if (result.signal === 'SIGKILL') killedAt.push(afterMs);
      }
      // the later kills may come after a run that already finished; the early ones must have hit
      expect(killedAt.length).toBeGreaterThanOrEqual(2);

      const last = await runCli(['ingest', folder], { DMARC_STORE: url });
      expect(last.code).toBe(0);
      expect(await totalsOf(url)).toEqual(expected);
    },
  );
});
