import { describe, expect, it } from 'vitest';
import type { AggregateRecord, AggregateReport } from '../../src/model.ts';
import type { IpEntry, MarksDoc } from '../../src/store/types.ts';
import { detectAlerts } from '../../src/alerts/detect.ts';
import { alertReply } from '../../src/alerts/render.ts';

function record(ip: string, count: number, dmarc: 'pass' | 'fail'): AggregateRecord {
  return {
    sourceIp: ip,
    count,
    disposition: 'none',
    evaluated: { dkim: dmarc, spf: 'fail' },
    dmarc,
    identifiers: { headerFrom: 'example.com', envelopeFrom: null, envelopeTo: null },
    reasons: [],
    authResults: { dkim: [], spf: [] },
    alignment: { dkim: dmarc === 'pass', spf: false },
  };
}

function report(
  records: AggregateRecord[],
  begin = '2026-06-10T00:00:00Z',
  end = '2026-06-10T23:59:59Z',
): AggregateReport {
  return {
    kind: 'aggregate',
    orgName: 'google.com',
    orgEmail: null,
    reportId: 'r1',
    begin,
    end,
    policy: {
      domain: 'example.com',
      p: 'none',
      sp: null,
      np: null,
      pct: null,
      adkim: null,
      aspf: null,
      fo: null,
      testing: null,
    },
    records,
    errors: [],
  };
}

function entry(ip: string, date: string, messages: number, dmarcPass: number, domain = 'example.com'): IpEntry {
  return {
    ip,
    domain,
    date,
    reportKey: `k-${date}-${ip}`,
    orgName: 'yahoo.com',
    messages,
    dmarcPass,
    spfPass: 0,
    dkimPass: dmarcPass,
    spfAligned: 0,
    dkimAligned: dmarcPass,
    dispositions: {},
    reasons: {},
    headerFrom: {},
    spf: {},
    dkim: {},
    spfUnalignedPass: 0,
    dkimUnalignedPass: 0,
  };
}

const rules = { minMessages: 10 };
const noMarks: MarksDoc = {};

