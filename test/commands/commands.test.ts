// Each /dmarc command on a generated history whose answers are known by construction (see scenario.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer } from '../../src/command-kit/dispatch.ts';
import { commandRegistry } from '../../src/command-kit/registry.ts';
import type { CommandDef } from '../../src/command-kit/types.ts';
import type { DateInsight, IpInsight, Readiness, SourcesInsight, Summary } from '../../src/insight/types.ts';
import { renderTerminal } from '../../src/render/terminal.ts';
import { testContext } from './context.ts';
import {
  DAYS,
  DOMAIN,
  FIRST_DAY,
  FORGOTTEN,
  GOOGLE,
  LAST_DAY,
  NOW,
  OWN,
  SPOOF_DAY,
  SPOOFERS,
  scenarioReports,
  storeWith,
  type TestStore,
} from './scenario.ts';

let fixture: TestStore;
beforeAll(async () => {
  fixture = await storeWith(scenarioReports());
});
afterAll(() => fixture.close());

const ask = (line: string) => answer(line, testContext(fixture.store, { now: NOW }));

describe('ip', () => {
  it('explains the forgotten sender: every message fails, SPF passes for the ESP but is not aligned', async () => {
    const reply = await ask('ip 198.51.100.20');
    const data = reply.data as IpInsight;
    expect(reply.error).toBeUndefined();
    expect(data).toMatchObject({
      ip: FORGOTTEN,
      messages: 20 * DAYS,
      dmarcPass: 0,
      dmarcFail: 20 * DAYS,
      firstSeen: FIRST_DAY,
      lastSeen: LAST_DAY,
      domains: [DOMAIN],
      reporters: ['google.com'],
    });
    expect(data.days).toHaveLength(DAYS);
    expect(data.hint).toMatchObject({
      code: 'spf-unaligned',
      params: { spfDomain: 'bounce.esp.example', domain: DOMAIN },
    });
    const text = renderTerminal(reply);
    expect(text).toContain('SPF passes for bounce.esp.example but is not aligned with example.com');
    expect(text).toContain('580');
  });

  it('counts the 3-day report with the daily ones, and names both reporters', async () => {
    const data = (await ask(`/dmarc ip ${OWN} days:30`)).data as IpInsight;
    expect(data.messages).toBe(100 * DAYS + 300);
    expect(data.dmarcFail).toBe(0);
    expect([...data.reporters].sort()).toEqual(['google.com', 'mail.ru']);
    expect(data.days.find((day) => day.date === '2026-06-11')?.messages).toBe(200);
  });

  it('names a known mailbox provider from offline data', async () => {
    const data = (await ask(`ip ${GOOGLE}`)).data as IpInsight;
    expect(data.sender).toBe('Google');
    expect(data.asn).toBe(15169);
    expect(data.hint?.code).toBe('forwarded');
  });

  it('says so for an IP that no report mentions, and respects the window', async () => {
    const unknown = await ask('ip 192.0.2.99');
    expect((unknown.data as IpInsight).known).toBe(false);
    expect(unknown.title).toContain('No reports mention 192.0.2.99');
    // still says who the address belongs to, when the offline data knows
    const google = await ask('ip 8.8.8.8');
    expect(renderTerminal(google)).toMatch(/Network:\s+AS15169 Google LLC/);
    // the spoofing day is 10 days before NOW: a 5-day window does not reach it
    expect(((await ask(`ip ${SPOOFERS[0]} days:5`)).data as IpInsight).known).toBe(false);
    expect(((await ask(`ip ${SPOOFERS[0]} days:11`)).data as IpInsight).messages).toBe(40);
  });
});

