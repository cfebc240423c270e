import { GlobalFonts } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import {
  CHART_CLASSES,
  CHART_COLOURS,
  CHART_FONT_FAMILY,
  CLASS_COLOURS,
  registerChartFont,
  renderSmallMultiples,
  renderTrendChart,
  sanitiseSeries,
  type ChartSeries,
} from '../../src/chart/index.ts';
import { bandBytes, columnsWith, countColour, decode, inkIn, rowsWith } from './pixels.ts';
import { classShares, generatedMonth } from './month.ts';

// Everything above the legend at the bottom: the title, the plot and the axes.
const aboveLegend = (height: number) => ({ top: 0, bottom: Math.floor(height * 0.88) });

function measuredShares(image: ReturnType<typeof decode>): Record<string, number> {
  const counts = CHART_CLASSES.map((name) => countColour(image, CLASS_COLOURS[name], aboveLegend(image.height)));
  const all = counts.reduce((sum, count) => sum + count, 0);
  return Object.fromEntries(CHART_CLASSES.map((name, index) => [name, counts[index]! / all]));
}

describe('renderTrendChart', () => {
  it('draws 640x320 CSS pixels at 2x by default, and never smaller', async () => {
    const series = generatedMonth('size');
    const standard = decode(await renderTrendChart(series));
    expect([standard.width, standard.height]).toEqual([1280, 640]);
    const larger = decode(await renderTrendChart(series, { width: 800, height: 400 }));
    expect([larger.width, larger.height]).toEqual([1600, 800]);
    const tooSmall = decode(await renderTrendChart(series, { width: 100, height: 50, scale: 1 }));
    expect([tooSmall.width, tooSmall.height]).toEqual([640, 320]);
  });

  it('shows each class in the plot in proportion to its messages in a generated month', async () => {
    for (const seed of ['month-a', 'month-b']) {
      const series = generatedMonth(seed);
      const expected = classShares(series);
      const measured = measuredShares(decode(await renderTrendChart(series)));
      for (const name of CHART_CLASSES) {
        expect(measured[name], `${seed} ${name} is drawn`).toBeGreaterThan(0);
        expect(
          Math.abs(measured[name]! - expected[name]!),
          `${seed} ${name}: ${measured[name]} vs ${expected[name]}`,
        ).toBeLessThan(0.01);
      }
    }
  });

  it('gives a class that grows a larger share of the pixels', async () => {
    const base = generatedMonth('growth');
    const spoofed: ChartSeries = {
      ...base,
      days: base.days.map((day) => ({ ...day, byClass: { ...day.byClass, spoofing: day.byClass.spoofing * 4 } })),
    };
    const before = measuredShares(decode(await renderTrendChart(base)));
    const after = measuredShares(decode(await renderTrendChart(spoofed)));
    expect(after.spoofing! - before.spoofing!).toBeGreaterThan(0.15);
    expect(Math.abs(after.spoofing! - classShares(spoofed).spoofing!)).toBeLessThan(0.01);
  });

  it('draws the readiness thresholds as horizontal lines at their pass rates', async () => {
    const linesOf = async (thresholds: ChartSeries['thresholds']) => {
      const image = decode(await renderTrendChart(generatedMonth('thresholds', { thresholds })));
      // dashed lines across the plot: hundreds of pixels of the colour in one row
      const row = (colour: string) => {
        const rows = rowsWith(image, colour, 300);
        expect(rows.length, colour).toBeGreaterThan(0);
        return rows.reduce((sum, y) => sum + y, 0) / rows.length;
      };
      return { quarantine: row(CHART_COLOURS.quarantine), reject: row(CHART_COLOURS.reject) };
    };
    const usual = await linesOf({ quarantine: 0.95, reject: 0.99 });
    const lower = await linesOf({ quarantine: 0.5, reject: 0.8 });
    expect(usual.reject).toBeLessThan(usual.quarantine);
    // the distance between the lines follows the distance of the rates on the 0-100 % axis
    const ratio = (lower.quarantine - lower.reject) / (usual.quarantine - usual.reject);
    expect(ratio).toBeGreaterThan(0.3 / 0.04 - 1);
    expect(ratio).toBeLessThan(0.3 / 0.04 + 1);
    expect(lower.reject).toBeGreaterThan(usual.reject);
  });

  it('draws a vertical marker where the policy changed and where a new sender appeared, in day order', async () => {
    const plain = decode(await renderTrendChart(generatedMonth('markers')));
    const marked = decode(
      await renderTrendChart(
        generatedMonth('markers', {
          markers: [
            { day: '2026-11-20', kind: 'new-sender', label: 'Example Mailer' },
            { day: '2026-11-08', kind: 'policy-change', label: 'p=none → p=quarantine' },
          ],
        }),
      ),
    );
    const band = aboveLegend(marked.height);
    expect(columnsWith(plain, CHART_COLOURS.policyChange, 100, band)).toEqual([]);
    expect(columnsWith(plain, CHART_COLOURS.newSender, 50, band)).toEqual([]);
    const policy = columnsWith(marked, CHART_COLOURS.policyChange, 100, band);
    const sender = columnsWith(marked, CHART_COLOURS.newSender, 50, band);
    expect(policy.length).toBeGreaterThan(0);
    expect(sender.length).toBeGreaterThan(0);
    // day 8 of 30 lies left of day 20, both inside the plot
    expect(Math.max(...policy)).toBeLessThan(Math.min(...sender));
    expect(Math.min(...policy)).toBeGreaterThan(marked.width * 0.1);
    expect(Math.max(...sender)).toBeLessThan(marked.width * 0.9);
  });

  it('renders Japanese labels with the bundled font: different characters leave different ink', async () => {
    const fontFile = registerChartFont();
    expect(fontFile).toMatch(/NotoSansJP_400Regular\.ttf$/);
    expect(GlobalFonts.has(CHART_FONT_FAMILY)).toBe(true);

    const titleBand = { top: 0, bottom: 80 };
    const withVerdict = async (verdict: string) =>
      decode(await renderTrendChart(generatedMonth('japanese', { locale: 'ja', verdict })));
    const empty = await withVerdict('');
    const first = await withVerdict('強制の準備');
    const second = await withVerdict('送信者未確');
    // the Japanese text adds ink to the title...
    expect(inkIn(first, titleBand)).toBeGreaterThan(inkIn(empty, titleBand) + 500);
    // ...and other characters of the same count look different. Without glyphs, both would be the
    // same row of replacement boxes (or nothing), so this catches tofu; it cannot tell that the
    // shapes are the right ones.
    expect(bandBytes(first, titleBand).equals(bandBytes(second, titleBand))).toBe(false);
    expect(inkIn(second, titleBand)).toBeGreaterThan(inkIn(empty, titleBand) + 500);
  });
});