describe('detectAlerts', () => {
  it('alerts on a never-passing source at the threshold, not below it', () => {
    const findings = detectAlerts({
      report: report([record('203.0.113.5', 10, 'fail'), record('203.0.113.6', 9, 'fail')]),
      history: {},
      marks: noMarks,
      rules,
    });
    expect(findings.map((f) => [f.kind, f.ip, f.failing])).toEqual([['new-failing-source', '203.0.113.5', 10]]);
  });

  it('does not call a source new when it passed for the domain before, or passes in this very report', () => {
    const passedBefore = detectAlerts({
      report: report([record('198.51.100.1', 40, 'fail')]),
      // it passed long ago, failed steadily about 20 a day in the week before: 40 is less than 3x
      history: {
        '198.51.100.1': [
          entry('198.51.100.1', '2026-03-01', 100, 100),
          ...[3, 4, 5, 6, 7, 8, 9].map((d) => entry('198.51.100.1', `2026-06-0${d}`, 20, 0)),
        ],
      },
      marks: noMarks,
      rules,
    });
    expect(passedBefore).toEqual([]);
    const mixed = detectAlerts({
      report: report([record('198.51.100.2', 30, 'fail'), record('198.51.100.2', 5, 'pass')]),
      history: {},
      marks: noMarks,
      rules,
    });
    expect(mixed.map((f) => f.kind)).toEqual(['failing-surge']);
  });

  it('counts passes only for the same domain', () => {
    const findings = detectAlerts({
      report: report([record('192.0.2.9', 12, 'fail')]),
      history: { '192.0.2.9': [entry('192.0.2.9', '2026-06-01', 50, 50, 'other.example')] },
      marks: noMarks,
      rules,
    });
    expect(findings.map((f) => f.kind)).toEqual(['new-failing-source']);
  });

  it('calls a surge at three times the daily average of the week before', () => {
    // 70 failing over the 7 days before = 10 a day: 29 is not a surge, 30 is
    const history = {
      '198.51.100.1': [
        entry('198.51.100.1', '2026-06-01', 5, 5),
        ...[3, 4, 5, 6, 7, 8, 9].map((d) => entry('198.51.100.1', `2026-06-0${d}`, 10, 0)),
      ],
    };
    expect(
      detectAlerts({ report: report([record('198.51.100.1', 29, 'fail')]), history, marks: noMarks, rules }),
    ).toEqual([]);
    const findings = detectAlerts({
      report: report([record('198.51.100.1', 30, 'fail')]),
      history,
      marks: noMarks,
      rules,
    });
    expect(findings).toHaveLength(1);
    expect(findings[0]!.kind).toBe('failing-surge');
    expect(findings[0]!.baselinePerDay).toBe(10);
  });

  it('ignores the report day itself and later days in the baseline', () => {
    const history = {
      '198.51.100.1': [
        entry('198.51.100.1', '2026-06-01', 5, 5),
        entry('198.51.100.1', '2026-06-10', 500, 0),
        entry('198.51.100.1', '2026-06-11', 500, 0),
      ],
    };
    expect(
      detectAlerts({ report: report([record('198.51.100.1', 30, 'fail')]), history, marks: noMarks, rules }).map(
        (f) => f.baselinePerDay,
      ),
    ).toEqual([0]);
  });

  it('scales the baseline to a multi-day report', () => {
    // 10 a day before; a 3-day report needs 90 failing to count as a surge
    const history = {
      '198.51.100.1': [
        entry('198.51.100.1', '2026-05-01', 5, 5),
        ...[3, 4, 5, 6, 7, 8, 9].map((d) => entry('198.51.100.1', `2026-06-0${d}`, 10, 0)),
      ],
    };
    const threeDays = (count: number) =>
      report([record('198.51.100.1', count, 'fail')], '2026-06-10T00:00:00Z', '2026-06-13T00:00:00Z');
    expect(detectAlerts({ report: threeDays(89), history, marks: noMarks, rules })).toEqual([]);
    expect(detectAlerts({ report: threeDays(90), history, marks: noMarks, rules })).toHaveLength(1);
  });

  it('stays silent for sources marked spoof and still alerts for sources marked mine', () => {
    const marks: MarksDoc = {
      a: { subject: '203.0.113.5', verdict: 'spoof', by: 'u', at: '2026-06-01T00:00:00Z' },
      b: { subject: '203.0.113.6', verdict: 'mine', by: 'u', at: '2026-06-01T00:00:00Z' },
    };
    const findings = detectAlerts({
      report: report([record('203.0.113.5', 50, 'fail'), record('203.0.113.6', 20, 'fail')]),
      history: {},
      marks,
      rules,
    });
    expect(findings.map((f) => [f.ip, f.mark])).toEqual([['203.0.113.6', 'mine']]);
    expect(
      alertReply(findings[0]!).blocks.some((b) => b.type === 'text' && b.text.includes('marked this source as yours')),
    ).toBe(true);
  });
});

describe('alert classes', () => {
  it('names a one-off never-passing source spoofing and never advises authorising it; a steady one stays unconfirmed', () => {
    const spoofer = '203.0.113.9';
    const steady = '198.51.100.9';
    const history = {
      [spoofer]: [],
      // failing on 6 earlier days: a regular sender (5 days make one)
      [steady]: ['2026-06-01', '2026-06-02', '2026-06-03', '2026-06-04', '2026-06-05', '2026-06-06'].map((day) =>
        entry(steady, day, 3, 0),
      ),
    };
    const findings = detectAlerts({
      report: report([record(spoofer, 40, 'fail'), record(steady, 30, 'fail')]),
      history,
      marks: {},
      rules: { minMessages: 10 },
    });
    const byIp = Object.fromEntries(findings.map((finding) => [finding.ip, finding]));
    expect(byIp[spoofer]).toMatchObject({ kind: 'new-failing-source', class: 'spoofing', failing: 40 });
    expect(byIp[steady]).toMatchObject({ kind: 'new-failing-source', class: 'unconfirmed', failing: 30 });
    const text = JSON.stringify(alertReply(byIp[spoofer]!).blocks);
    expect(text).toContain('p=quarantine or p=reject will stop it');
    expect(text).toContain(`/dmarc mark ${spoofer} mine`);
    expect(text).not.toContain('align its SPF');
    expect(JSON.stringify(alertReply(byIp[steady]!).blocks)).toContain('align its SPF or DKIM');
  });
});
