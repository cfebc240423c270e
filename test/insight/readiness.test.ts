// The readiness verdict on generated 30-day histories, one per verdict, and its change after a mark.
// Each history is small enough to count by hand: the expected figures follow from its construction.

import { describe, expect, it } from 'vitest';
import {
  readiness,
  readinessWith,
  DEFAULT_THRESHOLDS,
  reportedPolicy,
  sourceList,
} from '../../src/insight/readiness.ts';
import { windowEnding } from '../../src/insight/stats.ts';
import type { MarksDoc } from '../../src/store/types.ts';
import type { PolicyPublished } from '../../src/model.ts';
import type { SenderIdentity } from '../../src/insight/types.ts';
import {
  aligned,
  forwarded,
  history,
  identity,
  mailingList,
  mergeDays,
  mixed,
  noAuth,
  policy,
  spfOnly,
  spfUnaligned,
} from './history.ts';

const domain = 'example.com';
const endDay = '2026-11-28';
const window = windowEnding(new Date('2026-11-28T12:00:00Z'), 30);
const own = '192.0.2.10';
const relay = '198.51.100.7';

/** 30 days, 20 aligned messages a day from the owner's server, plus whatever `extra` adds. */
function month(p: PolicyPublished, extra: (index: number) => ReturnType<typeof aligned>[] = () => []) {
  return history({
    domain,
    endDay,
    days: 30,
    policy: p,
    perDay: (index) => [aligned(own, 20, domain), ...extra(index)],
  });
}

function mark(subject: string, verdict: 'mine' | 'spoof'): MarksDoc {
  return { [subject]: { subject, verdict, by: 'owner', at: '2026-11-28T10:00:00Z' } };
}

const check = (result: ReturnType<typeof readiness>, id: string) => result.checks.find((c) => c.id === id)!;

