// The published-record checks against zones on a loopback DNS server, each case with the verdict
// of `ready` for the same domain: the reports say the domain is ready, so only DNS can change it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer } from '../../src/command-kit/dispatch.ts';
import type { DnsCheck, DnsReport } from '../../src/dns-check/types.ts';
import type { ReadinessWithDns } from '../../src/dns-check/readiness.ts';
import { addDays } from '../../src/insight/stats.ts';
import { createDnsResolver } from '../../src/net/dns.ts';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.ts';
import { rsaKey, soundZone } from '../support/dns-zones.ts';
import { testContext } from '../commands/context.ts';
import { DAYS, DOMAIN, FIRST_DAY, NOW, OWN, record, report, storeWith, type TestStore } from '../commands/scenario.ts';

let fixture: TestStore;
const servers: DnsTestServer[] = [];
const key2048 = rsaKey(2048);

beforeAll(async () => {
  // a month of mail from the domain's own server, SPF and DKIM (selector s1) aligned
  const reports = Array.from({ length: DAYS }, (_, index) => {
    const day = addDays(FIRST_DAY, index);
    return report('google.com', `g-${day}`, `${day}T00:00:00.000Z`, `${day}T23:59:59.000Z`, [
      record(OWN, 100, { spf: [[DOMAIN, 'pass']], dkim: [[DOMAIN, 'pass']] }),
    ]);
  });
  fixture = await storeWith(reports);
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await fixture.close();
});

async function zone(build: (server: DnsTestServer) => void): Promise<DnsTestServer> {
  const server = await startDnsServer();
  servers.push(server);
  build(server);
  return server;
}

async function ask(server: DnsTestServer, timeoutMs = 1000) {
  const context = testContext(fixture.store, {
    now: NOW,
    dns: createDnsResolver({ servers: [server.address], timeoutMs }),
  });
  const dns = (await answer(`dns ${DOMAIN}`, context)).data as DnsReport;
  const ready = (await answer(`ready ${DOMAIN}`, context)).data as ReadinessWithDns;
  const check = (id: DnsCheck['id']) => dns.checks.find((one) => one.id === id);
  return { dns, ready, check };
}

const sound = (server: DnsTestServer, extra: Parameters<typeof soundZone>[1] = { domain: DOMAIN }) =>
  soundZone(server, { key: key2048, ...extra }, [OWN]);

describe('a sound domain', () => {
  it('passes every check, and ready goes by the reports alone', async () => {
    const { dns, ready, check } = await ask(await zone((server) => sound(server)));
    expect(Object.keys(dns).sort()).toEqual(['checks', 'domain', 'records']);
    for (const one of dns.checks)
      expect(Object.keys(one)).toEqual(expect.arrayContaining(['id', 'ok', 'severity', 'detail', 'fix']));
    const failing = dns.checks.filter((one) => !one.ok);
    expect(failing.map((one) => one.id)).toEqual(['mta-sts']);
    expect(check('mta-sts')!.severity).toBe('info');
    expect(check('spf-lookups')!.detail).toMatch(/^0 of 10 DNS lookups, 0 void/);
    expect(check('spf-senders')!.ok).toBe(true);
    expect(check('dkim-selectors')!.detail).toMatch(/s1 \(rsa 2048 bits\)/);
    expect(ready.verdict).toBe('ready-quarantine');
    expect(ready.dns.published).toEqual({
      name: `_dmarc.${DOMAIN}`,
      record: `v=DMARC1; p=none; rua=mailto:dmarc@${DOMAIN}`,
      differences: [],
    });
    // the next step gives the record to publish, built from the published one
    expect(ready.dns.nextRecord).toEqual({
      name: `_dmarc.${DOMAIN}`,
      record: expect.stringMatching(/^v=DMARC1; p=quarantine(; t=y)?; rua=mailto:dmarc@example\.com$/),
    });
  });
});

