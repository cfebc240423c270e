// The report head of a generated day summary: one report of a relaxed p=none policy covering the day.

import type { DaySummary } from '../../src/store/summary.ts';

export function summaryHead(domain: string, date: string, ingestedAt: string): DaySummary['reports'][number] {
  return {
    reportKey: `key-${date}`,
    orgName: 'reporter.example',
    orgEmail: null,
    reportId: `id-${date}`,
    begin: `${date}T00:00:00.000Z`,
    end: `${date}T23:59:59.000Z`,
    ingestedAt,
    policy: {
      domain,
      p: 'none',
      sp: null,
      np: null,
      pct: null,
      adkim: 'r',
      aspf: 'r',
      fo: null,
      testing: null,
    },
    messages: 0,
  } as DaySummary['reports'][number];
}