describe('readiness verdicts', () => {
  it('insufficient-data: reports on only 10 days', () => {
    const days = history({
      domain,
      endDay,
      days: 30,
      policy: policy(domain, 'none'),
      perDay: (index) => (index >= 20 ? [aligned(own, 20, domain)] : []),
    });
    const result = readiness({ domain, days, identities: {}, marks: {}, thresholds: DEFAULT_THRESHOLDS, window });
    expect(result.verdict).toBe('insufficient-data');
    expect(check(result, 'days-with-reports')).toMatchObject({ ok: false, value: 10, threshold: 14 });
    expect(check(result, 'messages')).toMatchObject({ ok: true, value: 200 });
    expect(result.nextStep).toEqual({
      code: 'collect-more-data',
      params: { domain, days: 10, minDays: 14, messages: 200, minMessages: 100 },
    });
  });

  it('not-ready: a forgotten relay that passes SPF only for its own domain blocks as unconfirmed', () => {
    // 3 messages a day on all 30 days, never aligned, not a known service: a steady sender.
    const days = month(policy(domain, 'none'), () => [spfUnaligned(relay, 3, domain, 'isp-relay.example')]);
    const result = readiness({ domain, days, identities: {}, marks: {}, thresholds: DEFAULT_THRESHOLDS, window });
    expect(result.verdict).toBe('not-ready');
    const relaySource = result.sources.find((s) => s.key === relay)!;
    expect(relaySource).toMatchObject({ class: 'unconfirmed', messages: 90, dmarcPass: 0, activeDays: 30 });
    expect(result.blockers).toEqual([
      {
        sender: relay,
        class: 'unconfirmed',
        blocks: 'quarantine',
        messages: 90,
        failing: 90,
        ips: [relay],
        hint: { code: 'spf-unaligned', params: { spfDomain: 'isp-relay.example', domain, failing: 90 } },
      },
    ]);
    // 600 of 690 considered messages pass
    expect(result.figures.passRate).toBeCloseTo(600 / 690, 10);
    expect(check(result, 'unconfirmed-senders')).toMatchObject({ ok: false, value: 1 });
    expect(result.nextStep).toEqual({
      code: 'confirm-sender',
      params: { domain, sender: relay, messages: 90, unconfirmed: 1 },
    });
  });

  it('ready-quarantine: spoofing burst and forwarded mail are left out of the pass rate', () => {
    const burst = Array.from({ length: 40 }, (_, i) => `203.0.113.${i + 1}`);
    const google: SenderIdentity = identity('209.85.220.41', {
      key: 'google',
      name: 'Google',
      by: 'known',
      service: 'google',
      forwarder: true,
    });
    const days = month(policy(domain, 'none'), (index) => [
      forwarded('209.85.220.41', 2, domain),
      ...(index === 10 || index === 11 ? burst.map((ip) => noAuth(ip, 2, domain)) : []),
    ]);
    const result = readiness({
      domain,
      days,
      identities: { '209.85.220.41': google },
      marks: {},
      thresholds: DEFAULT_THRESHOLDS,
      window,
    });
    expect(result.figures).toMatchObject({
      messages: 600 + 60 + 160,
      spoofingMessages: 160,
      forwardedMessages: 60,
      consideredMessages: 600,
      consideredPass: 600,
      passRate: 1,
    });
    expect(result.sources.find((s) => s.key === 'google')).toMatchObject({
      class: 'forwarded',
      sender: 'Google',
      messages: 60,
    });
    expect(
      result.sources
        .filter((s) => s.class === 'spoofing')
        .map((s) => s.key)
        .sort(),
    ).toEqual([...burst].sort());
    expect(result.blockers).toEqual([]);
    expect(result.verdict).toBe('ready-quarantine');
    // p=none: quarantine first, in RFC 9989 testing mode
    expect(result.nextStep).toEqual({
      code: 'publish-quarantine-testing',
      params: { domain, record: 'v=DMARC1; p=quarantine; t=y' },
    });
    expect(result.whyNotReject).toEqual({ code: 'quarantine-first', params: { domain } });
  });

  it('ready-reject: p=quarantine, 99.8 % pass, the one failing sender below 1 % of volume', () => {
    const mailchimp = identity('198.2.128.5', {
      key: 'mailchimp',
      name: 'Mailchimp',
      by: 'known',
      service: 'mailchimp',
    });
    const days = month(policy(domain, 'quarantine'), (index) => [
      index === 0 ? mixed('198.2.128.5', 10, 8, domain) : aligned('198.2.128.5', 10, domain),
    ]);
    const result = readiness({
      domain,
      days,
      identities: { '198.2.128.5': mailchimp },
      marks: {},
      thresholds: DEFAULT_THRESHOLDS,
      window,
    });
    expect(result.figures.passRate).toBeCloseTo(898 / 900, 10);
    // 298 of 300 is above the 98 % aligned rate
    expect(result.sources.find((s) => s.key === 'mailchimp')).toMatchObject({ class: 'aligned', dmarcFail: 2 });
    expect(result.verdict).toBe('ready-reject');
    expect(result.nextStep).toEqual({
      code: 'publish-reject-testing',
      params: { domain, record: 'v=DMARC1; p=reject; t=y' },
    });
    expect(result.policyAge).toEqual({ since: '2026-10-30', days: 30, atLeast: true });
    expect(result.policy).toMatchObject({
      p: 'quarantine',
      pct: null,
      testing: null,
      reportedBy: ['google.com'],
      lastSeen: endDay,
    });
  });

  it('enforced: p=reject at 100 % and without testing mode', () => {
    const result = readiness({
      domain,
      days: month(policy(domain, 'reject', { pct: 100 })),
      identities: {},
      marks: {},
      thresholds: DEFAULT_THRESHOLDS,
      window,
    });
    expect(result.verdict).toBe('enforced');
    expect(result.nextStep).toEqual({ code: 'keep-monitoring', params: { domain } });
  });

  it('enforced with a steady unknown sender failing: the next step is to decide about it', () => {
    const days = month(policy(domain, 'reject'), () => [spfUnaligned(relay, 3, domain, 'isp-relay.example')]);
    const result = readiness({ domain, days, identities: {}, marks: {}, thresholds: DEFAULT_THRESHOLDS, window });
    expect(result.verdict).toBe('enforced');
    expect(result.blockers.map((b) => b.sender)).toEqual([relay]);
    expect(result.nextStep).toMatchObject({ code: 'confirm-sender', params: { sender: relay } });
  });

  it('steps up one level at a time from the published policy', () => {
    const run = (p: PolicyPublished) =>
      readiness({ domain, days: month(p), identities: {}, marks: {}, thresholds: DEFAULT_THRESHOLDS, window });
    expect(run(policy(domain, 'none'))).toMatchObject({
      verdict: 'ready-quarantine',
      nextStep: { code: 'publish-quarantine-testing' },
    });
    expect(run(policy(domain, 'quarantine', { testing: 'y' }))).toMatchObject({
      verdict: 'ready-quarantine',
      nextStep: { code: 'publish-quarantine' },
    });
    expect(run(policy(domain, 'quarantine', { pct: 50 }))).toMatchObject({
      verdict: 'ready-quarantine',
      nextStep: { code: 'publish-quarantine' },
    });
    expect(run(policy(domain, 'quarantine'))).toMatchObject({
      verdict: 'ready-reject',
      nextStep: { code: 'publish-reject-testing' },
    });
    expect(run(policy(domain, 'reject', { testing: 'y' }))).toMatchObject({
      verdict: 'ready-reject',
      nextStep: { code: 'publish-reject' },
    });
    expect(run(policy(domain, 'reject', { pct: 20 }))).toMatchObject({
      verdict: 'ready-reject',
      nextStep: { code: 'publish-reject' },
    });
  });

  it('a known service that fails sometimes is a misaligned blocker with an intermittent hint', () => {
    const esp = identity('198.2.128.5', { key: 'mailchimp', name: 'Mailchimp', by: 'known', service: 'mailchimp' });
    // 10 a day, 6 passing: 120 failing of 900 considered, far above 1 %
    const days = month(policy(domain, 'none'), () => [mixed('198.2.128.5', 10, 6, domain)]);
    const result = readiness({
      domain,
      days,
      identities: { '198.2.128.5': esp },
      marks: {},
      thresholds: DEFAULT_THRESHOLDS,
      window,
    });
    expect(result.verdict).toBe('not-ready');
    expect(result.blockers).toEqual([
      {
        sender: 'Mailchimp',
        class: 'legitimate-failing',
        blocks: 'quarantine',
        messages: 300,
        failing: 120,
        ips: ['198.2.128.5'],
        hint: { code: 'intermittent', params: { domain, passPercent: 60, failing: 120 } },
      },
    ]);
    expect(check(result, 'legit-failing')).toMatchObject({ ok: false, value: 120 / 900 });
    expect(result.nextStep).toMatchObject({
      code: 'fix-blocker',
      params: { sender: 'Mailchimp', fix: 'intermittent', failing: 120 },
    });
  });
});