describe('DMARC record', () => {
  it('two records are no policy at all: an error that blocks ready, with the one record to keep', async () => {
    const server = await zone((s) => {
      sound(s);
      s.txt(`_dmarc.${DOMAIN}`, 'v=DMARC1; p=reject');
    });
    const { ready, check } = await ask(server);
    expect(check('dmarc-record')).toMatchObject({ ok: false, severity: 'error', checked: true });
    expect(check('dmarc-record')!.detail).toMatch(/2 DMARC records/);
    expect(check('dmarc-record')!.fix).toMatch(
      /keep exactly one TXT record at _dmarc\.example\.com: "v=DMARC1; p=none;/,
    );
    expect(ready.verdict).toBe('not-ready');
    expect(ready.nextStep).toMatchObject({ code: 'dns-fix', params: { check: 'dmarc-record' } });
    expect(ready.checks.some((one) => one.id === 'dns-dmarc-record' && !one.ok)).toBe(true);
  });

  it('t=y is valid but named: receivers apply a step less; ready is not blocked, and DNS differs from the reports', async () => {
    const server = await zone((s) =>
      sound(s, { domain: DOMAIN, dmarc: `v=DMARC1; p=quarantine; t=y; rua=mailto:dmarc@${DOMAIN}` }),
    );
    const { ready, check } = await ask(server);
    expect(check('dmarc-record')!.ok).toBe(true);
    expect(check('dmarc-testing')).toMatchObject({ ok: false, severity: 'warning' });
    expect(check('dmarc-testing')!.detail).toMatch(/receivers apply p=none instead of p=quarantine/);
    expect(ready.verdict).toBe('ready-quarantine');
    expect(ready.dns.published!.differences).toEqual([
      'p: DNS quarantine, reports none',
      'sp: DNS quarantine, reports none',
      'np: DNS quarantine, reports none',
      't: DNS y, reports n',
    ]);
  });
});

describe('external report destinations', () => {
  const rua = `v=DMARC1; p=none; rua=mailto:reports@dmarc-service.example`;

  it('without the receiver’s authorisation the reports never arrive: an error', async () => {
    const { ready, check } = await ask(await zone((s) => sound(s, { domain: DOMAIN, dmarc: rua })));
    expect(check('rua')).toMatchObject({ ok: false, severity: 'error' });
    expect(check('rua')!.fix).toBe(
      'the report receiver publishes TXT example.com._report._dmarc.dmarc-service.example "v=DMARC1"',
    );
    expect(ready.verdict).toBe('not-ready');
  });

  it('with it, fine', async () => {
    const server = await zone((s) => {
      sound(s, { domain: DOMAIN, dmarc: rua });
      s.txt('example.com._report._dmarc.dmarc-service.example', 'v=DMARC1');
    });
    const { ready, check } = await ask(server);
    expect(check('rua')!.ok).toBe(true);
    expect(ready.verdict).toBe('ready-quarantine');
  });
});

describe('SPF lookups', () => {
  const includes = (server: DnsTestServer, count: number) => {
    const names = Array.from({ length: count }, (_, index) => `spf${index + 1}.esp.example`);
    for (const name of names.slice(1)) server.txt(name, 'v=spf1 -all');
    // the first include nests two more: nested terms count
    server.txt(names[0]!, `v=spf1 include:${names[1]} include:${names[2]} -all`);
    return `v=spf1 ip4:${OWN} include:${names[0]} ${names
      .slice(3)
      .map((name) => `include:${name}`)
      .join(' ')} -all`;
  };

  it('exactly 10 is fine', async () => {
    const server = await zone((s) => sound(s, { domain: DOMAIN, spf: includes(s, 10) }));
    const { ready, check } = await ask(server);
    expect(check('spf-lookups')).toMatchObject({ ok: true, detail: '10 of 10 DNS lookups, 0 void' });
    expect(ready.verdict).toBe('ready-quarantine');
  });

  it('11 is a permerror at every receiver: blocks', async () => {
    const server = await zone((s) => sound(s, { domain: DOMAIN, spf: includes(s, 11) }));
    const { ready, check } = await ask(server);
    expect(check('spf-lookups')).toMatchObject({ ok: false, severity: 'error' });
    expect(check('spf-lookups')!.detail).toMatch(/11 DNS-querying terms \(at most 10, nested includes counted\)/);
    expect(ready.verdict).toBe('not-ready');
  });

  it('3 void lookups are too many', async () => {
    const spf = `v=spf1 ip4:${OWN} include:gone1.example.net a:gone2.example.net mx:gone3.example.net -all`;
    const { ready, check } = await ask(await zone((s) => sound(s, { domain: DOMAIN, spf })));
    expect(check('spf-lookups')).toMatchObject({ ok: false, severity: 'error' });
    expect(check('spf-lookups')!.detail).toMatch(
      /3 void lookups \(at most 2\): include:gone1\.example\.net, a:gone2\.example\.net, mx:gone3\.example\.net/,
    );
    expect(ready.verdict).toBe('not-ready');
  });

  it('a legitimate sender SPF does not permit is a warning, not a blocker', async () => {
    const { ready, check } = await ask(
      await zone((s) => sound(s, { domain: DOMAIN, spf: 'v=spf1 ip4:198.51.100.1 -all' })),
    );
    expect(check('spf-senders')).toMatchObject({ ok: false, severity: 'warning' });
    expect(check('spf-senders')!.detail).toMatch(/does not permit .*192\.0\.2\.10: fail/);
    expect(ready.verdict).toBe('ready-quarantine');
  });
});