describe('renderSmallMultiples', () => {
  it('puts many domains in one picture, a panel each, and names those past the limit', async () => {
    const domains = ['a.example', 'b.example', 'c.example', 'd.example', 'e.example'];
    const five = decode(
      await renderSmallMultiples(
        domains.map((domain) => generatedMonth(domain, { domain })),
        { scale: 1 },
      ),
    );
    // two columns of three rows under the shared title and legend
    expect(five.width).toBe(960);
    expect(five.height).toBeGreaterThanOrEqual(62 + 3 * 190);
    for (const name of CHART_CLASSES) expect(countColour(five, CLASS_COLOURS[name]), name).toBeGreaterThan(0);

    const one = decode(await renderSmallMultiples([generatedMonth('single')], { scale: 1 }));
    expect(one.width).toBe(640);
    expect(one.height).toBeLessThan(five.height);

    const many = Array.from({ length: 14 }, (_, index) => generatedMonth(`d${index}`, { domain: `d${index}.example` }));
    const capped = decode(await renderSmallMultiples(many, { scale: 1, maxPanels: 4 }));
    const full = decode(await renderSmallMultiples(many.slice(0, 4), { scale: 1, maxPanels: 4 }));
    // same panels; the capped one has a footer line naming the ten left out
    expect(capped.height).toBeGreaterThan(full.height);
    expect(inkIn(capped, { top: full.height, bottom: capped.height })).toBeGreaterThan(100);
  });
});

describe('sanitiseSeries', () => {
  it('keeps only well-formed days in order, safe counts, shares within 0..1 and markers on known days', () => {
    const hostile = generatedMonth('hostile');
    const byClass = JSON.parse('{"aligned": -5, "spoofing": 1e400, "forwarded": 2.6, "__proto__": 9}');
    const series = sanitiseSeries({
      ...hostile,
      domain: 'x'.repeat(500),
      days: [
        { day: '2026-11-02', byClass, passRate: 7 },
        { day: '2026-11-01', byClass: hostile.days[0]!.byClass, passRate: 0.5 },
        { day: 'not a day', byClass: hostile.days[0]!.byClass, passRate: 0.5 },
        { day: '2026-11-03', byClass: hostile.days[0]!.byClass, passRate: Number.NaN },
      ],
      markers: [
        { day: '2026-11-03', kind: 'new-sender', label: 'y'.repeat(300) },
        { day: '2027-01-01', kind: 'policy-change', label: 'off the chart' },
      ],
    });
    expect(series.days.map((day) => day.day)).toEqual(['2026-11-02', '2026-11-03']);
    expect(series.days[0]!.byClass).toEqual({
      aligned: 0,
      forwarded: 3,
      'mailing-list': 0,
      'legitimate-failing': 0,
      unconfirmed: 0,
      spoofing: 0,
    });
    expect(series.days[0]!.passRate).toBe(1);
    expect(series.days[1]!.passRate).toBeNull();
    expect(series.markers).toHaveLength(1);
    expect(series.markers[0]!.label.length).toBeLessThanOrEqual(60);
    expect(series.domain.length).toBeLessThanOrEqual(120);
  });
});