describe('readiness by the DMARC rules (RFC 9989)', () => {
  it('reject needs DKIM: a legitimate sender passing through SPF alone blocks reject, not quarantine', () => {
    // p=quarantine for the whole window, everything passes, but 5 a day of a second server pass
    // only through aligned SPF: 150 of 750 messages would fail once forwarded.
    const spfServer = '192.0.2.20';
    const days = month(policy(domain, 'quarantine'), () => [spfOnly(spfServer, 5, domain)]);
    const result = readiness({ domain, days, identities: {}, marks: {}, thresholds: DEFAULT_THRESHOLDS, window });
    expect(result.figures).toMatchObject({ passRate: 1, spfOnlyMessages: 150 });
    expect(result.verdict).toBe('ready-quarantine');
    expect(check(result, 'dkim-for-reject')).toMatchObject({ ok: false, value: 1 });
    expect(result.blockers).toEqual([
      {
        sender: spfServer,
        class: 'aligned',
        blocks: 'reject',
        messages: 150,
        failing: 150,
        ips: [spfServer],
        hint: { code: 'spf-only', params: { domain, spfOnly: 150 } },
      },
    ]);
    expect(result.whyNotReject).toEqual({
      code: 'needs-dkim',
      params: { domain, sender: spfServer, senders: 1, spfOnly: 150 },
    });
    expect(result.nextStep).toMatchObject({ code: 'fix-blocker', params: { sender: spfServer, fix: 'spf-only' } });
  });

  it('mailing-list traffic holds the verdict at quarantine and says why', () => {
    const list = '198.51.100.50';
    // 2 a day through a list (our signature broken, the list's own passing), 1 a day with the
    // mailing_list override reason on a second list server
    const days = month(policy(domain, 'quarantine'), () => [
      mailingList(list, 2, domain),
      mailingList('198.51.100.51', 1, domain, true),
    ]);
    const result = readiness({ domain, days, identities: {}, marks: {}, thresholds: DEFAULT_THRESHOLDS, window });
    expect(result.sources.filter((s) => s.class === 'mailing-list').map((s) => s.messages)).toEqual([60, 30]);
    expect(result.figures).toMatchObject({ mailingListMessages: 90, consideredMessages: 600, passRate: 1 });
    expect(check(result, 'mailing-list')).toMatchObject({ ok: false, value: 90 });
    expect(result.verdict).toBe('ready-quarantine');
    expect(result.whyNotReject).toEqual({ code: 'hold-mailing-list', params: { domain, messages: 90 } });
    expect(result.nextStep).toEqual(result.whyNotReject);
  });

  it("advises a month at quarantine before reject, counted from the reports' policy_published", () => {
    // p=none for 18 days, then p=quarantine for the last 12
    const days = history({
      domain,
      endDay,
      days: 30,
      policy: policy(domain, 'none'),
      perDay: () => [aligned(own, 20, domain)],
    }).map((doc, index) => {
      if (index < 18) return doc;
      for (const key in doc.reports) doc.reports[key]!.policy = policy(domain, 'quarantine');
      return doc;
    });
    const result = readiness({ domain, days, identities: {}, marks: {}, thresholds: DEFAULT_THRESHOLDS, window });
    expect(result.policyAge).toEqual({ since: '2026-11-17', days: 12, atLeast: false });
    expect(check(result, 'time-at-policy')).toMatchObject({ ok: false, value: 12, threshold: 30 });
    expect(result.verdict).toBe('ready-quarantine');
    expect(result.whyNotReject).toEqual({ code: 'wait-at-quarantine', params: { domain, days: 12, minDays: 30 } });
  });

  it('gives the exact record to publish, keeping sp/np and strict alignment, without pct', () => {
    const days = month(policy(domain, 'quarantine', { testing: 'y', pct: 50, sp: 'none', adkim: 's' }));
    const result = readiness({ domain, days, identities: {}, marks: {}, thresholds: DEFAULT_THRESHOLDS, window });
    expect(result.nextStep).toEqual({
      code: 'publish-quarantine',
      params: { domain, record: 'v=DMARC1; p=quarantine; sp=none; adkim=s' },
    });
  });
});

