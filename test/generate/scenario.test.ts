import { describe, expect, it } from 'vitest';
import { exampleMonth, exampleMonthMails } from '../../src/generate/scenario.ts';
import { readReports } from '../../src/reader/index.ts';
import type { AggregateReport } from '../../src/model.ts';

const month = exampleMonth({ domain: 'example.com', endDay: '2026-01-31', days: 30, seed: 42 });
const { truth, reports } = month;

function messagesFrom(list: AggregateReport[], ips: readonly string[], onlyPass = false): number {
  let n = 0;
  for (const report of list) {
    for (const record of report.records) {
      if (ips.includes(record.sourceIp) && (!onlyPass || record.dmarc === 'pass')) n += record.count;
    }
  }
  return n;
}

describe('exampleMonth', () => {
  it('covers the asked days and has reports from the four reporters', () => {
    expect(truth.firstDay).toBe('2026-01-02');
    expect(truth.lastDay).toBe('2026-01-31');
    expect(new Set(reports.map((r) => r.orgName))).toEqual(
      new Set(['google.com', 'Yahoo', 'Enterprise Outlook', 'Kabelnetz Example ISP']),
    );
    const firstBegin = reports.map((r) => r.begin).sort()[0];
    const lastEnd = reports
      .map((r) => r.end)
      .sort()
      .at(-1);
    expect(firstBegin).toBe('2026-01-02T00:00:00.000Z');
    expect(lastEnd).toBe('2026-01-31T23:59:59.000Z');
  });

  it('states totals equal to the sums of its reports', () => {
    const all = reports.flatMap((r) => r.records);
    expect(truth.totals.reports).toBe(reports.length);
    expect(truth.totals.records).toBe(all.length);
    expect(truth.totals.messages).toBe(all.reduce((n, r) => n + r.count, 0));
    expect(truth.totals.dmarcPass).toBe(all.filter((r) => r.dmarc === 'pass').reduce((n, r) => n + r.count, 0));
    expect(truth.totals.dmarcFail).toBe(truth.totals.messages - truth.totals.dmarcPass);
    for (const source of truth.sources) {
      expect(messagesFrom(reports, source.ips), source.name).toBe(source.messages);
      expect(messagesFrom(reports, source.ips, true), source.name).toBe(source.dmarcPass);
    }
    for (const [ip, stated] of Object.entries(truth.byIp)) {
      expect(messagesFrom(reports, [ip]), ip).toBe(stated.messages);
      expect(messagesFrom(reports, [ip], true), ip).toBe(stated.dmarcPass);
      expect(truth.sources.find((s) => s.ips.includes(ip))?.role).toBe(stated.role);
    }
    for (const [org, n] of Object.entries(truth.byReporter)) {
      expect(
        reports
          .filter((r) => r.orgName === org)
          .flatMap((r) => r.records)
          .reduce((s, r) => s + r.count, 0),
      ).toBe(n);
    }
  });

  it('accounts for every record by exactly one source', () => {
    const ipRoles = new Map<string, string>();
    for (const source of truth.sources)
      for (const ip of source.ips) {
        expect(ipRoles.has(ip), `${ip} in two sources`).toBe(false);
        ipRoles.set(ip, source.role);
      }
    for (const record of reports.flatMap((r) => r.records))
      expect(ipRoles.has(record.sourceIp), record.sourceIp).toBe(true);
  });

  it('gives each role the behaviour its name promises', () => {
    const byRole = Object.fromEntries(truth.sources.map((s) => [s.role, s]));
    expect(byRole.own!.dmarcPass).toBe(byRole.own!.messages);
    expect(byRole.own!.days).toHaveLength(30);
    expect(byRole.esp!.dmarcPass).toBe(0);
    expect(byRole.forgotten!.dmarcPass).toBe(0);
    expect(byRole.forgotten!.days.length).toBeGreaterThanOrEqual(12);
    expect(byRole.forwarder!.dmarcPass).toBe(0);
    expect(byRole.spoofer!.dmarcPass).toBe(0);
    expect(byRole.spoofer!.days).toEqual(truth.spoofDays);
    expect(truth.spoofDays.length).toBeGreaterThanOrEqual(2);
    expect(truth.spoofDays.length).toBeLessThanOrEqual(3);
    // the ESP newsletter goes out on Tuesdays only
    for (const day of byRole.esp!.days) expect(new Date(`${day}T00:00:00Z`).getUTCDay()).toBe(2);
    // the forgotten relay works weekdays only
    for (const day of byRole.forgotten!.days)
      expect([1, 2, 3, 4, 5]).toContain(new Date(`${day}T00:00:00Z`).getUTCDay());

    const records = reports.flatMap((r) => r.records);
    const espRecords = records.filter((r) => byRole.esp!.ips.includes(r.sourceIp));
    for (const r of espRecords) {
      expect(r.authResults.spf[0]!.result).toBe('pass');
      expect(r.alignment.spf).toBe(false);
      expect(r.alignment.spfUnalignedPass).toEqual(['mail98.atl11.mcsv.net']);
      expect(r.alignment.dkimUnalignedPass).toEqual(['mcsv.net']);
    }
    const forwarded = records.filter((r) => byRole.forwarder!.ips.includes(r.sourceIp));
    expect(forwarded.some((r) => r.reasons.some((x) => x.type === 'forwarded'))).toBe(true);
    expect(forwarded.some((r) => r.reasons.length === 0)).toBe(true);
    for (const r of forwarded) expect(r.authResults.dkim.length).toBeGreaterThan(0);
  });

  it('has exactly one report spanning three days', () => {
    const multi = reports.filter((r) => Date.parse(r.end) - Date.parse(r.begin) > 86_400_000);
    expect(multi).toHaveLength(1);
    expect(Date.parse(multi[0]!.end) + 1000 - Date.parse(multi[0]!.begin)).toBe(3 * 86_400_000);
    expect(truth.multiDayReport).toEqual({
      orgName: multi[0]!.orgName,
      reportId: multi[0]!.reportId,
      begin: multi[0]!.begin,
      end: multi[0]!.end,
    });
  });

  it('gives every report a distinct (org, report id) and uses documentation or named provider addresses', () => {
    expect(new Set(reports.map((r) => `${r.orgName}|${r.reportId}`)).size).toBe(reports.length);
    const allowed = /^(192\.0\.2\.|198\.51\.100\.|203\.0\.113\.|2001:db8:|205\.201\.(1[2-3]\d|14[0-3])\.|209\.85\.)/;
    for (const r of reports.flatMap((x) => x.records)) expect(r.sourceIp).toMatch(allowed);
  });

  it('is deterministic for a seed and different for another', () => {
    expect(exampleMonth({ endDay: '2026-01-31', seed: 42 })).toEqual(month);
    expect(exampleMonth({ endDay: '2026-01-31', seed: 43 }).truth.totals).not.toEqual(truth.totals);
  });

  it('refuses a malformed end day with a message naming it', () => {
    expect(() => exampleMonth({ endDay: '31.01.2026' })).toThrow(/31\.01\.2026/);
  });
});

describe('exampleMonthMails', () => {
  it('packs the month as mails the reader turns back into the same reports, with all three containers', async () => {
    const { mails, truth: mailTruth } = exampleMonthMails({ endDay: '2026-01-31', seed: 42 });
    expect(mailTruth).toEqual(truth);
    expect(mails).toHaveLength(reports.length);
    const kinds = new Set<string>();
    let messages = 0;
    for (const mail of mails) {
      const contentType = /Content-Type: (application\/zip|application\/gzip|text\/xml);/.exec(
        mail.raw.toString('latin1'),
      );
      kinds.add(contentType?.[1] ?? 'none');
      const { reports: read, errors } = await readReports(mail.raw, { source: mail.name });
      expect(errors).toEqual([]);
      expect(read).toHaveLength(1);
      const report = read[0] as AggregateReport;
      expect(report.reportId).toBe(mail.report.reportId);
      expect(report.records).toHaveLength(mail.records);
      messages += report.records.reduce((n, r) => n + r.count, 0);
    }
    expect(kinds).toEqual(new Set(['application/zip', 'application/gzip', 'text/xml']));
    expect(messages).toBe(truth.totals.messages);
  });
});
