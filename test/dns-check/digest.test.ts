// The digest names a published DMARC record that changed since the record last seen.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildDigest } from '../../src/digest/build.ts';
import { dmarcRecordChanges } from '../../src/dns-check/digest.ts';
import { createRecordResolver } from '../../src/net/dns-records.ts';
import { createDnsResolver } from '../../src/net/dns.ts';
import { renderTerminal } from '../../src/render/terminal.ts';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.ts';
import { testContext } from '../commands/context.ts';
import { NOW, scenarioReports, storeWith, type TestStore } from '../commands/scenario.ts';

let fixture: TestStore;
let server: DnsTestServer;
beforeAll(async () => {
  fixture = await storeWith(scenarioReports());
  server = await startDnsServer();
});
afterAll(async () => {
  await server.close();
  await fixture.close();
});

async function digestAt(now: Date, since: Date) {
  // a fresh resolver each time: its cache would otherwise hide the change for the TTL
  const context = testContext(fixture.store, {
    now,
    dns: createDnsResolver({ servers: [server.address], timeoutMs: 1000 }),
  });
  const { reply } = await buildDigest(fixture.store, context, { since, until: now });
  return renderTerminal(reply);
}

it('mentions a changed record in the digest whose period saw the change, and only there', async () => {
  server.txt('_dmarc.example.com', 'v=DMARC1; p=none; rua=mailto:dmarc@example.com');
  const first = new Date('2026-06-28T00:00:00Z');
  const start = new Date('2026-06-01T00:00:00Z');
  expect(await digestAt(first, start)).not.toMatch(/changed/);

  // the owner moves to quarantine: the server's zone now holds the new record only
  const fresh = await startDnsServer();
  await server.close();
  server = fresh;
  server.txt('_dmarc.example.com', 'v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com');
  const text = await digestAt(NOW, first);
  expect(text).toMatch(/Published DMARC records that changed/);
  expect(text).toContain(
    'example.com: _dmarc.example.com now "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com" (was "v=DMARC1; p=none; rua=mailto:dmarc@example.com")',
  );

  // a period that starts after the change was first seen does not repeat it; one that covers it does
  const resolver = createRecordResolver({ servers: [server.address], timeoutMs: 1000 });
  const later = new Date(NOW.getTime() + 86_400_000);
  expect(
    await dmarcRecordChanges(fixture.store, resolver, ['example.com'], new Date(NOW.getTime() + 1), later),
  ).toEqual([]);
  expect(await dmarcRecordChanges(fixture.store, resolver, ['example.com'], first, later)).toEqual([
    expect.objectContaining({ domain: 'example.com', seenAt: NOW.toISOString() }),
  ]);
});
