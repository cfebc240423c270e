// The README's example picture is what `npm run chart:example` draws from the demo month today, so
// a change to the chart or to the demo data that leaves docs/chart-example.png stale fails here.

import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHART_CLASSES, CLASS_COLOURS } from '../../src/chart/index.ts';
import { DEMO_DOMAIN } from '../../src/demo/index.ts';
import { writeChartExample } from '../../src/demo/chart-example.ts';
import { countColour, decode } from './pixels.ts';

const EXAMPLE = join(process.cwd(), 'docs/chart-example.png');

describe('docs/chart-example.png', () => {
  it('is the picture the script draws from the demo month, small enough for the repository', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dmarc-chart-example-test-'));
    try {
      const fresh = join(dir, 'chart.png');
      const series = await writeChartExample(fresh);
      expect(series.domain).toBe(DEMO_DOMAIN);
      const committed = decode(await readFile(EXAMPLE));
      const drawn = decode(await readFile(fresh));
      expect(committed).toMatchObject({ width: 640, height: 320 });
      expect(drawn).toMatchObject({ width: committed.width, height: committed.height });
      let differing = 0;
      for (let at = 0; at < drawn.data.length; at += 4)
        if (drawn.data.readUInt32BE(at) !== committed.data.readUInt32BE(at)) differing++;
      // a few anti-aliased pixels may differ between Skia builds; stale data moves whole bars
      expect(differing / (drawn.width * drawn.height)).toBeLessThan(0.002);
      for (const name of CHART_CLASSES) {
        const messages = series.days.reduce((sum, day) => sum + day.byClass[name], 0);
        if (messages > 0) expect(countColour(committed, CLASS_COLOURS[name]), name).toBeGreaterThan(0);
      }
      expect((await stat(EXAMPLE)).size).toBeLessThan(100_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
