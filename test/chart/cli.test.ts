// `dmarc-bot chart` as a child process against a SQLite store in DMARC_STORE.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN, LAST_DAY, scenarioReports, storeWith, type TestStore } from '../commands/scenario.ts';
import type { AggregateReport } from '../../src/model.ts';
import { decode } from './pixels.ts';

const run = promisify(execFile);
const CLI_TEST_TIMEOUT = 180_000;

let fixture: TestStore;
let out: string;
/** The scenario moved so that its last day is yesterday: the CLI reads the real clock. */
function endingYesterday(reports: AggregateReport[]): AggregateReport[] {
  const shiftMs = Date.parse(new Date().toISOString().slice(0, 10)) - 86_400_000 - Date.parse(LAST_DAY);
  const shifted = (iso: string) => new Date(Date.parse(iso) + shiftMs).toISOString();
  return reports.map((report) => ({ ...report, begin: shifted(report.begin), end: shifted(report.end) }));
}

beforeAll(async () => {
  fixture = await storeWith(endingYesterday(scenarioReports()));
  await fixture.store.close();
  out = mkdtempSync(join(tmpdir(), 'dmarc-chart-cli-'));
});
afterAll(async () => {
  await fixture.close().catch(() => undefined);
  rmSync(out, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['src/bin.mjs', ...args], {
      env: { PATH: process.env.PATH, DMARC_STORE: fixture.url, LOG_LEVEL: 'silent', NO_COLOR: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('dmarc-bot chart', () => {
  it(
    'writes the PNG of a domain and prints its sparkline',
    async () => {
      const file = join(out, 'chart.png');
      const result = await cli('chart', DOMAIN, '--days', '30', '--out', file);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(decode(readFileSync(file))).toMatchObject({ width: 1280, height: 640 });
      expect(result.stdout).toMatch(new RegExp(`^${DOMAIN.replace('.', '\\.')} [ ▁▂▃▄▅▆▇█]{30} `, 'm'));
      expect(result.stdout).toMatch(/% pass, [1-9][\d,]* messages/);
      expect(result.stdout).toContain(`Wrote ${file}`);
    },
    CLI_TEST_TIMEOUT,
  );

  it(
    'refuses a missing --out or a bad window with a usage error, and has no picture without data',
    async () => {
      const noOut = await cli('chart', DOMAIN);
      expect(noOut.code).toBe(2);
      expect(noOut.stderr).toMatch(/--out FILE\.png/);
      const badDays = await cli('chart', DOMAIN, '--days', '0', '--out', join(out, 'bad.png'));
      expect(badDays.code).toBe(2);
      expect(badDays.stderr).toMatch(/whole number from 2 to 366/);
      const none = await cli('chart', 'nothing.example', '--out', join(out, 'none.png'));
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/No data for a chart/);
      expect(existsSync(join(out, 'none.png'))).toBe(false);
    },
    CLI_TEST_TIMEOUT,
  );
});
