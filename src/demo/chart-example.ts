// `npm run chart:example`: the README's example chart, drawn from the demo month (the same data a
// first `npm start` shows) by the real /dmarc chart command, at a fixed date so that running it
// again gives the same picture. Drawn at 1x (640x320) to keep the file in the repository small.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderTrendChart } from '../chart/render.ts';
import type { ChartSeries } from '../chart/series.ts';
import { answer } from '../command-kit/dispatch.ts';
import { loadConfig } from '../config.ts';
import { createCommandContext } from '../context.ts';
import { DEMO_DOMAIN, prepareDemoStore } from './index.ts';

export const CHART_EXAMPLE_NOW = new Date('2026-06-30T09:00:00Z');

export async function writeChartExample(file: string, options: { scale?: number } = {}): Promise<ChartSeries> {
  const dir = await mkdtemp(join(tmpdir(), 'dmarc-chart-example-'));
  const demo = await prepareDemoStore({ now: CHART_EXAMPLE_NOW, path: join(dir, 'demo.sqlite') });
  try {
    const context = createCommandContext({
      config: loadConfig({ TZ: 'UTC', LOCALE: 'en' }),
      store: demo.store,
      requester: { platform: 'terminal', userId: 'chart-example' },
      now: () => CHART_EXAMPLE_NOW,
      dns: false,
    });
    const reply = await answer(`chart ${DEMO_DOMAIN}`, context);
    const series = (reply.data as ChartSeries[] | undefined)?.[0];
    if (!series) throw new Error(`the demo store gave no chart: ${reply.title}`);
    await writeFile(file, await renderTrendChart(series, { scale: options.scale ?? 1 }));
    return series;
  } finally {
    await demo.store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? 'docs/chart-example.png';
  const series = await writeChartExample(file);
  process.stdout.write(`Wrote ${file}: ${series.domain}, ${series.period.from} to ${series.period.to}\n`);
}
