// `/dmarc chart` over a stored month whose answers are known by construction: the own server
// every day, the policy raised to quarantine on June 15, a new sender from June 20, a spoofing run.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_CLASSES, CLASS_COLOURS, type ChartSeries } from '../../src/chart/index.ts';
import { answer } from '../../src/command-kit/dispatch.ts';
import { addDays } from '../../src/insight/stats.ts';
import type { AggregateReport } from '../../src/model.ts';
import { renderTerminal } from '../../src/render/terminal.ts';
import { testContext } from '../commands/context.ts';
import {
  DOMAIN,
  NOW,
  OWN,
  SPOOF_DAY,
  SPOOFERS,
  record,
  report,
  storeWith,
  type TestStore,
} from '../commands/scenario.ts';
import { countColour, decode } from './pixels.ts';

const NEW_SENDER = '192.0.2.77';
const OTHER = 'example.org';

function month(): AggregateReport[] {
  const reports: AggregateReport[] = [];
  for (let index = 0; index < 29; index++) {
    const day = addDays('2026-06-01', index);
    const records = [record(OWN, 100, { spf: [[DOMAIN, 'pass']], dkim: [[DOMAIN, 'pass']] })];
    if (day >= '2026-06-20') records.push(record(NEW_SENDER, 30, { dkim: [[DOMAIN, 'pass']] }));
    if (day === SPOOF_DAY) records.push(...SPOOFERS.map((ip) => record(ip, 5, { spf: [[DOMAIN, 'fail']] })));
    const p = day >= '2026-06-15' ? 'quarantine' : 'none';
    reports.push(report('google.com', `g-${day}`, `${day}T00:00:00.000Z`, `${day}T23:59:59.000Z`, records, p));
    const other = report('google.com', `o-${day}`, `${day}T00:00:00.000Z`, `${day}T23:59:59.000Z`, [
      record(OWN, 10, { spf: [[OTHER, 'pass']] }, OTHER),
    ]);
    other.policy = { ...other.policy, domain: OTHER };
    reports.push(other);
  }
  return reports;
}

let fixture: TestStore;
beforeAll(async () => {
  fixture = await storeWith(month());
});
afterAll(() => fixture.close());

const ask = (line: string, locale: 'en' | 'ja' = 'en') =>
  answer(line, testContext(fixture.store, { now: NOW, locale }));

