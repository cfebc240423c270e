// getState/setState over a real keyv SQLite file, for tests of the PTR cache. (Only the two
// state methods of ReportStore are needed here.)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import type { ReportStore } from '../../src/store/types.ts';

export async function openStateStore(): Promise<{ store: Pick<ReportStore, 'getState' | 'setState'>; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-state-'));
  const keyv = new Keyv({ store: new KeyvSqlite(`sqlite://${join(dir, 'state.sqlite')}`), namespace: 'dmarc' });
  return {
    store: {
      getState: async <T,>(name: string) => (await keyv.get(`state:${name}`)) as T | undefined,
      setState: async <T,>(name: string, value: T, ttlMs?: number) => {
        await keyv.set(`state:${name}`, value, ttlMs);
      },
    },
    close: async () => {
      await keyv.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
