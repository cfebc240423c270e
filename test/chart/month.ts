// A generated month for the chart tests: seeded, so every run draws the same data.

import { daysBetween, emptyCounts, CHART_CLASSES, type ChartSeries } from '../../src/chart/index.ts';
import { createRng } from '../../src/generate/prng.ts';

/** Typical magnitudes per class: most mail aligned, a few percent of each other class. */
const TYPICAL = {
  aligned: 900,
  forwarded: 80,
  'mailing-list': 50,
  'legitimate-failing': 120,
  unconfirmed: 60,
  spoofing: 150,
};

export function generatedMonth(seed: string, overrides: Partial<ChartSeries> = {}): ChartSeries {
  const rng = createRng(seed);
  const days = daysBetween('2026-11-01', '2026-11-30').map((day) => {
    const byClass = emptyCounts();
    for (const name of CHART_CLASSES) byClass[name] = rng.int(Math.round(TYPICAL[name] * 0.5), TYPICAL[name] * 2);
    const counted = byClass.aligned + byClass['legitimate-failing'] + byClass.unconfirmed + byClass['mailing-list'];
    return { day, byClass, passRate: byClass.aligned / counted };
  });
  return {
    domain: 'example.com',
    period: { from: '2026-11-01', to: '2026-11-30' },
    verdict: 'not ready to enforce',
    locale: 'en',
    thresholds: { quarantine: 0.95, reject: 0.99 },
    days,
    markers: [],
    ...overrides,
  };
}

/** Each class's share of all messages of the series. */
export function classShares(series: ChartSeries): Record<string, number> {
  const totals = emptyCounts();
  for (const day of series.days) for (const name of CHART_CLASSES) totals[name] += day.byClass[name];
  const all = CHART_CLASSES.reduce((sum, name) => sum + totals[name], 0);
  return Object.fromEntries(CHART_CLASSES.map((name) => [name, totals[name] / all]));
}
