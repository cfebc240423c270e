// A slow resolver never holds a chat answer: Slack's command is acknowledged before any DNS
// question is asked, and the answer (with "could not check") follows through respond.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { answer } from '../../src/command-kit/dispatch.ts';
import { handleDmarcCommand } from '../../src/chat/slack/command.ts';
import { createDnsResolver } from '../../src/net/dns.ts';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.ts';
import { testContext } from '../commands/context.ts';
import { NOW, scenarioReports, storeWith, type TestStore } from '../commands/scenario.ts';

let fixture: TestStore;
let server: DnsTestServer;
beforeAll(async () => {
  fixture = await storeWith(scenarioReports());
  server = await startDnsServer();
  server.silent = true;
});
afterAll(async () => {
  await server.close();
  await fixture.close();
});

it('acknowledges /dmarc dns before asking DNS, and answers later', async () => {
  const context = testContext(fixture.store, {
    now: NOW,
    dns: createDnsResolver({ servers: [server.address], timeoutMs: 300 }),
  });
  const events: string[] = [];
  const responses: Array<{ text?: string }> = [];
  await handleDmarcCommand(
    {
      command: { text: 'dns example.com', user_id: 'U1', user_name: 'alice', channel_id: 'C1' },
      ack: async () => {
        events.push(`ack after ${server.queries.length} DNS questions`);
      },
      respond: (async (message: unknown) => {
        events.push('respond');
        responses.push(message as { text?: string });
      }) as never,
    },
    { answer: (line) => answer(line, context), access: { allowedChannels: [], allowedUsers: [] } },
  );
  expect(events).toEqual(['ack after 0 DNS questions', 'respond']);
  expect(server.queries.length).toBeGreaterThan(0);
  expect(JSON.stringify(responses[0])).toMatch(/could not check/);
});
