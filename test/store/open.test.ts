import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { freePort } from '../support/ports.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmarc-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openStore', () => {
  it('creates the folder of a SQLite store on first use', async () => {
    const path = join(dir, 'nested', 'deeper', 'dmarc.sqlite');
    const store = await openStore(`sqlite://${path}`);
    await store.setState('x', 1);
    await store.close();
    expect(existsSync(path)).toBe(true);
  });

  it('names the store and the cause when it cannot open', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    await expect(openStore(`sqlite://${join(file, 'dmarc.sqlite')}`)).rejects.toThrow(/SQLite store .*a-file/);
    await expect(openStore('mysql://db.internal/dmarc')).rejects.toThrow(
      /unsupported store URL mysql:\/\/db.internal\/dmarc/,
    );
    const port = await freePort();
    await expect(openStore(`postgres://postgres:hunter2@127.0.0.1:${port}/dmarc`)).rejects.toThrow(
      new RegExp(`cannot reach the PostgreSQL store postgres://postgres:\\*\\*\\*@127.0.0.1:${port}/dmarc`),
    );
  });
});