describe('readiness after a mark', () => {
  const relayMonth = () => month(policy(domain, 'none'), () => [spfUnaligned(relay, 3, domain, 'isp-relay.example')]);

  it('mine turns the unconfirmed relay into a misaligned blocker with its fix', () => {
    const result = readiness({
      domain,
      days: relayMonth(),
      identities: {},
      marks: mark(relay, 'mine'),
      thresholds: DEFAULT_THRESHOLDS,
      window,
    });
    expect(result.verdict).toBe('not-ready');
    expect(result.blockers).toHaveLength(1);
    expect(result.blockers[0]).toMatchObject({
      class: 'legitimate-failing',
      failing: 90,
      hint: { code: 'spf-unaligned' },
    });
    expect(result.nextStep).toMatchObject({ code: 'fix-blocker', params: { sender: relay, fix: 'spf-unaligned' } });
  });

  it('spoof takes the relay out of the pass rate: ready for quarantine', () => {
    const result = readiness({
      domain,
      days: relayMonth(),
      identities: {},
      marks: mark(relay, 'spoof'),
      thresholds: DEFAULT_THRESHOLDS,
      window,
    });
    expect(result.sources.find((s) => s.key === relay)).toMatchObject({ class: 'spoofing', mark: 'spoof' });
    expect(result.figures).toMatchObject({ spoofingMessages: 90, consideredMessages: 600, passRate: 1 });
    expect(result.verdict).toBe('ready-quarantine');
  });

  it('mine makes a sporadic never-passing source a blocker', () => {
    const stray = '203.0.113.99';
    const days = month(policy(domain, 'none'), (index) => (index === 5 ? [noAuth(stray, 2, domain)] : []));
    const before = readiness({ domain, days, identities: {}, marks: {}, thresholds: DEFAULT_THRESHOLDS, window });
    expect(before.sources.find((s) => s.key === stray)?.class).toBe('spoofing');
    expect(before.verdict).toBe('ready-quarantine');
    const after = readiness({
      domain,
      days,
      identities: {},
      marks: mark(stray, 'mine'),
      thresholds: DEFAULT_THRESHOLDS,
      window,
    });
    expect(after.verdict).toBe('not-ready');
    expect(after.blockers).toEqual([
      {
        sender: stray,
        class: 'legitimate-failing',
        blocks: 'quarantine',
        messages: 2,
        failing: 2,
        ips: [stray],
        hint: { code: 'no-auth', params: { domain, ip: stray, failing: 2 } },
      },
    ]);
  });

  it('a mark on a sender name applies to the whole group; a mark on one IP splits it out', () => {
    const isp = (ip: string) =>
      identity(ip, { key: 'isp.example', name: 'isp.example', by: 'ptr', ptr: `${ip}.isp.example` });
    const ips = ['198.51.100.7', '198.51.100.8'];
    const identities = Object.fromEntries(ips.map((ip) => [ip, isp(ip)]));
    const days = month(policy(domain, 'none'), () => ips.map((ip) => spfUnaligned(ip, 3, domain, 'isp-relay.example')));
    const byName = readiness({
      domain,
      days,
      identities,
      marks: mark('ISP.example', 'spoof'),
      thresholds: DEFAULT_THRESHOLDS,
      window,
    });
    expect(byName.sources.find((s) => s.key === 'isp.example')).toMatchObject({
      class: 'spoofing',
      ipCount: 2,
      messages: 180,
    });
    const byIp = readiness({
      domain,
      days,
      identities,
      marks: mark('198.51.100.8', 'spoof'),
      thresholds: DEFAULT_THRESHOLDS,
      window,
    });
    expect(byIp.sources.find((s) => s.key === '198.51.100.8')).toMatchObject({ class: 'spoofing', messages: 90 });
    expect(byIp.sources.find((s) => s.key === 'isp.example')).toMatchObject({
      class: 'unconfirmed',
      ipCount: 1,
      messages: 90,
    });
    expect(byIp.verdict).toBe('not-ready');
  });
});

