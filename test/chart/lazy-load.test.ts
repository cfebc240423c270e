// The chart's heavy parts (chart.js, the Skia canvas and the font file it registers) load with the
// first picture only: the command list, help, --version and parse start without them.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateXml } from '../../src/generate/xml.ts';
import { randomAggregateReport } from '../../src/generate/random.ts';
import { DOMAIN, scenarioReports, storeWith } from '../commands/scenario.ts';

const run = promisify(execFile);
const bin = join(process.cwd(), 'src/bin.mjs');
const probe = pathToFileURL(join(import.meta.dirname, '../support/module-probe.mjs')).href;
const CHART_MODULES = /\/node_modules\/(chart\.js|@napi-rs\/canvas|@expo-google-fonts)\//;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dmarc-chart-lazy-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The modules one CLI run imported (by resolved URL). */
async function modulesLoadedBy(args: string[], name: string, env: Record<string, string> = {}): Promise<string[]> {
  const log = join(dir, `${name}.modules`);
  writeFileSync(log, '');
  await run(process.execPath, [bin, ...args], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      NODE_OPTIONS: `--import=${probe}`,
      MODULE_PROBE_LOG: log,
      LOG_LEVEL: 'silent',
      ...env,
    },
  });
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('start-up without the chart libraries', () => {
  it.each([
    ['ask help', ['ask', 'help']],
    ['help', ['help']],
    ['--version', ['--version']],
  ])('%s loads neither chart.js, the canvas nor the font', async (name, args) => {
    const modules = await modulesLoadedBy(args, name.replace(/\W/g, ''));
    // the probe saw the program's own modules, so an empty match below is not an empty log
    expect(modules.some((url) => url.includes('/src/cli/main.ts'))).toBe(true);
    // ask help reads the command list, and so imports every command's module (commands/chart.ts too)
    if (name === 'ask help') expect(modules.some((url) => url.includes('/commands/chart.ts'))).toBe(true);
    expect(modules.filter((url) => CHART_MODULES.test(url))).toEqual([]);
  });

  it('parse loads none of them either', async () => {
    const file = join(dir, 'report.xml');
    writeFileSync(file, aggregateXml(randomAggregateReport({ records: 5, seed: 7 })));
    const modules = await modulesLoadedBy(['parse', file], 'parse');
    expect(modules.some((url) => url.includes('/src/cli/parse.ts'))).toBe(true);
    expect(modules.filter((url) => CHART_MODULES.test(url))).toEqual([]);
  });

  it('the chart command does load them: the probe would see them', async () => {
    const fixture = await storeWith(scenarioReports());
    await fixture.store.close();
    try {
      const modules = await modulesLoadedBy(
        ['chart', DOMAIN, '--days', '366', '--out', join(dir, 'chart.png')],
        'chart',
        {
          DMARC_STORE: fixture.url,
        },
      );
      expect(modules.some((url) => /\/node_modules\/chart\.js\//.test(url))).toBe(true);
      expect(modules.some((url) => /\/node_modules\/@napi-rs\/canvas\//.test(url))).toBe(true);
    } finally {
      await fixture.close().catch(() => undefined);
    }
  });
});
