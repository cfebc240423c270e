// Draws a ChartSeries as a PNG: daily messages stacked by class on the left axis, the pass rate as a
// line on a right axis 0-100 %, the readiness thresholds as dashed lines, and vertical markers for
// policy changes and new senders. chart.js lays out and draws the chart on a Skia canvas
// (@napi-rs/canvas); thresholds and markers are drawn with the canvas API in a small plugin.

import { createCanvas, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration, type ChartItem, type Plugin } from 'chart.js';
import { createTranslator, type MessageKey, type Translator } from '../i18n/index.ts';
import { CHART_COLOURS, CLASS_COLOURS } from './colours.ts';
import { CHART_FONT_FAMILY, registerChartFont } from './fonts.ts';
import { CHART_CLASSES, sanitiseSeries, type ChartMarker, type ChartSeries } from './series.ts';

export interface ChartRenderOptions {
  /** CSS pixels; at least 640 (smaller asks are raised to it) */
  width?: number;
  /** CSS pixels; at least 320 */
  height?: number;
  /** device pixels per CSS pixel (2 for HiDPI chat clients) */
  scale?: number;
}

export const MIN_CHART_WIDTH = 640;
export const MIN_CHART_HEIGHT = 320;
const MAX_CHART_SIDE = 2000;
const DEFAULT_SCALE = 2;

let chartJsReady = false;
function prepare(): void {
  registerChartFont();
  if (chartJsReady) return;
  Chart.register(...registerables);
  chartJsReady = true;
}

const clamp = (value: number | undefined, min: number, max: number, fallback: number) =>
  typeof value === 'number' && Number.isFinite(value) ? Math.min(Math.max(Math.round(value), min), max) : fallback;

function sizeOf(options: ChartRenderOptions, minHeight = MIN_CHART_HEIGHT) {
  return {
    width: clamp(options.width, MIN_CHART_WIDTH, MAX_CHART_SIDE, MIN_CHART_WIDTH),
    height: clamp(options.height, minHeight, MAX_CHART_SIDE, Math.max(minHeight, MIN_CHART_HEIGHT)),
    scale: clamp(options.scale, 1, 3, DEFAULT_SCALE),
  };
}

const font = (size: number) => ({ family: CHART_FONT_FAMILY, size, weight: 'normal' as const });

/** Short day labels for the axis ("Nov 3", "11月3日"); the title uses the translator's long form. */
function shortDays(locale: string) {
  const format = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', month: 'short', day: 'numeric' });
  return (day: string) => {
    const time = Date.parse(`${day}T00:00:00Z`);
    return Number.isNaN(time) ? day : format.format(time);
  };
}

export function chartTitle(series: ChartSeries, t: Translator): string {
  return t.t('chart.title', {
    domain: series.domain,
    from: t.day(series.period.from),
    to: t.day(series.period.to),
    verdict: series.verdict,
  });
}

