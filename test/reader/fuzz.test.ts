// Fuzzing the reader over the real-world corpus with a fixed seed: bytes flipped, cut, duplicated,
// tags repeated. Whatever comes in, the reader settles with reports or named errors, and the data
// never reaches Object.prototype.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../../src/generate/index.ts';
import { closeBoundedReader, readReportsBounded } from '../../src/reader/bounded.ts';
import { ReportReadError, type ReadErrorCode } from '../../src/reader/index.ts';

const corpus = join(import.meta.dirname, '../fixtures/corpus');
const codes: readonly ReadErrorCode[] = [
  'empty',
  'not-a-report',
  'too-large',
  'bad-gzip',
  'bad-zip',
  'too-many-entries',
  'too-deep',
  'bad-xml',
  'xml-entities',
  'bad-json',
  'bad-mail',
  'deadline',
  'memory-limit',
  'too-many-parts',
  'header-too-large',
  'bad-date',
  'bad-count',
  'field-too-long',
];

afterAll(() => closeBoundedReader());

function files(dir = corpus): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]))
    .filter((path) => !path.endsWith('README.md'));
}

const mutations: Array<[string, (bytes: Buffer, rng: Rng) => Buffer]> = [
  [
    'flip bytes',
    (bytes, rng) => {
      const out = Buffer.from(bytes);
      for (let i = rng.int(1, 20); i > 0 && out.length > 0; i--) out[rng.int(0, out.length - 1)] = rng.int(0, 255);
      return out;
    },
  ],
  ['truncate', (bytes, rng) => bytes.subarray(0, rng.int(0, bytes.length))],
  [
    'duplicate a stretch',
    (bytes, rng) => {
      const start = rng.int(0, bytes.length);
      const end = Math.min(bytes.length, start + rng.int(1, 4000));
      return Buffer.concat([bytes.subarray(0, end), bytes.subarray(start, end), bytes.subarray(end)]);
    },
  ],
  [
    'repeat a tag',
    (bytes, rng) => {
      const text = bytes.toString('latin1');
      const tags = [...text.matchAll(/<([a-z_]+)>/g)];
      if (tags.length === 0) return Buffer.from(text.replace(/\n/, '\n\n'), 'latin1');
      const tag = rng.pick(tags);
      const copy = `<${tag[1]}>`.repeat(rng.int(1, 3));
      return Buffer.from(text.slice(0, tag.index) + copy + text.slice(tag.index), 'latin1');
    },
  ],
  [
    'drop a stretch',
    (bytes, rng) => {
      const start = rng.int(0, bytes.length);
      return Buffer.concat([bytes.subarray(0, start), bytes.subarray(Math.min(bytes.length, start + rng.int(1, 200)))]);
    },
  ],
  [
    'swap in a hostile value',
    (bytes, rng) => {
      const text = bytes.toString('latin1');
      const value = rng.pick([
        '__proto__',
        'constructor',
        '1e400',
        '9'.repeat(400),
        '\x1b[2J',
        '-1',
        '010.000.000.001',
      ]);
      return Buffer.from(text.replace(/>[^<>\n]{1,40}</, `>${value}<`), 'latin1');
    },
  ],
];

describe('fuzzing the corpus (fixed seed)', () => {
  it('always settles with reports or named errors, and never pollutes Object.prototype', async () => {
    const rng = createRng('corpus-fuzz-1');
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    let inputs = 0;
    let withReports = 0;
    for (const path of files()) {
      const bytes = readFileSync(path);
      for (const [name, mutate] of mutations) {
        const mutated = mutate(bytes, rng.fork(`${path}:${name}`));
        const source = `${relative(corpus, path)} (${name})`;
        const outcome = await readReportsBounded(mutated, { source, deadlineMs: 15_000 });
        inputs++;
        if (outcome.reports.length > 0) withReports++;
        expect(outcome.reports.length + outcome.errors.length, source).toBeGreaterThan(0);
        for (const error of outcome.errors) {
          expect(error, source).toBeInstanceOf(ReportReadError);
          expect(codes, source).toContain(error.code);
        }
        for (const report of outcome.reports) {
          if (report.kind !== 'aggregate') continue;
          for (const record of report.records) expect(Number.isSafeInteger(record.count), source).toBe(true);
          expect(Date.parse(report.end), source).toBeLessThan(Date.now() + 8 * 86_400_000);
        }
      }
    }
    expect(inputs).toBe(files().length * mutations.length);
    // the mutations leave many files readable: a reader that refused everything would fail here
    expect(withReports).toBeGreaterThan(inputs / 4);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
  }, 300_000);
});