describe('date', () => {
  it('lists both reports covering a day inside the 3-day report, with their messages', async () => {
    const reply = await ask('date 2026-06-11');
    const data = reply.data as DateInsight;
    expect(data).toMatchObject({
      date: '2026-06-11',
      reports: 2,
      messages: 100 + 20 + 5 + 100,
      dmarcPass: 200,
      dmarcFail: 25,
    });
    const domain = data.domains[0]!;
    expect(domain.reports.map((r) => `${r.orgName}:${r.messages}`).sort()).toEqual(['google.com:125', 'mail.ru:100']);
    expect(domain.failingSources.map((s) => s.ip).sort()).toEqual([FORGOTTEN, GOOGLE].sort());
  });

  it('shows the spoofing burst on its day', async () => {
    const data = (await ask(`date ${SPOOF_DAY}`)).data as DateInsight;
    expect(data.messages).toBe(100 + 20 + 5 + 5 * 40);
    expect(data.domains[0]!.failingSources.map((s) => s.ip)).toEqual(expect.arrayContaining(SPOOFERS.slice(0, 3)));
  });

  it('answers yesterday as a UTC day, also east of UTC in the morning, and says so', async () => {
    // 2026-06-30 23:30 UTC is 08:30 on 1 July in Tokyo: the UTC yesterday (29 June) has reports.
    const morning = await answer(
      'date yesterday',
      testContext(fixture.store, { now: new Date('2026-06-30T23:30:00Z'), timeZone: 'Asia/Tokyo' }),
    );
    expect((morning.data as DateInsight).date).toBe(LAST_DAY);
    expect((morning.data as DateInsight).messages).toBe(125);
    expect(renderTerminal(morning)).toContain('today and yesterday are UTC days');
  });

  it('answers today with the latest day that has reports, and says which', async () => {
    // Reports for 30 June have not arrived: the answer is 29 June, with a line that says so.
    const today = await ask('date today');
    expect((today.data as DateInsight).date).toBe(LAST_DAY);
    expect((today.data as DateInsight).reports).toBe(1);
    expect(renderTerminal(today)).toContain('the latest day with reports is Jun 29, 2026');
  });

  it('says when no report covers the day, and refuses a future day with a clear message', async () => {
    const reply = await ask('date 2026-05-15');
    expect((reply.data as DateInsight).reports).toBe(0);
    expect(reply.title).toContain('No reports cover');
    const future = await ask('date 2026-07-15');
    expect(future.title).toBe('Jul 15, 2026 is in the future');
    expect(renderTerminal(future)).toContain('today is Jun 30, 2026 (UTC)');
  });
});

describe('ready and mark', () => {
  it('blocks on the unconfirmed forgotten sender, lists forwarding and spoofing without blocking on them', async () => {
    const reply = await ask('ready example.com');
    const data = reply.data as Readiness;
    expect(data).toMatchObject({ domain: DOMAIN, verdict: 'not-ready' });
    expect(Object.keys(data)).toEqual(
      expect.arrayContaining(['domain', 'verdict', 'checks', 'blockers', 'policy', 'nextStep']),
    );
    expect(data.blockers.map((b) => [b.sender, b.class])).toEqual([[FORGOTTEN, 'unconfirmed']]);
    // each blocker is offered for a decision (Mine / Spoof / Details buttons on the platforms)
    expect(reply.choices).toEqual([{ subject: FORGOTTEN }]);
    expect(data.sources.find((s) => s.sender === 'Google')?.class).toBe('forwarded');
    expect(
      data.sources
        .filter((s) => s.class === 'spoofing')
        .map((s) => s.ips[0])
        .sort(),
    ).toEqual(SPOOFERS);
    expect(data.nextStep.code).toBe('confirm-sender');
    expect(renderTerminal(reply)).toContain(`/dmarc mark "${FORGOTTEN}" mine|spoof`);
  });

  it('changes the verdict after mark: mine keeps it a blocker with its fix, spoof clears the way to quarantine', async () => {
    const store = await storeWith(scenarioReports());
    try {
      const context = testContext(store.store, { now: NOW });
      const typo = await answer('mark "Gogle" spoof', context);
      expect(typo.tone).toBe('warning');
      expect(renderTerminal(typo)).toContain('No source named Gogle appears in the last 90 days');
      await answer('mark Gogle clear', context);
      // Google is a recognised service: the mark waits for force:yes
      const unforced = await answer('mark google mine', context);
      expect(unforced.data).toMatchObject({ stored: false, needsForce: true, reason: 'service' });
      expect(renderTerminal(unforced)).toContain('force:yes');
      expect(await store.store.marks()).toEqual({});
      const byName = await answer('mark google mine force:yes', context);
      expect(byName.tone).toBe('good');
      await answer('mark Google clear', context);
      const marked = await answer(`mark ${FORGOTTEN} mine`, context);
      expect(marked.tone).toBe('good');
      expect(marked.data).toMatchObject({
        subject: FORGOTTEN,
        verdict: 'mine',
        by: 'terminal:alice',
        at: NOW.toISOString(),
      });
      expect(Object.values(await store.store.marks())).toEqual([
        expect.objectContaining({ subject: FORGOTTEN, verdict: 'mine' }),
      ]);
      const mine = (await answer('ready example.com', context)).data as Readiness;
      expect(mine.verdict).toBe('not-ready');
      expect(mine.blockers[0]).toMatchObject({
        sender: FORGOTTEN,
        class: 'legitimate-failing',
        hint: { code: 'spf-unaligned' },
      });
      expect(mine.nextStep).toMatchObject({ code: 'fix-blocker', params: { sender: FORGOTTEN, fix: 'spf-unaligned' } });

      await answer(`mark ${FORGOTTEN} spoof`, context);
      const spoof = (await answer('ready example.com', context)).data as Readiness;
      expect(spoof.blockers).toEqual([]);
      expect(spoof.verdict).toBe('ready-quarantine');
      expect(spoof.nextStep.code).toBe('publish-quarantine-testing');

      const cleared = await answer(`mark ${FORGOTTEN} clear`, context);
      expect(cleared.error).toBeUndefined();
      expect(await store.store.marks()).toEqual({});
      expect(((await answer('ready example.com', context)).data as Readiness).verdict).toBe('not-ready');
    } finally {
      await store.close();
    }
  });

  it('answers every domain without a domain argument, and says when there is no data', async () => {
    const all = (await ask('ready')).data as Readiness[];
    expect(all.map((r) => r.domain)).toEqual([DOMAIN]);
    const late = await answer(
      'ready example.com',
      testContext(fixture.store, { now: new Date('2027-06-30T00:00:00Z') }),
    );
    expect(late.title).toBe('No data for readiness');
  });
});

