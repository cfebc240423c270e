// Every command and the digest on a store built from the real-world corpus: the answers agree with
// the reports as read, and no reply leaves a placeholder unfilled, in English or Japanese.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer } from '../../src/command-kit/dispatch.ts';
import { buildDigest } from '../../src/digest/build.ts';
import type { DateInsight, IpInsight, Readiness, Summary } from '../../src/insight/types.ts';
import type { AggregateReport, Report } from '../../src/model.ts';
import { readReports } from '../../src/reader/index.ts';
import { renderTerminal } from '../../src/render/terminal.ts';
import { testContext } from './context.ts';
import { storeWith, type TestStore } from './scenario.ts';

const CORPUS = 'test/fixtures/corpus';
const NOW = new Date('2026-11-29T12:00:00Z');
const ALL_DAYS = 'days:3650';
const WINDOW_FROM = '2016-12-02';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

let fixture: TestStore;
const aggregates: AggregateReport[] = [];
const stored: AggregateReport[] = [];

beforeAll(async () => {
  const reports: Report[] = [];
  for (const path of files(CORPUS).filter((path) => !path.endsWith('.md'))) {
    const outcome = await readReports(readFileSync(path), { source: path });
    reports.push(...outcome.reports);
  }
  aggregates.push(...reports.filter((report): report is AggregateReport => report.kind === 'aggregate'));
  fixture = await storeWith([]);
  for (const report of reports) {
    const receivedAt =
      report.kind === 'failure'
        ? new Date(report.arrivalDate ?? '2020-01-01T00:00:00Z')
        : new Date(Date.parse(report.end) + 3_600_000);
    // a report the store refuses (invalid) is not counted below
    const outcome = await fixture.store
      .ingest(report, 'corpus', Number.isNaN(receivedAt.getTime()) ? NOW : receivedAt)
      .catch(() => 'refused' as const);
    // the commands look back ten years from NOW; older reports (the dmarc.org draft sample) stay out
    if (outcome === 'new' && report.kind === 'aggregate' && report.end >= WINDOW_FROM) stored.push(report);
  }
  await fixture.store.flush();
}, 120_000);
afterAll(() => fixture.close());

const context = (locale: 'en' | 'ja' = 'en') => testContext(fixture.store, { now: NOW, locale });
const messagesOf = (reports: readonly AggregateReport[], ip?: string) =>
  reports.reduce(
    (sum, report) =>
      sum + report.records.filter((r) => ip === undefined || r.sourceIp === ip).reduce((s, r) => s + r.count, 0),
    0,
  );

describe('commands on the corpus', () => {
  it('read and stored most of the corpus', () => {
    expect(aggregates.length).toBeGreaterThan(15);
    expect(stored.length).toBeGreaterThan(10);
  });

  it('summary totals every stored aggregate message', async () => {
    const data = (await answer('summary 3650', context())).data as Summary;
    expect(data.messages).toBe(messagesOf(stored));
    expect(new Set(data.domains.map((d) => d.domain))).toEqual(
      new Set(stored.map((r) => r.policy.domain.toLowerCase())),
    );
  });

  it('ip agrees with the records of the reports for a sample of source IPs', async () => {
    const ips = [
      ...new Set(
        stored.filter((r) => r.records.length < 100).flatMap((r) => r.records.map((record) => record.sourceIp)),
      ),
    ].slice(0, 25);
    expect(ips.length).toBeGreaterThan(5);
    for (const ip of ips) {
      const data = (await answer(`ip ${ip} ${ALL_DAYS}`, context())).data as IpInsight;
      expect({ ip, messages: data.messages }).toEqual({ ip, messages: messagesOf(stored, ip) });
    }
  });

  it('date finds each stored report on a day of its range', async () => {
    for (const report of stored.slice(0, 20)) {
      const days: string[] = [];
      for (let time = Date.parse(report.begin.slice(0, 10)); time <= Date.parse(report.end); time += 86_400_000)
        days.push(new Date(time).toISOString().slice(0, 10));
      const found: string[] = [];
      for (const day of days) {
        const data = (await answer(`date ${day}`, context())).data as DateInsight;
        const domain = data.domains.find((d) => d.domain === report.policy.domain.toLowerCase());
        if (domain?.reports.some((r) => r.reportId === report.reportId && r.orgName === report.orgName))
          found.push(day);
      }
      expect(found.length, `${report.orgName} ${report.reportId} on ${days.join(', ')}`).toBeGreaterThanOrEqual(1);
    }
  });

  it('ready, sources, help and the digest answer without errors or unfilled placeholders, in both languages', async () => {
    for (const locale of ['en', 'ja'] as const) {
      for (const line of [
        `ready ${ALL_DAYS}`,
        'sources 3650',
        'help',
        `ip ${stored[0]!.records[0]!.sourceIp} ${ALL_DAYS}`,
        `date ${stored[0]!.begin.slice(0, 10)}`,
      ]) {
        const reply = await answer(line, context(locale));
        expect(reply.error, `${line}: ${reply.title}`).toBeUndefined();
        expect(renderTerminal(reply)).not.toMatch(/\{\w+\}/);
      }
      const ready = (await answer(`ready ${ALL_DAYS}`, context(locale))).data as Readiness[];
      expect(ready.length).toBeGreaterThan(0);
      const digest = await buildDigest(fixture.store, context(locale), {
        since: new Date('2000-01-01T00:00:00Z'),
        until: NOW,
      });
      expect(digest.reportCount).toBeGreaterThanOrEqual(stored.length);
      expect(renderTerminal(digest.reply)).not.toMatch(/\{\w+\}/);
    }
  });
});
