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
  for (const mail of reportMailBacklog({ seed: 'crash-test', count: MAILS, minRecords: 1, maxRecords: 120 })) {
    writeFileSync(join(folder, mail.name), mail.raw);
    expectedReports += mail.reports;
  }
});

describe('ingest killed with SIGKILL', () => {
  it(
    'ends with the totals of one clean run after being killed at several points and run again',
    { timeout: 600_000 },
    async () => {
      const cleanUrl = storeUrl();
      const clean = await runCli(['ingest', folder], { DMARC_STORE: cleanUrl });
      expect(clean.code).toBe(0);
      expect(clean.stdout).toContain(`ingested ${expectedReports} reports (0 duplicates, 0 errors)`);
      const expected = await totalsOf(cleanUrl);
      expect(expected.reports).toHaveLength(expectedReports);

      const url = storeUrl();
      const killedAt: number[] = [];
      for (const afterMs of [300, 1000, 2000, 3500, 5000]) {
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
