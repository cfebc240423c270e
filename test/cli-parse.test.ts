// `dmarc-bot parse` as a user runs it: a child process on a temporary folder.

import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateXml, mail } from './fixtures/build.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const bin = join(root, 'src/bin.mjs');
const corpus = join(root, 'test/fixtures/corpus');

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmarc-parse-'));
  await writeFile(
    join(dir, 'good.xml'),
    aggregateXml({
      reportId: 'cli-1',
      records: [
        { ip: '192.0.2.1', count: 3, dkim: 'pass' },
        { ip: '192.0.2.2', count: 2 },
      ],
    }),
  );
  await writeFile(join(dir, 'bad.xml'), '<?xml version="1.0"?><rss/>');
  await copyFile(join(corpus, 'smtp_tls/rfc8460.json'), join(dir, 'tls.json'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function parse(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'parse', ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map(
      (line) =>
        JSON.parse(line) as {
          source: string;
          report?: { kind: string; reportId?: string; records?: unknown[] };
          error?: string;
        },
    );

describe('dmarc-bot parse', () => {
  it('prints one JSON line per report or refused input, and exits 1 when an input held no report', async () => {
    const { code, stdout } = await parse(['--json', dir]);
    expect(code).toBe(1);
    const output = lines(stdout);
    expect(output.map((line) => [line.source.slice(dir.length + 1), line.report?.kind ?? 'error'])).toEqual([
      ['bad.xml', 'error'],
      ['good.xml', 'aggregate'],
      ['tls.json', 'tls'],
    ]);
    expect(output[0]!.error).toContain('bad.xml');
    expect(output[0]!.error).toContain('<rss>');
    expect(output[1]!.report!.reportId).toBe('cli-1');
    expect(output[1]!.report!.records).toHaveLength(2);
  });

  it('exits 0 when every input held a report', async () => {
    const { code, stdout } = await parse(['--json', join(dir, 'good.xml'), join(dir, 'tls.json')]);
    expect(code).toBe(0);
    expect(lines(stdout)).toHaveLength(2);
  });

  it('prints a short human summary without --json', async () => {
    const { code, stdout } = await parse([join(dir, 'good.xml')]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/aggregate example\.com .*cli-1.*2 records, 5 messages, 3 DMARC pass/);
  });

  it('lists a refused part next to the reports of the same mail, and still exits 0', async () => {
    const raw = mail({
      subject: 'Two parts',
      parts: [
        { contentType: 'text/xml', filename: 'ok.xml', content: aggregateXml({ reportId: 'in-mail' }) },
        {
          contentType: 'application/gzip',
          filename: 'broken.xml.gz',
          content: Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]),
        },
      ],
    });
    const path = join(dir, 'mixed.eml');
    await writeFile(path, raw);
    try {
      const { code, stdout } = await parse(['--json', path]);
      expect(code).toBe(0);
      const output = lines(stdout);
      expect(output.map((line) => (line.report ? line.report.reportId : 'error'))).toEqual(['in-mail', 'error']);
      expect(output[1]!.error).toContain('broken.xml.gz');
    } finally {
      await rm(path);
    }
  });

  it('prints the same report for plain XML (read in its own thread) and for the same XML gzipped (read in the worker)', async () => {
    const xml = aggregateXml({
      reportId: 'both-ways',
      records: [
        { ip: '2001:DB8::1', count: 4, dkim: 'pass' },
        { ip: '::ffff:192.0.2.9', count: 1 },
      ],
    });
    await writeFile(join(dir, 'twice.xml.gz'), gzipSync(xml));
    try {
      const plain = join(dir, 'twice.xml');
      await writeFile(plain, xml);
      const [inThread, inWorker] = await Promise.all([
        parse(['--json', plain]),
        parse(['--json', join(dir, 'twice.xml.gz')]),
      ]);
      expect(inThread.code).toBe(0);
      expect(inWorker.code).toBe(0);
      const [a, b] = [lines(inThread.stdout), lines(inWorker.stdout)];
      expect(a[0]!.report!.reportId).toBe('both-ways');
      expect(a.map((line) => line.report)).toEqual(b.map((line) => line.report));
    } finally {
      await rm(join(dir, 'twice.xml'), { force: true });
      await rm(join(dir, 'twice.xml.gz'), { force: true });
    }
  });

  it('reports a missing path, goes on with the others, and exits 1', async () => {
    const { code, stdout } = await parse(['--json', join(dir, 'nope.xml'), join(dir, 'good.xml')]);
    expect(code).toBe(1);
    const output = lines(stdout);
    expect(output[0]!.source).toBe(join(dir, 'nope.xml'));
    expect(output[0]!.error).toMatch(/ENOENT|no such file/);
    expect(output[1]!.report?.reportId).toBe('cli-1');
  });

  it('refuses to run without a path (usage error, exit 2)', async () => {
    const { code, stderr } = await parse(['--json']);
    expect(code).toBe(2);
    expect(stderr).toBe('dmarc-bot parse: give at least one PATH (see dmarc-bot parse --help)\n');
  });
});
