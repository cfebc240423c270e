// A real SQLite ReportStore in a temp folder, for the PTR-cache tests.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';

export async function openStateStore(): Promise<{ store: ReportStore; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-state-'));
  const store = await openStore(`sqlite://${join(dir, 'state.sqlite')}`);
  return {
    store,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
