// Answers you can trust, on histories whose figures are known by construction (scenario.ts):
// one classification everywhere, days a report touches, nothing hidden, and the commands that
// show marks, failure and TLS reports.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer } from '../../src/command-kit/dispatch.ts';
import { buildDigest } from '../../src/digest/build.ts';
import type { DateInsight, IpInsight, Readiness } from '../../src/insight/types.ts';
import type { FailuresInsight, TlsInsight } from '../../src/insight/reports.ts';
import type { FailureReport, TlsReport } from '../../src/model.ts';
import { renderTerminal } from '../../src/render/terminal.ts';
import { testContext } from './context.ts';
import {
  DOMAIN,
  FORGOTTEN,
  GOOGLE,
  NOW,
  OWN,
  SPOOF_DAY,
  SPOOFERS,
  record,
  report,
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

describe('one classification of a source', () => {
  it('ip shows the class ready uses and a hint that follows from it: a spoofer is never advised into SPF', async () => {
    const ready = (await ask('ready example.com')).data as Readiness;
    const classOf = (ip: string) => ready.sources.find((source) => source.ips.includes(ip))?.class;
    for (const ip of [SPOOFERS[0]!, FORGOTTEN, GOOGLE, OWN]) {
      const data = (await ask(`ip ${ip} 30`)).data as IpInsight;
      expect(data.class, ip).toBe(classOf(ip));
    }
    const spoofer = await ask(`ip ${SPOOFERS[0]}`);
    expect(spoofer.data).toMatchObject({
      class: 'spoofing',
      mark: null,
      messages: 40,
      hint: { code: 'spoofing', params: { domain: DOMAIN, subject: SPOOFERS[0], failing: 40 } },
    });
    const text = renderTerminal(spoofer);
    expect(text).toMatch(/Class:\s+spoofing/);
    expect(text).toContain(
      `p=quarantine or p=reject will stop this mail. If it is yours after all: /dmarc mark ${SPOOFERS[0]} mine`,
    );
    expect(text).not.toMatch(/SPF record|sign with DKIM/);
    expect(((await ask(`ip ${FORGOTTEN}`)).data as IpInsight).class).toBe('unconfirmed');
  });

  it('date and the digest name the same classes', async () => {
    const date = (await ask(`date ${SPOOF_DAY}`)).data as DateInsight;
    const failing = date.domains[0]!.failingSources;
    expect(failing[0]).toMatchObject({ ip: FORGOTTEN, class: 'unconfirmed' });
    expect(failing.filter((s) => s.class === 'spoofing').map((s) => s.ip)).toEqual(SPOOFERS.slice(0, 4));
    // 5 spoofers + forgotten + Google fail that day; 5 are listed, the rest is counted
    expect(date.domains[0]!.failingSourcesTotal).toEqual({ count: 7, messages: 20 + 5 + 5 * 40 });
    expect(renderTerminal(await ask(`date ${SPOOF_DAY}`))).toContain('… and 2 more (45 messages)');

    const digest = await buildDigest(fixture.store, testContext(fixture.store, { now: NOW }), {
      since: new Date(`2026-06-21T00:00:00Z`),
      until: new Date(`2026-06-22T00:00:00Z`),
    });
    const domain = digest.data.domains[0]!;
    expect(domain.failingSources.map((s) => [s.ip, s.class])).toEqual([
      [FORGOTTEN, 'unconfirmed'],
      ...SPOOFERS.slice(0, 4).map((ip) => [ip, 'spoofing']),
    ]);
  });
});

describe('days a report touches', () => {
  it('a noon-to-noon report and a 97-hour report appear on every UTC day, each with its share', async () => {
    const noon = report('noon.example', 'noon', '2026-06-05T15:00:00.000Z', '2026-06-06T15:00:00.000Z', [
      record(OWN, 24, { spf: [[DOMAIN, 'pass']], dkim: [[DOMAIN, 'pass']] }),
    ]);
    // 23:00 on 1 June to 00:00 on 6 June: 1 h, then four whole days (97 hours, 97 messages)
    const long = report('long.example', 'long', '2026-06-01T23:00:00.000Z', '2026-06-06T00:00:00.000Z', [
      record(OWN, 97, { spf: [[DOMAIN, 'pass']], dkim: [[DOMAIN, 'pass']] }),
    ]);
    const store = await storeWith([noon, long]);
    try {
      const context = testContext(store.store, { now: NOW });
      const share = async (date: string, org: string) =>
        ((await answer(`date ${date}`, context)).data as DateInsight).domains[0]?.reports.find((r) => r.orgName === org)
          ?.messages;
      // 9 of 24 hours on the 5th, 15 on the 6th
      expect(await share('2026-06-05', 'noon.example')).toBe(9);
      expect(await share('2026-06-06', 'noon.example')).toBe(15);
      expect(await share('2026-06-01', 'long.example')).toBe(1);
      for (const date of ['2026-06-02', '2026-06-03', '2026-06-04', '2026-06-05'])
        expect(await share(date, 'long.example'), date).toBe(24);
      expect(await share('2026-06-06', 'long.example')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe('nothing hidden', () => {
  it('the digest has a spoofing line per domain over the ready window, and its readiness line names that window', async () => {
    const digest = await buildDigest(fixture.store, testContext(fixture.store, { now: NOW }), {
      since: new Date('2026-06-21T00:00:00Z'),
      until: new Date('2026-06-22T00:00:00Z'),
    });
    const domain = digest.data.domains[0]!;
    expect(domain.spoofing).toEqual({ sources: 5, messages: 200 });
    const ready = (await ask('ready example.com')).data as Readiness;
    expect(domain.readiness).toMatchObject({ verdict: ready.verdict, window: ready.window });
    const text = renderTerminal(digest.reply);
    expect(text).toContain(
      'Spoofing: 5 sources of spoofing sent 200 messages over Jun 1, 2026 to Jun 30, 2026: p=quarantine or p=reject would stop them',
    );
    expect(text).toContain('(as /dmarc ready, Jun 1, 2026 to Jun 30, 2026)');
    expect(text).toContain('… and 2 more (45 messages)');
  });

  it('ready names the denominator of its pass rate and what it leaves out; sources and summary say what they count', async () => {
    const text = renderTerminal(await ask('ready example.com'));
    // 29 days of 125 plus 300: the owner's 3,200 and the forgotten 580 are counted; 200 spoofed, 145 forwarded
    expect(text).toContain(
      'Pass rate 84.7% of 3,780 messages counted: legitimate sources only (200 spoofed, 145 forwarded and 0 mailing-list messages left out)',
    );
    expect(text).toContain('8 senders in all, 4,125 messages (200 from spoofing sources)');
    expect(renderTerminal(await ask('sources'))).toContain(
      'Senders over 30 days: 8 senders (8 IP addresses), 4,125 messages',
    );
    expect(renderTerminal(await ask('summary'))).toContain('Sources here are IP addresses');
  });
});

describe('commands', () => {
  it('marks lists the marks; mark refuses a long subject and asks for force on an aligned source', async () => {
    const store = await storeWith(scenarioReports());
    try {
      const context = testContext(store.store, { now: NOW });
      expect((await answer('marks', context)).title).toBe(
        'No marks yet. /dmarc mark <ip or sender> mine|spoof records one.',
      );
      const long = await answer(`mark ${'x'.repeat(201)} spoof`, context);
      expect(long.error).toBe(true);
      expect(renderTerminal(long)).toContain('at most 200 characters');
      const aligned = await answer(`mark ${OWN} spoof`, context);
      expect(aligned.data).toMatchObject({ stored: false, needsForce: true, reason: 'aligned' });
      expect(renderTerminal(aligned)).toContain(`passes DMARC (100% of 3,200 messages)`);
      await answer(`mark ${OWN} spoof force:yes`, context);
      await answer(`mark ${FORGOTTEN} mine`, context);
      const marks = await answer('marks', context);
      expect(marks.title).toBe('2 marks');
      expect((marks.data as { marks: Array<{ subject: string }> }).marks.map((m) => m.subject)).toEqual([
        OWN,
        FORGOTTEN,
      ]);
      expect(renderTerminal(marks)).toContain('terminal:alice');
    } finally {
      await store.close();
    }
  });

  it('failures and tls show the failure and TLS reports the store holds', async () => {
    const store = await storeWith([]);
    try {
      const failure = (ip: string, id: string): FailureReport => ({
        kind: 'failure',
        feedbackType: 'auth-failure',
        reportedDomain: DOMAIN,
        sourceIp: ip,
        arrivalDate: '2026-06-20T08:00:00.000Z',
        authFailure: ['dmarc'],
        deliveryResult: 'reject',
        originalMailFrom: null,
        originalRcptTo: null,
        headerFrom: DOMAIN,
        subject: 'Invoice',
        messageId: `<${id}@spoof.example>`,
      });
      const tls: TlsReport = {
        kind: 'tls',
        orgName: 'Google Inc.',
        reportId: 'tls-1',
        begin: '2026-06-20T00:00:00Z',
        end: '2026-06-20T23:59:59Z',
        contactInfo: null,
        policies: [
          {
            domain: DOMAIN,
            type: 'sts',
            strings: [],
            mxHosts: ['mx.example.com'],
            successful: 90,
            failed: 10,
            failures: [
              {
                resultType: 'certificate-expired',
                count: 10,
                sendingMtaIp: '192.0.2.1',
                receivingMxHostname: 'mx.example.com',
                receivingIp: null,
                reasonCode: null,
                info: null,
              },
            ],
          },
        ],
      };
      await store.store.ingest(failure(SPOOFERS[0]!, 'a'), 'test:f1', new Date('2026-06-20T09:00:00Z'));
      await store.store.ingest(failure(SPOOFERS[0]!, 'b'), 'test:f2', new Date('2026-06-20T10:00:00Z'));
      await store.store.ingest(tls, 'test:tls', new Date('2026-06-21T07:00:00Z'));
      await store.store.flush();
      const context = testContext(store.store, { now: NOW });
      const failures = await answer('failures example.com 30', context);
      expect(failures.title).toBe('Failure reports over 30 days: 2 reports');
      expect((failures.data as FailuresInsight).bySource).toEqual([{ key: SPOOFERS[0], messages: 2 }]);
      const tlsReply = await answer('tls 30', context);
      expect(tlsReply.title).toBe('SMTP TLS over 30 days: 1 report, 90 sessions succeeded, 10 failed');
      expect((tlsReply.data as TlsInsight).policies[0]).toMatchObject({ domain: DOMAIN, type: 'sts', failed: 10 });
      expect(renderTerminal(tlsReply)).toContain('certificate-expired 10');
      expect((await answer('failures 3', context)).title).toContain('No failure reports in the last 3 days');
    } finally {
      await store.close();
    }
  });

  it('says 1 domain, 1 report in English', async () => {
    expect((await ask('summary')).title).toContain('1 domain');
    expect((await ask(`date ${SPOOF_DAY}`)).title).toContain('1 report,');
  });
});
