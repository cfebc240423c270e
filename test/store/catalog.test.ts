import { describe, expect, it } from 'vitest';
import { emptyCatalog, mergeCatalogs } from '../../src/store/contributions.ts';
import type { CatalogDoc } from '../../src/store/types.ts';

const catalog = (patch: Partial<CatalogDoc>): CatalogDoc => ({ ...emptyCatalog(), ...patch });

describe('mergeCatalogs', () => {
  it('unites the day ranges, log days and index months of two writers', () => {
    const ours = catalog({
      domains: { 'a.example': { firstDay: '2024-03-01', lastDay: '2024-03-10' } },
      logFirstDay: '2024-04-01',
      logLastDay: '2024-04-02',
      ipMonths: ['2024-03'],
    });
    const theirs = catalog({
      domains: {
        'a.example': { firstDay: '2024-02-20', lastDay: '2024-03-05' },
        'b.example': { firstDay: '2024-05-01', lastDay: '2024-05-01' },
      },
      logFirstDay: '2024-04-03',
      logLastDay: '2024-04-03',
      ipMonths: ['2024-02', '2024-05'],
    });
    const merged = mergeCatalogs(ours, theirs);
    expect(merged.domains).toEqual({
      'a.example': { firstDay: '2024-02-20', lastDay: '2024-03-10' },
      'b.example': { firstDay: '2024-05-01', lastDay: '2024-05-01' },
    });
    expect([merged.logFirstDay, merged.logLastDay]).toEqual(['2024-04-01', '2024-04-03']);
    expect(merged.ipMonths).toEqual(['2024-02', '2024-03', '2024-05']);
    // Inputs are left as they were.
    expect(ours.domains['a.example']).toEqual({ firstDay: '2024-03-01', lastDay: '2024-03-10' });
  });

  it('cuts a stale copy at the later prune cut-off instead of bringing pruned days back', () => {
    const stale = catalog({
      domains: {
        old: { firstDay: '2023-01-01', lastDay: '2023-06-01' },
        both: { firstDay: '2023-01-01', lastDay: '2024-06-01' },
      },
      logFirstDay: '2023-01-01',
      logLastDay: '2023-02-01',
      ipMonths: ['2023-01', '2024-05'],
    });
    const pruned = catalog({
      domains: { both: { firstDay: '2024-01-01', lastDay: '2024-06-01' } },
      prunedBefore: '2024-01-01',
      ipMonths: ['2024-05'],
    });
    const merged = mergeCatalogs(stale, pruned);
    expect(merged.domains).toEqual({ both: { firstDay: '2024-01-01', lastDay: '2024-06-01' } });
    expect([merged.logFirstDay, merged.logLastDay]).toEqual([null, null]);
    expect(merged.ipMonths).toEqual(['2024-05']);
    expect(merged.prunedBefore).toBe('2024-01-01');
  });
});
