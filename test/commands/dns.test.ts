// `ip` and `ready` with reverse DNS through a resolver on loopback (never the internet).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer } from '../../src/command-kit/dispatch.ts';
import type { IpInsight, Readiness } from '../../src/insight/types.ts';
import { createDnsResolver } from '../../src/net/dns.ts';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.ts';
import { soundZone } from '../support/dns-zones.ts';
import { testContext } from './context.ts';
import { FORGOTTEN, NOW, scenarioReports, storeWith, type TestStore } from './scenario.ts';

let fixture: TestStore;
let dns: DnsTestServer;

beforeAll(async () => {
  fixture = await storeWith(scenarioReports());
  dns = await startDnsServer();
  // the forgotten sender is the owner's ISP relay, with a forward-confirmed name
  dns.ptr(FORGOTTEN, 'smtp-relay3.isp-mail.example.net');
  dns.addresses('smtp-relay3.isp-mail.example.net', FORGOTTEN);
  // the domain publishes sound records, so only the reports decide
  soundZone(dns, { domain: 'example.com' }, ['192.0.2.10']);
});
afterAll(async () => {
  await dns.close();
  await fixture.close();
});

describe('commands with reverse DNS', () => {
  it('ip shows the confirmed name and the sender it stands for', async () => {
    const context = testContext(fixture.store, {
      now: NOW,
      dns: createDnsResolver({ servers: [dns.address], timeoutMs: 1000 }),
    });
    const reply = await answer(`ip ${FORGOTTEN}`, context);
    const data = reply.data as IpInsight;
    expect(data.ptr).toBe('smtp-relay3.isp-mail.example.net');
    expect(data.sender).toBe('example.net');
  });

  it('ready names the blocker by its reverse-DNS organisation, and a mark by that name applies', async () => {
    const store = await storeWith(scenarioReports());
    try {
      const context = testContext(store.store, {
        now: NOW,
        dns: createDnsResolver({ servers: [dns.address], timeoutMs: 1000 }),
      });
      const before = (await answer('ready example.com', context)).data as Readiness;
      expect(before.blockers.map((b) => b.sender)).toEqual(['example.net']);
      await answer('mark example.net spoof', context);
      const after = (await answer('ready example.com', context)).data as Readiness;
      expect(after.blockers).toEqual([]);
      expect(after.verdict).toBe('ready-quarantine');
    } finally {
      await store.close();
    }
  });

  it('answers without names when the DNS server does not answer', async () => {
    const quiet = await startDnsServer();
    quiet.silent = true;
    try {
      const store = await storeWith(scenarioReports());
      const context = testContext(store.store, {
        now: NOW,
        dns: createDnsResolver({ servers: [quiet.address], timeoutMs: 150 }),
      });
      const reply = await answer(`ip ${FORGOTTEN}`, context);
      expect(reply.error).toBeUndefined();
      expect((reply.data as IpInsight).ptr).toBeNull();
      expect((reply.data as IpInsight).messages).toBe(580);
      expect(quiet.queries.length).toBeGreaterThan(0);
      await store.close();
    } finally {
      await quiet.close();
    }
  });
});