/** One marker line per day and kind; several labels of a day are joined. */
function mergeMarkers(markers: ChartMarker[]): ChartMarker[] {
  const merged = new Map<string, ChartMarker>();
  for (const marker of markers) {
    const key = `${marker.day} ${marker.kind}`;
    const seen = merged.get(key);
    if (seen) seen.label = `${seen.label}, ${marker.label}`;
    else merged.set(key, { ...marker });
  }
  return [...merged.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

function fitText(ctx: SKRSContext2D, text: string, maxWidth: number): string {
  if (ctx.measureText(text).width <= maxWidth) return text;
  let end = text.length;
  while (end > 1 && ctx.measureText(`${text.slice(0, end)}…`).width > maxWidth) end -= 1;
  return `${text.slice(0, end)}…`;
}

interface OverlayOptions {
  thresholds: ChartSeries['thresholds'];
  markers: ChartMarker[];
  dayIndex: Map<string, number>;
  t: Translator;
  fontSize: number;
  labels: boolean;
}

/** Threshold lines and markers, drawn over the bars and under nothing else. */
function overlayPlugin(overlay: OverlayOptions): Plugin<'bar' | 'line'> {
  return {
    id: 'dmarcOverlay',
    afterDatasetsDraw(chart) {
      const ctx = chart.ctx as unknown as SKRSContext2D;
      const area = chart.chartArea;
      const x = chart.scales.x;
      const rate = chart.scales.rate;
      if (!x || !rate) return;
      ctx.save();
      ctx.font = `${overlay.fontSize}px "${CHART_FONT_FAMILY}"`;
      ctx.lineWidth = 1.5;

      const thresholds: Array<{ share: number; colour: string; key: MessageKey; above: boolean }> = [
        { share: overlay.thresholds.reject, colour: CHART_COLOURS.reject, key: 'chart.threshold.reject', above: true },
        {
          share: overlay.thresholds.quarantine,
          colour: CHART_COLOURS.quarantine,
          key: 'chart.threshold.quarantine',
          above: false,
        },
      ];
      for (const threshold of thresholds) {
        const y = rate.getPixelForValue(threshold.share * 100);
        ctx.strokeStyle = threshold.colour;
        ctx.setLineDash([6, 4]);
        ctx.beginPath();
        ctx.moveTo(area.left, y);
        ctx.lineTo(area.right, y);
        ctx.stroke();
        if (overlay.labels) {
          ctx.setLineDash([]);
          ctx.fillStyle = threshold.colour;
          ctx.textAlign = 'right';
          ctx.textBaseline = threshold.above ? 'bottom' : 'top';
          const label = overlay.t.t(threshold.key, { percent: overlay.t.percent(threshold.share) });
          ctx.fillText(label, area.right - 4, threshold.above ? y - 2 : y + 2);
        }
      }

      // Labels take the first of three rows where they do not overlap the previous label.
      const rowsEnd = [-Infinity, -Infinity, -Infinity];
      const rowHeight = overlay.fontSize + 3;
      for (const marker of overlay.markers) {
        const index = overlay.dayIndex.get(marker.day);
        if (index === undefined) continue;
        // The line sits at the start of the day: the new policy or sender counts from that bar on.
        const centre = x.getPixelForValue(index);
        const half = overlay.dayIndex.size > 1 ? Math.abs(x.getPixelForValue(1) - x.getPixelForValue(0)) / 2 : 0;
        const lineX = Math.round(centre - half) + 0.5;
        const colour = marker.kind === 'policy-change' ? CHART_COLOURS.policyChange : CHART_COLOURS.newSender;
        ctx.strokeStyle = colour;
        ctx.setLineDash(marker.kind === 'policy-change' ? [] : [2, 3]);
        ctx.beginPath();
        ctx.moveTo(lineX, area.top);
        ctx.lineTo(lineX, area.bottom);
        ctx.stroke();
        if (!overlay.labels) continue;
        const prefix = overlay.t.t(marker.kind === 'policy-change' ? 'chart.marker.policy' : 'chart.marker.newSender');
        const label = fitText(ctx, `${prefix} ${marker.label}`, Math.max(60, area.right - lineX - 4));
        const width = ctx.measureText(label).width;
        const row = rowsEnd.findIndex((end) => lineX + 3 > end + 6);
        if (row < 0) continue;
        rowsEnd[row] = lineX + 3 + width;
        const top = area.top + 2 + row * rowHeight;
        ctx.fillStyle = 'rgba(255,255,255,0.85)';
        ctx.fillRect(lineX + 2, top - 1, width + 2, rowHeight);
        ctx.fillStyle = colour;
        ctx.textAlign = 'left';
        ctx.textBaseline = 'top';
        ctx.fillText(label, lineX + 3, top);
      }
      ctx.restore();
    },
  };
}

const whiteBackground: Plugin<'bar' | 'line'> = {
  id: 'dmarcBackground',
  beforeDraw(chart) {
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = CHART_COLOURS.background;
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

interface DrawOptions {
  compact: boolean;
  title: string;
}

/** Draws the series with chart.js onto `canvas` (CSS size width x height at `scale`). */
function drawSeries(canvas: Canvas, series: ChartSeries, t: Translator, scale: number, draw: DrawOptions): Chart {
  const shortDay = shortDays(series.locale);
  const dayIndex = new Map(series.days.map((day, index) => [day.day, index]));
  const fontSize = draw.compact ? 10 : 11;
  const datasets: ChartConfiguration<'bar' | 'line'>['data']['datasets'] = CHART_CLASSES.map((name) => ({
    type: 'bar' as const,
    label: t.t(`chart.class.${name}`),
    data: series.days.map((day) => day.byClass[name]),
    backgroundColor: CLASS_COLOURS[name],
    borderWidth: 0,
    stack: 'messages',
    yAxisID: 'messages',
    barPercentage: 0.9,
    categoryPercentage: 0.9,
    order: 2,
  }));
  datasets.push({
    type: 'line' as const,
    label: t.t('chart.passRate'),
    data: series.days.map((day) => (day.passRate === null ? null : day.passRate * 100)),
    borderColor: CHART_COLOURS.passRate,
    backgroundColor: CHART_COLOURS.passRate,
    borderWidth: 2,
    pointRadius: series.days.length > 45 ? 0 : 2,
    spanGaps: false,
    yAxisID: 'rate',
    order: 1,
  });

  const config: ChartConfiguration<'bar' | 'line'> = {
    type: 'bar',
    data: { labels: series.days.map((day) => shortDay(day.day)), datasets },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: scale,
      layout: { padding: draw.compact ? 4 : 8 },
      plugins: {
        title: { display: true, text: draw.title, color: CHART_COLOURS.text, font: font(draw.compact ? 12 : 15) },
        legend: {
          display: !draw.compact,
          position: 'bottom',
          labels: {
            color: CHART_COLOURS.text,
            font: font(fontSize),
            boxWidth: 12,
            boxHeight: 10,
            sort: (a, b) => (a.datasetIndex ?? 0) - (b.datasetIndex ?? 0),
          },
        },
        tooltip: { enabled: false },
      },
      scales: {
        x: {
          stacked: true,
          grid: { display: false },
          ticks: {
            color: CHART_COLOURS.text,
            font: font(fontSize),
            maxRotation: 0,
            autoSkip: true,
            autoSkipPadding: 8,
          },
        },
        messages: {
          type: 'linear',
          position: 'left',
          stacked: true,
          beginAtZero: true,
          // Headroom keeps the bars below the pass-rate line, which mostly lives above 80 %.
          grace: '30%',
          grid: { color: CHART_COLOURS.grid },
          title: {
            display: !draw.compact,
            text: t.t('chart.axis.messages'),
            color: CHART_COLOURS.text,
            font: font(fontSize),
          },
          ticks: {
            color: CHART_COLOURS.text,
            font: font(fontSize),
            precision: 0,
            maxTicksLimit: draw.compact ? 4 : 6,
            callback: (value) => t.number(Number(value)),
          },
        },
        rate: {
          type: 'linear',
          position: 'right',
          min: 0,
          max: 100,
          grid: { display: false },
          title: {
            display: !draw.compact,
            text: t.t('chart.axis.passRate'),
            color: CHART_COLOURS.text,
            font: font(fontSize),
          },
          ticks: {
            color: CHART_COLOURS.text,
            font: font(fontSize),
            stepSize: draw.compact ? 50 : 25,
            callback: (value) => t.percent(Number(value) / 100),
          },
        },
      },
    },
    plugins: [
      whiteBackground,
      overlayPlugin({
        thresholds: series.thresholds,
        markers: mergeMarkers(series.markers),
        dayIndex,
        t,
        fontSize: draw.compact ? 9 : 10,
        labels: !draw.compact,
      }),
    ],
  };
  // chart.js accepts any object with getContext('2d'); the Skia canvas is one.
  return new Chart(canvas as unknown as ChartItem, config);
}

/** The trend chart of one domain as a PNG (width*scale x height*scale device pixels). */
export async function renderTrendChart(input: ChartSeries, options: ChartRenderOptions = {}): Promise<Buffer> {
  prepare();
  const series = sanitiseSeries(input);
  const { width, height, scale } = sizeOf(options);
  const t = createTranslator(series.locale);
  const canvas = createCanvas(width, height);
  const chart = drawSeries(canvas, series, t, scale, { compact: false, title: chartTitle(series, t) });
  try {
    return await canvas.encode('png');
  } finally {
    chart.destroy();
  }
}

export interface SmallMultiplesOptions extends ChartRenderOptions {
  /** at most this many panels; the rest are named in a footer line */
  maxPanels?: number;
  /** title of the whole picture; by default "N domains: from to to" */
  title?: string;
}

const PANEL_HEIGHT = 190;
const HEADER_HEIGHT = 62;
const FOOTER_HEIGHT = 22;

/**
 * Many domains in one picture: a panel per domain (stacked classes, pass rate, thresholds and
 * marker lines without labels) under one shared title and legend. All series should share one
 * locale; the first one's is used.
 */
export async function renderSmallMultiples(
  inputs: ChartSeries[],
  options: SmallMultiplesOptions = {},
): Promise<Buffer> {
  prepare();
  const all = inputs.map(sanitiseSeries);
  const maxPanels = clamp(options.maxPanels, 1, 24, 12);
  const shown = all.slice(0, maxPanels);
  const hidden = all.slice(maxPanels);
  const locale = all[0]?.locale ?? 'en';
  const t = createTranslator(locale);
  const columns = shown.length > 3 ? 2 : 1;
  const rows = Math.max(1, Math.ceil(shown.length / columns));
  const requested = sizeOf(options);
  const width = Math.max(requested.width, columns === 2 ? 960 : MIN_CHART_WIDTH);
  const height = Math.max(
    requested.height,
    HEADER_HEIGHT + rows * PANEL_HEIGHT + (hidden.length > 0 ? FOOTER_HEIGHT : 0),
  );
  const scale = requested.scale;
  const panelWidth = Math.floor(width / columns);

  const canvas = createCanvas(width * scale, height * scale);
  const ctx = canvas.getContext('2d');
  ctx.scale(scale, scale);
  ctx.fillStyle = CHART_COLOURS.background;
  ctx.fillRect(0, 0, width, height);

  const first = shown[0];
  const title =
    options.title ??
    (first
      ? t.t('chart.multiples.title', { count: all.length, from: t.day(first.period.from), to: t.day(first.period.to) })
      : t.t('chart.multiples.title', { count: 0, from: '', to: '' }));
  ctx.fillStyle = CHART_COLOURS.text;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.font = `15px "${CHART_FONT_FAMILY}"`;
  ctx.fillText(fitText(ctx, title, width - 16), width / 2, 8);
  drawLegend(ctx, t, width, 34);

  for (const [index, series] of shown.entries()) {
    const panel = createCanvas(panelWidth, PANEL_HEIGHT);
    const panelTitle = `${series.domain} · ${series.verdict}`;
    const chart = drawSeries(panel, series, t, scale, { compact: true, title: panelTitle });
    const x = (index % columns) * panelWidth;
    const y = HEADER_HEIGHT + Math.floor(index / columns) * PANEL_HEIGHT;
    ctx.drawImage(panel, x, y, panelWidth, PANEL_HEIGHT);
    chart.destroy();
  }
  if (hidden.length > 0) {
    ctx.fillStyle = CHART_COLOURS.text;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.font = `11px "${CHART_FONT_FAMILY}"`;
    const names = hidden.map((series) => series.domain).join(', ');
    const line = `${t.t('reply.more', { count: hidden.length })}: ${names}`;
    ctx.fillText(fitText(ctx, line, width - 16), 8, HEADER_HEIGHT + rows * PANEL_HEIGHT + 4);
  }
  return canvas.encode('png');
}

/** The shared legend of the small multiples: class swatches, then the pass-rate line. */
function drawLegend(ctx: SKRSContext2D, t: Translator, width: number, top: number): void {
  ctx.font = `11px "${CHART_FONT_FAMILY}"`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const entries = [
    ...CHART_CLASSES.map((name) => ({ label: t.t(`chart.class.${name}`), colour: CLASS_COLOURS[name], line: false })),
    { label: t.t('chart.passRate'), colour: CHART_COLOURS.passRate, line: true },
  ];
  const widths = entries.map((entry) => 12 + 4 + ctx.measureText(entry.label).width + 12);
  let x = Math.max(8, (width - widths.reduce((sum, item) => sum + item, 0)) / 2);
  const y = top + 8;
  for (const [index, entry] of entries.entries()) {
    ctx.fillStyle = entry.colour;
    if (entry.line) ctx.fillRect(x, y - 1, 12, 2);
    else ctx.fillRect(x, y - 5, 12, 10);
    ctx.fillStyle = CHART_COLOURS.text;
    ctx.fillText(entry.label, x + 16, y);
    x += widths[index] ?? 0;
  }
}
