// listInputs: files and folders walked in order, hidden entries skipped, mbox files split.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listInputs, readInputs, type Input } from '../../src/sources/files.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmarc-files-'));
  await mkdir(join(dir, 'b/nested'), { recursive: true });
  await mkdir(join(dir, '.hidden'));
  await writeFile(join(dir, 'a.xml'), 'A');
  await writeFile(join(dir, 'b/nested/c.xml'), 'C');
  await writeFile(join(dir, 'b/b.json'), 'B');
  await writeFile(join(dir, '.DS_Store'), 'junk');
  await writeFile(join(dir, '.hidden/secret.xml'), 'S');
  await writeFile(
    join(dir, 'box.mbox'),
    [
      'From sender@example.com Tue Apr 30 02:09:16 2019',
      'Subject: one',
      '',
      'first body',
      '>From the quoted line',
      '',
      'From other@example.com Tue Apr 30 02:09:17 2019',
      'Subject: two',
      '',
      'A paragraph whose next line is unquoted',
      'From here on: it stays in the message.',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'single.eml'), 'From sender@example.com Tue Apr 30 02:09:16 2019\nSubject: only\n\nbody\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(paths: string[]): Promise<Input[]> {
  const inputs: Input[] = [];
  for await (const input of listInputs(paths)) inputs.push(input);
  return inputs;
}

const text = (input: Input) => Buffer.from(input.bytes).toString('utf8');

describe('listInputs', () => {
  it('walks folders recursively in sorted order and skips hidden entries', async () => {
    const inputs = await collect([dir]);
    expect(inputs.map((input) => input.source.slice(dir.length + 1))).toEqual([
      'a.xml',
      'b/b.json',
      'b/nested/c.xml',
      'box.mbox#1',
      'box.mbox#2',
      'single.eml',
    ]);
    expect(text(inputs[0]!)).toBe('A');
  });

  it('splits an mbox into messages without the envelope line and unquotes ">From "', async () => {
    const [one, two] = await collect([join(dir, 'box.mbox')]);
    expect(text(one!)).toBe('Subject: one\n\nfirst body\nFrom the quoted line\n\n');
    expect(text(two!)).toBe(
      'Subject: two\n\nA paragraph whose next line is unquoted\nFrom here on: it stays in the message.\n',
    );
  });

  it('keeps the plain path for a file holding one message with an envelope line', async () => {
    const inputs = await readInputs(join(dir, 'single.eml'));
    expect(inputs.map((input) => input.source)).toEqual([join(dir, 'single.eml')]);
    expect(text(inputs[0]!)).toBe('Subject: only\n\nbody\n');
  });

  it('reads a hidden file when it is named on purpose', async () => {
    expect((await collect([join(dir, '.DS_Store')])).map(text)).toEqual(['junk']);
  });

  it('throws for a missing path, or reports it to onError and goes on', async () => {
    await expect(collect([join(dir, 'missing')])).rejects.toThrow(/ENOENT/);
    const failed: string[] = [];
    const inputs: Input[] = [];
    for await (const input of listInputs([join(dir, 'missing'), join(dir, 'a.xml')], {
      onError: (source) => failed.push(source),
    }))
      inputs.push(input);
    expect(failed).toEqual([join(dir, 'missing')]);
    expect(inputs.map(text)).toEqual(['A']);
  });
});
