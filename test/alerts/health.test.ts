// The health detectors on generated day histories whose right answer is known by construction.
import { describe, expect, it } from 'vitest';
import { detectHealth } from '../../src/alerts/health.ts';
import { healthReply } from '../../src/alerts/health-render.ts';
import type { SourceStat } from '../../src/store/types.ts';
import { aligned, history, mixed, noAuth, policy } from '../insight/history.ts';

const domain = 'example.com';
const OWN = '192.0.2.10';
const ESP = '198.51.100.20';
const SPOOF = '203.0.113.66';

/** a mail service signing with its own key of our domain (aligned DKIM, selector esp1) */
function esp(n: number): SourceStat {
  return { ...aligned(ESP, n, domain), dkim: { [`${domain} esp1 pass`]: n } };
}

/** 30 days up to `endDay`; `perDay` overrides the steady traffic of a day */
function days(endDay: string, perDay?: (index: number) => SourceStat[] | null) {
  return history({
    domain,
    endDay,
    days: 30,
    policy: policy(domain, 'none'),
    perDay: (index) => perDay?.(index) ?? [aligned(OWN, 500, domain), esp(40), noAuth(SPOOF, 5, domain)],
  });
}

describe('health detectors', () => {
  it('stay quiet on a steady history', () => {
    expect(detectHealth({ domains: [domain], days: days('2026-06-10'), marks: {}, today: '2026-06-11' })).toEqual([]);
    // reports a day or two late are normal, not "no reports"
    expect(detectHealth({ domains: [domain], days: days('2026-06-10'), marks: {}, today: '2026-06-13' })).toEqual([]);
  });

  it('pass rate dropped against the 7-day baseline; the threshold is a setting', () => {
    const history = days('2026-06-10', (i) => (i === 29 ? [mixed(OWN, 500, 200, domain), esp(40)] : null));
    const findings = detectHealth({ domains: [domain], days: history, marks: {}, today: '2026-06-11' });
    expect(findings).toHaveLength(1);
    const [drop] = findings;
    expect(drop).toMatchObject({ kind: 'pass-rate-drop', domain, day: '2026-06-10', messages: 540, failing: 300 });
    if (drop?.kind !== 'pass-rate-drop') throw new Error('unexpected');
    expect(drop.rate).toBeCloseTo(240 / 540);
    expect(drop.baselineRate).toBeCloseTo(540 / 545);
    const reply = healthReply(drop);
    expect(reply.title).toContain('44.4 %');
    expect(JSON.stringify(reply.blocks)).toContain('What to do');
    expect(JSON.stringify(reply.blocks)).toContain('/dmarc date 2026-06-10');

    // a fall of 55 points does not cross a 60-point threshold
    expect(
      detectHealth({ domains: [domain], days: history, marks: {}, today: '2026-06-11', rules: { passRateDrop: 0.6 } }),
    ).toEqual([]);
  });

  it('a spoofing wave from a source marked spoof does not count as a drop', () => {
    const history = days('2026-06-10', (i) =>
      i === 29 ? [aligned(OWN, 500, domain), esp(40), noAuth(SPOOF, 5000, domain)] : null,
    );
    expect(
      detectHealth({ domains: [domain], days: history, marks: {}, today: '2026-06-11' }).map((f) => f.kind),
    ).toEqual(['pass-rate-drop']);
    const marks = { [SPOOF]: { subject: SPOOF, verdict: 'spoof' as const, by: 'U1', at: '2026-06-01T00:00:00Z' } };
    expect(detectHealth({ domains: [domain], days: history, marks, today: '2026-06-11' })).toEqual([]);
  });

  it('a regular sender that went quiet, named by its DKIM key; quiet shorter than N days is not', () => {
    // the mail service stops on the last four days; our own server goes on
    const history = days('2026-06-10', (i) => (i >= 26 ? [aligned(OWN, 500, domain), noAuth(SPOOF, 5, domain)] : null));
    const findings = detectHealth({ domains: [domain], days: history, marks: {}, today: '2026-06-11' });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'sender-quiet',
      sender: `DKIM key esp1 of ${domain}`,
      ips: [ESP],
      lastSeen: '2026-06-06',
      daysSeen: 10,
    });
    expect(healthReply(findings[0]!).title).toContain('went quiet');
    expect(
      detectHealth({ domains: [domain], days: history, marks: {}, today: '2026-06-11', rules: { quietDays: 5 } }),
    ).toEqual([]);
  });

  it('an occasional sender going silent is not a regular one going quiet', () => {
    // seen every third day only
    const history = days('2026-06-10', (i) =>
      i % 3 === 0 && i < 26 ? null : [aligned(OWN, 500, domain), noAuth(SPOOF, 5, domain)],
    );
    expect(detectHealth({ domains: [domain], days: history, marks: {}, today: '2026-06-11' })).toEqual([]);
  });

  it('no reports for a domain for N days, and only that (the other checks need recent days)', () => {
    const history = days('2026-06-05');
    const findings = detectHealth({
      domains: [domain, 'quiet.example'],
      days: history,
      marks: {},
      today: '2026-06-11',
    });
    expect(findings).toEqual([
      { kind: 'no-reports', domain, subject: domain, lastDay: '2026-06-05', daysSince: 6 },
      { kind: 'no-reports', domain: 'quiet.example', subject: 'quiet.example', lastDay: null, daysSince: null },
    ]);
    expect(JSON.stringify(healthReply(findings[0]!).blocks)).toContain('rua=');
    expect(
      detectHealth({ domains: [domain], days: history, marks: {}, today: '2026-06-11', rules: { noReportsDays: 7 } }),
    ).toEqual([]);
  });
});