describe('reported policy', () => {
  it('takes the policy most reporters showed on the latest day with reports', () => {
    const base = (orgName: string, p: PolicyPublished) =>
      history({ domain, endDay, days: 3, policy: p, orgName, perDay: () => [aligned(own, 1, domain)] });
    const days = mergeDays(
      base('google.com', policy(domain, 'quarantine', { testing: 'y' })),
      base('Yahoo', policy(domain, 'quarantine', { testing: 'y' })),
      base('stale.example', policy(domain, 'none')),
    );
    expect(reportedPolicy(days, domain, window)).toMatchObject({
      p: 'quarantine',
      testing: 'y',
      reportedBy: ['Yahoo', 'google.com'],
      lastSeen: endDay,
    });
    expect(reportedPolicy(days, 'other.example', window)).toBeNull();
  });
});

describe('the list of sender groups, read in part', () => {
  // groups of every rank: an unconfirmed relay, legitimate failing and aligned senders, spoofing
  // sources of equal volume (their order is decided by the key)
  const days = month(policy(domain, 'none'), (index) => [
    spfUnaligned(relay, 3, domain, 'isp.example'),
    mixed('192.0.2.20', 4, 3, domain),
    aligned('192.0.2.30', 1 + (index % 3), domain),
    ...Array.from({ length: 12 }, (_, i) => noAuth(`203.0.113.${((index * 7 + i) % 40) + 1}`, 1 + (i % 2), domain)),
  ]);
  const input = {
    domain,
    days,
    identities: {},
    marks: mark('192.0.2.30', 'mine'),
    thresholds: DEFAULT_THRESHOLDS,
    window,
  };

  it('gives the head, the count, the messages and a selection of the sorted list without building it', () => {
    const lazy = sourceList(readiness(input));
    const all = readiness(input).sources;
    expect(all.length).toBeGreaterThan(20);
    expect(lazy.count).toBe(all.length);
    for (const n of [0, 1, 3, 15, all.length, all.length + 5]) expect(lazy.first(n)).toEqual(all.slice(0, n));
    expect(lazy.messages()).toBe(all.reduce((sum, source) => sum + source.messages, 0));
    const test = (s: { class: string; mark: string | null }) => s.class !== 'spoofing' || s.mark === 'mine';
    expect(lazy.where(test)).toEqual(all.filter(test));
  });

  it('a copy with changes reads as a spread copy, and its sources are still the same list', () => {
    const result = readiness(input);
    const copy = readinessWith(result, { checks: [], verdict: 'not-ready' as const, extra: 1 });
    const spread = { ...readiness(input), checks: [], verdict: 'not-ready' as const, extra: 1 };
    expect(JSON.stringify(copy)).toBe(JSON.stringify(spread));
    expect(sourceList(copy).first(5)).toEqual(spread.sources.slice(0, 5));
    expect(copy.sources).toBe(result.sources);
  });
});
