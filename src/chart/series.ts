// The data a trend chart shows: one domain over a run of UTC days. Plain data, built by the insight
// layer and drawn by render.ts; nothing here knows about the store or about chart.js.

import type { Locale } from '../i18n/index.ts';

/** The source classes, bottom of the stack first: the good mail sits on the axis. */
export const CHART_CLASSES = [
  'aligned',
  'forwarded',
  'mailing-list',
  'legitimate-failing',
  'unconfirmed',
  'spoofing',
] as const;

export type ChartClass = (typeof CHART_CLASSES)[number];

export type ClassCounts = Record<ChartClass, number>;

export interface ChartDay {
  /** a UTC day, YYYY-MM-DD */
  day: string;
  /** messages of the day per class */
  byClass: ClassCounts;
  /** share 0..1 of the day's counted messages that pass DMARC; null on a day without data */
  passRate: number | null;
}

export type ChartMarkerKind = 'policy-change' | 'new-sender';

export interface ChartMarker {
  day: string;
  kind: ChartMarkerKind;
  /** a short label drawn beside the marker line (e.g. "p=none → p=quarantine", a sender name) */
  label: string;
}

export interface ChartSeries {
  domain: string;
  period: { from: string; to: string };
  /** the readiness verdict in words, in the series' locale */
  verdict: string;
  locale: Locale;
  /** pass-rate shares 0..1 the readiness checks use (READY_QUARANTINE/REJECT_PASS_RATE) */
  thresholds: { quarantine: number; reject: number };
  /** one entry per day of the period, oldest first, days without data included */
  days: ChartDay[];
  markers: ChartMarker[];
}

export function emptyCounts(): ClassCounts {
  return { aligned: 0, forwarded: 0, 'mailing-list': 0, 'legitimate-failing': 0, unconfirmed: 0, spoofing: 0 };
}

export function dayTotal(day: ChartDay): number {
  let total = 0;
  for (const name of CHART_CLASSES) total += day.byClass[name];
  return total;
}

/** Every UTC day from `from` to `to` inclusive (YYYY-MM-DD), at most `limit` of them. */
export function daysBetween(from: string, to: string, limit = MAX_CHART_DAYS): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) return [];
  const days: string[] = [];
  for (let time = start; time <= end && days.length < limit; time += 86_400_000) {
    days.push(new Date(time).toISOString().slice(0, 10));
  }
  return days;
}

/** Longer series become unreadable at chat size; the builder and the renderer both stop here. */
export const MAX_CHART_DAYS = 366;
const MAX_MARKERS = 40;
const MAX_LABEL = 60;
const MAX_TEXT = 120;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0
    ? Math.min(Math.round(value), Number.MAX_SAFE_INTEGER)
    : 0;
const share = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : null;
const text = (value: unknown, max: number): string => {
  const plain = typeof value === 'string' ? value.replace(/[\u0000-\u001f\u007f]/g, ' ') : '';
  return plain.length > max ? `${plain.slice(0, max - 1)}…` : plain;
};

/**
 * The series as the renderer may trust it: counts are safe non-negative integers, shares within
 * 0..1, days well-formed and in order, texts short, markers only on days of the series.
 */
export function sanitiseSeries(series: ChartSeries): ChartSeries {
  const days: ChartDay[] = [];
  let previous = '';
  for (const day of series.days) {
    if (days.length >= MAX_CHART_DAYS) break;
    if (typeof day?.day !== 'string' || !DAY.test(day.day) || day.day <= previous) continue;
    previous = day.day;
    const byClass = emptyCounts();
    for (const name of CHART_CLASSES) {
      if (day.byClass && Object.prototype.hasOwnProperty.call(day.byClass, name))
        byClass[name] = count(day.byClass[name]);
    }
    days.push({ day: day.day, byClass, passRate: share(day.passRate) });
  }
  const known = new Set(days.map((day) => day.day));
  const markers = series.markers
    .filter((marker) => known.has(marker.day) && (marker.kind === 'policy-change' || marker.kind === 'new-sender'))
    .slice(0, MAX_MARKERS)
    .map((marker) => ({ day: marker.day, kind: marker.kind, label: text(marker.label, MAX_LABEL) }));
  const quarantine = share(series.thresholds.quarantine) ?? 0.95;
  const reject = share(series.thresholds.reject) ?? 0.99;
  return {
    domain: text(series.domain, MAX_TEXT),
    period: { from: text(series.period.from, 10), to: text(series.period.to, 10) },
    verdict: text(series.verdict, MAX_TEXT),
    locale: series.locale === 'ja' ? 'ja' : 'en',
    thresholds: { quarantine, reject },
    days,
    markers,
  };
}
