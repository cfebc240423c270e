import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reportMailBacklog } from '../../src/generate/backlog.ts';
import { readReports } from '../../src/reader/index.ts';
import type { AggregateReport } from '../../src/model.ts';

function digest(seed: number | string, count: number): string[] {
  return Array.from(
    reportMailBacklog({ seed, count }),
    (m) => `${m.name} ${createHash('sha256').update(m.raw).digest('hex')}`,
  );
}

describe('reportMailBacklog', () => {
  it('is deterministic for a seed and different for another seed', () => {
    const a = digest(1, 30);
    expect(digest(1, 30)).toEqual(a);
    expect(digest(2, 30)).not.toEqual(a);
    expect(new Set(a).size).toBe(30);
  });

  it('is lazy: a huge count yields its first mails without building the rest', () => {
    const backlog = reportMailBacklog({ seed: 3, count: 1_000_000_000 });
    const first = backlog.next();
    expect(first.done).toBe(false);
    expect(backlog.next().done).toBe(false);
    backlog.return(undefined);
  });

  it('produces mails the reader reads, with the stated counts, distinct reports, a zip/gzip/xml mix and skewed sizes', async () => {
    const seen = new Set<string>();
    const containers = new Map<string, number>();
    const sizes: number[] = [];
    for (const mail of reportMailBacklog({ seed: 'mix', count: 200, minRecords: 1, maxRecords: 500 })) {
      const { reports, errors } = await readReports(mail.raw, { source: mail.name });
      expect(errors).toEqual([]);
      expect(reports).toHaveLength(mail.reports);
      const aggregates = reports as AggregateReport[];
      expect(aggregates.reduce((n, r) => n + r.records.length, 0)).toBe(mail.records);
      for (const r of aggregates) {
        expect(r.records.length).toBeGreaterThanOrEqual(1);
        expect(r.records.length).toBeLessThanOrEqual(500);
        const key = `${r.orgName}|${r.reportId}|${r.policy.domain}|${r.begin}|${r.end}`;
        expect(seen.has(key), key).toBe(false);
        seen.add(key);
        sizes.push(r.records.length);
      }
      const kind =
        /Content-Type: (application\/zip|application\/gzip|text\/xml);/.exec(mail.raw.toString('latin1'))?.[1] ??
        'none';
      containers.set(kind, (containers.get(kind) ?? 0) + 1);
    }
    expect([...containers.keys()].sort()).toEqual(['application/gzip', 'application/zip', 'text/xml']);
    sizes.sort((a, b) => a - b);
    // skewed: the median report is small, the largest are big
    expect(sizes[Math.floor(sizes.length / 2)]!).toBeLessThanOrEqual(20);
    expect(sizes.at(-1)!).toBeGreaterThan(100);
  });

  it('keeps report sizes within the asked bounds', () => {
    for (const mail of reportMailBacklog({ seed: 'bounds', count: 50, minRecords: 5, maxRecords: 8 })) {
      expect(mail.records).toBeGreaterThanOrEqual(5 * mail.reports);
      expect(mail.records).toBeLessThanOrEqual(8 * mail.reports);
    }
  });

  it('refuses impossible bounds with a clear message', () => {
    expect(() => reportMailBacklog({ seed: 1, count: 1, minRecords: 10, maxRecords: 5 }).next()).toThrow(
      /minRecords.*10\.\.5/,
    );
  });
});