describe('DKIM selectors seen signing', () => {
  it('a selector whose key is gone fails every message it signs: blocks', async () => {
    const server = await zone((s) => sound(s, { domain: DOMAIN, selector: 'old' }));
    const { ready, check } = await ask(server);
    expect(check('dkim-selectors')).toMatchObject({ ok: false, severity: 'error' });
    expect(check('dkim-selectors')!.detail).toMatch(/s1\._domainkey\.example\.com publishes no key/);
    expect(ready.verdict).toBe('not-ready');
    expect(ready.nextStep.params.fix).toMatch(/publish TXT s1\._domainkey\.example\.com "v=DKIM1; k=rsa; p=/);
  });

  it('a 512-bit key is refused by receivers: blocks', async () => {
    const { ready, check } = await ask(await zone((s) => sound(s, { domain: DOMAIN, key: rsaKey(512) })));
    expect(check('dkim-selectors')!.detail).toMatch(/the RSA key has 512 bits \(receivers need at least 1024\)/);
    expect(ready.verdict).toBe('not-ready');
  });
});

describe('a resolver that does not answer', () => {
  it('gives "could not check" (info) for every check and leaves the verdict to the reports', async () => {
    const server = await zone((s) => sound(s));
    server.silent = true;
    const { dns, ready } = await ask(server, 200);
    expect(dns.checks.length).toBeGreaterThan(0);
    for (const one of dns.checks) expect(one).toMatchObject({ ok: false, severity: 'info', checked: false });
    expect(dns.checks.map((one) => one.detail).join(' ')).toMatch(/could not check .*ETIMEOUT/);
    expect(ready.verdict).toBe('ready-quarantine');
  });
});

describe('the dns answer in words', () => {
  it('sums up in its title', async () => {
    const server = await zone((s) => sound(s));
    const context = testContext(fixture.store, {
      now: NOW,
      dns: createDnsResolver({ servers: [server.address], timeoutMs: 1000 }),
    });
    expect((await answer(`dns ${DOMAIN}`, context)).title).toBe('DNS of example.com: no problem found');
    server.txt(`_dmarc.${DOMAIN}`, 'v=DMARC1; p=reject');
    const fresh = testContext(fixture.store, {
      now: NOW,
      dns: createDnsResolver({ servers: [server.address], timeoutMs: 1000 }),
    });
    expect((await answer(`dns ${DOMAIN}`, fresh)).title).toBe('DNS of example.com: 1 problem that blocks enforcement');
  });
});

describe('ready without DNS', () => {
  it('says in one line what it could not check, and keeps the verdict of the reports', async () => {
    const context = testContext(fixture.store, { now: NOW, dns: false });
    const ready = (await answer(`ready ${DOMAIN}`, context)).data as ReadinessWithDns;
    expect(ready.verdict).toBe('ready-quarantine');
    expect(ready.checks.filter((one) => one.id.startsWith('dns'))).toEqual([
      {
        id: 'dns-unchecked',
        ok: false,
        detail: 'could not check dmarc-record, spf-record, dkim-selectors, mx, mta-sts, tls-rpt: DNS did not answer',
      },
    ]);
  });
});