describe('/dmarc chart', () => {
  it('answers with a 1280x640 PNG of the domain and the series it drew', async () => {
    const reply = await ask(`chart ${DOMAIN}`);
    expect(reply.error).toBeUndefined();
    expect(reply.image?.name).toBe('chart.png');
    expect(decode(reply.image!.png)).toMatchObject({ width: 1280, height: 640 });
    const [series] = reply.data as ChartSeries[];
    expect(series!.days).toHaveLength(30);
    expect(series!.days[0]).toMatchObject({ day: '2026-06-01', passRate: 1 });
    expect(series!.days[0]!.byClass.aligned).toBe(100);
    const spoofDay = series!.days.find((day) => day.day === SPOOF_DAY)!;
    expect(spoofDay.byClass.spoofing).toBe(5 * SPOOFERS.length);
    // the last day has no report yet: no bar, no pass rate
    expect(series!.days[29]).toMatchObject({ day: '2026-06-30', passRate: null });
    expect(series!.thresholds).toEqual({ quarantine: 0.95, reject: 0.99 });
    expect(reply.title).toContain(DOMAIN);
  });

  it('marks the policy change and the new sender, and lists them in words', async () => {
    const reply = await ask(`chart ${DOMAIN}`);
    const [series] = reply.data as ChartSeries[];
    expect(series!.markers).toEqual(
      expect.arrayContaining([
        { day: '2026-06-15', kind: 'policy-change', label: 'p=none → p=quarantine' },
        expect.objectContaining({ day: '2026-06-20', kind: 'new-sender' }),
      ]),
    );
    // the spoofing run is too small a share to be marked as a new sender
    expect(series!.markers.filter((marker) => marker.kind === 'new-sender')).toHaveLength(1);
    const list = reply.blocks.find((block) => block.type === 'list');
    expect(list && 'items' in list ? list.items : []).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Jun 15, 2026: published policy p=none → p=quarantine$/)]),
    );
  });

  it('draws the classes of the stored data: aligned and spoofing appear, classes without mail do not', async () => {
    const reply = await ask(`chart ${DOMAIN}`);
    const image = decode(reply.image!.png);
    const plot = { top: 0, bottom: Math.floor(image.height * 0.88) };
    expect(countColour(image, CLASS_COLOURS.aligned, plot)).toBeGreaterThan(10_000);
    expect(countColour(image, CLASS_COLOURS.spoofing, plot)).toBeGreaterThan(20);
    const [series] = reply.data as ChartSeries[];
    for (const name of CHART_CLASSES) {
      const messages = series!.days.reduce((sum, day) => sum + day.byClass[name], 0);
      if (messages === 0) expect(countColour(image, CLASS_COLOURS[name], plot), name).toBe(0);
    }
  });

  it('puts every domain with data into one picture when no domain is named', async () => {
    const reply = await ask('chart days:14');
    const series = reply.data as ChartSeries[];
    expect(series.map((item) => item.domain)).toEqual([DOMAIN, OTHER]);
    expect(series[0]!.days).toHaveLength(14);
    const image = decode(reply.image!.png);
    expect(image.width).toBe(1280);
    expect(image.height).toBeGreaterThan(640);
  });

  it('shows sparklines on the terminal, where no picture can be shown', async () => {
    const text = renderTerminal(await ask('chart'));
    expect(text).toMatch(new RegExp(`^${DOMAIN.replace('.', '\\.')}\\s+[ ▁▂▃▄▅▆▇█]{30} `, 'm'));
    expect(text).toMatch(/^example\.org\s+[ ▁▂▃▄▅▆▇█]{30} /m);
  });

  it('words the chart in Japanese', async () => {
    const reply = await ask(`chart ${DOMAIN}`, 'ja');
    expect(reply.title).toMatch(/2026年6月1日 ～ 2026年6月30日/);
    expect((reply.data as ChartSeries[])[0]!.locale).toBe('ja');
  });

  it('says so when there is no data, and refuses a window of one day', async () => {
    const none = await ask('chart nothing.example');
    expect(none.image).toBeUndefined();
    expect(none.title).toBe('No data for a chart');
    const usage = await ask('chart days:1');
    expect(usage.error).toBe(true);
  });

  it('titles the picture with the domain, the period and the verdict', async () => {
    const reply = await ask(`chart ${DOMAIN}`);
    // 30 days ending on the clock's day, and the verdict /dmarc ready gives for the same window
    expect(reply.title).toBe(`${DOMAIN}: Jun 1, 2026 to Jun 30, 2026 · ready for p=quarantine`);
    const ready = await ask(`ready ${DOMAIN} days:30`);
    expect((ready.data as { verdict: string }).verdict).toBe('ready-quarantine');
    expect(reply.image!.alt).toBe(reply.title);
    const week = await ask(`chart ${DOMAIN} days:7`);
    expect(week.title).toMatch(/^example\.com: Jun 24, 2026 to Jun 30, 2026 · /);
    expect((week.data as ChartSeries[])[0]!.days).toHaveLength(7);
  });

  it('refuses days:N outside 2..366 or not a whole number, naming the option', async () => {
    for (const bad of ['days:0', 'days:-3', 'days:367', 'days:2.5', 'days:abc', 'days:1e3']) {
      const reply = await ask(`chart ${DOMAIN} ${bad}`);
      expect(reply.error, bad).toBe(true);
      expect(reply.image, bad).toBeUndefined();
      expect(JSON.stringify(reply.blocks), bad).toMatch(/days/);
    }
    const longest = await ask(`chart ${DOMAIN} days:366`);
    expect(longest.error).toBeUndefined();
    expect((longest.data as ChartSeries[])[0]!.days).toHaveLength(366);
  });

  it('draws the readiness thresholds from the settings', async () => {
    const settings = { READY_QUARANTINE_PASS_RATE: '0.9', READY_REJECT_PASS_RATE: '0.97' };
    const reply = await answer(`chart ${DOMAIN}`, testContext(fixture.store, { now: NOW, env: settings }));
    expect((reply.data as ChartSeries[])[0]!.thresholds).toEqual({ quarantine: 0.9, reject: 0.97 });
    const defaults = await ask(`chart ${DOMAIN}`);
    // the bars and the line are the same; only the threshold lines move
    expect(reply.image!.png.equals(defaults.image!.png)).toBe(false);
  });
});
