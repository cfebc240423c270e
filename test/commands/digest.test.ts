// The digest on the generated history: consecutive digests cover every report exactly once.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDigest } from '../../src/digest/build.ts';
import { lastDigestAt, markDigestSent } from '../../src/digest/state.ts';
import type { FailureReport, TlsReport } from '../../src/model.ts';
import { renderTerminal } from '../../src/render/terminal.ts';
import { testContext } from './context.ts';
import { DAYS, DOMAIN, FORGOTTEN, NOW, SPOOFERS, scenarioReports, storeWith, type TestStore } from './scenario.ts';

let fixture: TestStore;
beforeAll(async () => {
  fixture = await storeWith(scenarioReports());
});
afterAll(() => fixture.close());

const at = (iso: string) => new Date(iso);

describe('buildDigest', () => {
  it('covers exactly the reports received in the period', async () => {
    const context = testContext(fixture.store, { now: NOW });
    // the report for 2026-06-19 arrives on 2026-06-20 at 05:59:59
    const one = await buildDigest(fixture.store, context, {
      since: at('2026-06-20T00:00:00Z'),
      until: at('2026-06-21T00:00:00Z'),
    });
    expect(one.reportCount).toBe(1);
    expect(one.data.domains.map((d) => [d.domain, d.messages, d.dmarcPass])).toEqual([[DOMAIN, 125, 100]]);
    expect(one.data.domains[0]!.newSources).toEqual([]);
    expect(one.data.domains[0]!.failingSources.map((s) => s.ip)).toEqual([FORGOTTEN, '209.85.220.41']);
  });

  it('shows the spoofing burst as new failing sources the day its report arrives', async () => {
    const context = testContext(fixture.store, { now: NOW });
    const digest = await buildDigest(fixture.store, context, {
      since: at('2026-06-21T00:00:00Z'),
      until: at('2026-06-22T00:00:00Z'),
    });
    const domain = digest.data.domains[0]!;
    expect(domain.messages).toBe(125 + 5 * 40);
    expect(domain.newSources.map((s) => s.ip).sort()).toEqual(SPOOFERS);
    const text = renderTerminal(digest.reply);
    expect(text).toContain('DMARC digest: 1 report (1 aggregate, 0 failure, 0 TLS)');
    expect(text).toContain('203.0.113.66: 40 messages, 40 fail');
  });

  it('counts every report and message once over consecutive digests', async () => {
    const context = testContext(fixture.store, { now: NOW });
    let since = at('2026-05-31T00:00:00Z');
    let reports = 0;
    let messages = 0;
    while (since < at('2026-07-02T00:00:00Z')) {
      // irregular periods (every 37 hours) so boundaries fall at odd times
      const until = new Date(since.getTime() + 37 * 3_600_000);
      const digest = await buildDigest(fixture.store, context, { since, until });
      reports += digest.reportCount;
      messages += digest.data.domains.reduce((sum, d) => sum + d.messages, 0);
      since = until;
    }
    expect(reports).toBe(DAYS + 1);
    expect(messages).toBe(DAYS * 125 + 5 * 40 + 300);
  });

  it('says so when nothing was received', async () => {
    const digest = await buildDigest(fixture.store, testContext(fixture.store, { now: NOW }), {
      since: at('2026-08-01T00:00:00Z'),
      until: at('2026-08-02T00:00:00Z'),
    });
    expect(digest.reportCount).toBe(0);
    expect(digest.reply.title).toBe('DMARC digest: no new reports');
  });

  it('reports failure reports and TLS failures received, in Japanese too', async () => {
    const store = await storeWith([]);
    try {
      const failure: FailureReport = {
        kind: 'failure',
        feedbackType: 'auth-failure',
        userAgent: 'test',
        reportedDomain: DOMAIN,
        sourceIp: '203.0.113.66',
        arrivalDate: '2026-06-20T08:00:00.000Z',
        authFailure: ['dmarc'],
        deliveryResult: 'reject',
        originalMailFrom: 'x@example.com',
        originalRcptTo: 'y@example.net',
        headerFrom: DOMAIN,
        subject: 'Invoice',
        messageId: '<1@spoof.example>',
      };
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
      await store.store.ingest(failure, 'test:failure', at('2026-06-20T09:00:00Z'));
      await store.store.ingest(tls, 'test:tls', at('2026-06-21T07:00:00Z'));
      await store.store.flush();
      const context = testContext(store.store, { now: NOW, locale: 'ja' });
      const digest = await buildDigest(store.store, context, {
        since: at('2026-06-20T00:00:00Z'),
        until: at('2026-06-22T00:00:00Z'),
      });
      expect(digest.reportCount).toBe(2);
      const domain = digest.data.domains.find((d) => d.domain === DOMAIN)!;
      expect(domain.failureReports).toBe(1);
      expect(domain.tls).toMatchObject({ reports: 1, successful: 90, failed: 10 });
      const text = renderTerminal(digest.reply);
      expect(text).toContain('DMARC ダイジェスト: レポート 2 件（集約 0 件、失敗 1 件、TLS 1 件）');
      expect(text).toContain('成功 90 セッション、失敗 10 セッション (certificate-expired 10)');
    } finally {
      await store.close();
    }
  });
});

describe('digest state', () => {
  it("remembers where each destination's last digest ended, separately", async () => {
    const store = await storeWith([]);
    try {
      expect(await lastDigestAt(store.store, 'terminal')).toBeNull();
      await markDigestSent(store.store, 'terminal', at('2026-06-21T09:00:00Z'));
      await markDigestSent(store.store, 'slack:C123', at('2026-06-20T09:00:00Z'));
      expect((await lastDigestAt(store.store, 'terminal'))?.toISOString()).toBe('2026-06-21T09:00:00.000Z');
      expect((await lastDigestAt(store.store, 'slack:C123'))?.toISOString()).toBe('2026-06-20T09:00:00.000Z');
      expect(await lastDigestAt(store.store, 'discord:1')).toBeNull();
    } finally {
      await store.close();
    }
  });
});