describe('summary, sources, help', () => {
  it('totals the domain over the window', async () => {
    const data = (await ask('summary 30')).data as Summary;
    const expected = DAYS * 125 + 5 * 40 + 300;
    expect(data.messages).toBe(expected);
    expect(data.dmarcPass).toBe(DAYS * 100 + 300);
    expect(data.domains.map((d) => d.domain)).toEqual([DOMAIN]);
  });

  it('ranks the senders by what needs action first, then volume, and names their class', async () => {
    const data = (await ask('sources')).data as SourcesInsight;
    expect(data.sources.map((s) => [s.sender, s.class])).toEqual([
      [FORGOTTEN, 'unconfirmed'],
      [OWN, 'aligned'],
      ['Google', 'forwarded'],
      ...SPOOFERS.map((ip) => [ip, 'spoofing']),
    ]);
    expect(data).toMatchObject({ total: 8, ips: 8, messages: DAYS * 125 + 5 * 40 + 300 });
  });

  it('lists every command with an example', async () => {
    const reply = await ask('help');
    const text = renderTerminal(reply);
    for (const name of ['ip', 'date', 'ready', 'mark', 'marks', 'summary', 'sources', 'failures', 'tls', 'help'])
      expect(text).toContain(`/dmarc ${name}`);
    expect(text).toContain('/dmarc ip <address> [<days>]');
  });

  it('explains one command with its options and every example', async () => {
    const reply = await ask('help mark');
    expect(reply.title).toBe('/dmarc mark <subject> <verdict> [force:<force>]');
    const text = renderTerminal(reply);
    expect(text).toContain('mine, spoof or clear');
    expect(text).toContain('/dmarc mark 203.0.113.5 clear');
  });

  it('lists the commands of the registry it was dispatched from, not a fixed list', async () => {
    const help = commandRegistry.find((command) => command.name === 'help')!;
    const extra: CommandDef = {
      name: 'extra',
      description: 'An extra command',
      options: [{ name: 'level', description: 'how loud', type: 'integer' }],
      examples: ['extra level:3'],
      handler: async () => ({ title: 'extra', tone: 'info', blocks: [] }),
    };
    const registry = [help, extra];
    const context = testContext(fixture.store, { now: NOW });
    const all = (await answer('help', context, registry)).data as { commands: Array<{ name: string }> };
    expect(all.commands.map((command) => command.name)).toEqual(['help', 'extra']);
    const one = await answer('help extra', context, registry);
    expect(one.title).toBe('/dmarc extra [level:N]');
    expect(renderTerminal(one)).toContain('how loud');
    expect(renderTerminal(one)).toContain('An extra command');
  });
});

describe('failures inside a command', () => {
  it('become an error reply naming the cause instead of a crash', async () => {
    const broken = await storeWith([]);
    await broken.close();
    const reply = await answer('summary', testContext(broken.store, { now: NOW }));
    expect(reply.error).toBe(true);
    expect(reply.title).toBe('Could not answer');
    expect(renderTerminal(reply)).toMatch(/Could not answer "summary": \S/);
  });
});
