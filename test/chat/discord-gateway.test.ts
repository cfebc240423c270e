// The Discord path of `dmarc-bot start` as deployed: the bot logs in over the gateway (stand-in),
// receives an INTERACTION_CREATE event, defers and answers from the real store and commands, and
// posts its first digest to the digest channel through REST.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregateReport } from '../../src/model.ts';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { openStore } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { startBot, type RunningBot } from '../../src/cli/start.ts';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.ts';

const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
const report: AggregateReport = {
  kind: 'aggregate',
  orgName: 'google.com',
  orgEmail: null,
  reportId: 'gw-1',
  begin: `${day}T00:00:00Z`,
  end: `${day}T23:59:59Z`,
  policy: {
    domain: 'example.org',
    p: 'none',
    sp: null,
    np: null,
    pct: null,
    adkim: null,
    aspf: null,
    fo: null,
    testing: null,
  },
  records: [
    {
      sourceIp: '198.51.100.20',
      count: 58,
      disposition: 'none',
      evaluated: { dkim: 'pass', spf: 'pass' },
      dmarc: 'pass',
      identifiers: { headerFrom: 'example.org', envelopeFrom: null, envelopeTo: null },
      reasons: [],
      authResults: { dkim: [{ domain: 'example.org', selector: 's', result: 'pass' }], spf: [] },
      alignment: { dkim: true, spf: false },
    },
  ],
  errors: [],
};

describe('Discord over the gateway (stand-in) with startBot', () => {
  let dir: string;
  let store: ReportStore;
  let discord: FakeDiscord;
  let bot: RunningBot;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmarc-gw-'));
    store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
    await store.ingest(report, 'test');
    await store.flush();
    discord = await startFakeDiscord();
    const config = loadConfig({
      DMARC_STORE: `sqlite://${join(dir, 'store.sqlite')}`,
      DISCORD_TOKEN: 'gateway-test-token',
      // the interaction below is a DM: those are answered only for allowed users
      ALLOWED_USERS: '720000000000000001',
      DISCORD_APPLICATION_ID: '400000000000000001',
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_DIGEST_CHANNEL_ID: '620000000000000001',
      TZ: 'UTC',
      DNS_SERVERS: '127.0.0.1:9',
      DNS_TIMEOUT_MS: '200',
    });
    bot = await startBot({ config, log: silentLogger, store });
  });
  afterAll(async () => {
    await bot?.stop();
    await store?.close();
    await discord?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('identifies with the token and answers an interaction event privately', async () => {
    await discord.gatewayReady();
    const identify = discord.gatewayReceived.find((payload) => payload.op === 2)!;
    expect(identify.d.token).toBe('gateway-test-token');
    discord.dispatchInteraction({
      id: '520000000000000001',
      application_id: '400000000000000001',
      type: 2,
      token: 'gw-interaction',
      version: 1,
      channel_id: '630000000000000001',
      locale: 'en-US',
      app_permissions: '0',
      entitlements: [],
      authorizing_integration_owners: { '1': '720000000000000001' },
      context: 1,
      user: { id: '720000000000000001', username: 'carol', discriminator: '0', global_name: null, avatar: null },
      data: {
        id: '470000000000000001',
        name: 'dmarc',
        type: 1,
        options: [{ type: 1, name: 'ip', options: [{ type: 3, name: 'address', value: '198.51.100.20' }] }],
      },
    });
    await discord.waitFor((calls) =>
      calls.some((call) => call.method === 'PATCH' && call.path.includes('gw-interaction')),
    );
    const callback = discord.calls.find(
      (call) => call.path === '/interactions/520000000000000001/gw-interaction/callback',
    )!;
    expect(callback.body).toEqual({ type: 5, data: { flags: 64 } });
    const edit = discord.calls.find((call) => call.method === 'PATCH' && call.path.includes('gw-interaction'))!;
    expect(edit.body.embeds[0].title).toContain('198.51.100.20');
    expect(JSON.stringify(edit.body.embeds)).toMatch(/\b58\b/);
  });

  it('posts the first digest to the digest channel with the bot token', async () => {
    await discord.waitFor((calls) => calls.some((call) => call.path === '/channels/620000000000000001/messages'));
    const post = discord.calls.find((call) => call.path === '/channels/620000000000000001/messages')!;
    expect(post.headers.authorization).toBe('Bot gateway-test-token');
    expect(JSON.stringify(post.body.embeds)).toContain('example.org');
  });
});
