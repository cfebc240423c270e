// A local stand-in for Discord's REST API (v10): interaction callbacks, editing the original
// interaction response, channel messages, webhooks and command registration. Every call is
// recorded with its JSON body; failures can be queued per path. Production code reaches it through
// DISCORD_API_URL (discord.js `rest.api`). A message with files arrives as multipart/form-data:
// its JSON in the payload_json part, the files in files[N] parts; the call records both, and an
// embed naming attachment://NAME must name one of the files, as Discord requires.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { isMultipart, parseMultipart, type MultipartFile } from './multipart.ts';

export interface DiscordCall {
  method: string;
  /** path below /api/v10, e.g. /channels/123/messages */
  path: string;
  query: string;
  headers: IncomingMessage['headers'];
  body: any;
  /** files of a multipart request (the JSON of such a request is in `body`) */
  files: MultipartFile[];
}

export interface FakeDiscord {
  /** for DISCORD_API_URL / rest.api */
  apiUrl: string;
  calls: DiscordCall[];
  callsTo(method: string, pathPattern: RegExp): DiscordCall[];
  failNext(
    pathPattern: RegExp,
    ...failures: Array<{ status: number; headers?: Record<string, string>; body?: unknown }>
  ): void;
  waitFor(predicate: (calls: DiscordCall[]) => boolean): Promise<void>;
  /** Gateway: payloads the client sent (identify, heartbeats) */
  gatewayReceived: Array<{ op: number; d: any }>;
  /** Gateway: resolves when a client identified and got READY */
  gatewayReady(): Promise<void>;
  /** Gateway: dispatches an INTERACTION_CREATE event with this raw interaction */
  dispatchInteraction(raw: unknown): void;
  /** Gateway: closes the connection with a close code (e.g. 4004 authentication failed) */
  closeGateway(code: number, reason?: string): void;
  close(): Promise<void>;
}

/** The bot's own user, as the gateway's READY and the bot's messages name it. */
export const FAKE_BOT_USER = {
  id: '900000000000000001',
  username: 'dmarc-bot',
  discriminator: '0',
  global_name: null,
  avatar: null,
  bot: true,
};

let snowflake = 1_000_000_000_000_000n;
const nextId = () => String(++snowflake);

function message(channelId: string, body: any, files: MultipartFile[] = []) {
  return {
    id: nextId(),
    type: 0,
    channel_id: channelId,
    content: body?.content ?? '',
    embeds: body?.embeds ?? [],
    author: FAKE_BOT_USER,
    attachments: files.map((file, index) => ({
      id: nextId(),
      filename: file.filename,
      size: file.bytes.length,
      content_type: file.contentType,
      url: `https://cdn.discordapp.invalid/attachments/${index}/${file.filename}`,
      proxy_url: `https://media.discordapp.invalid/attachments/${index}/${file.filename}`,
    })),
    mentions: [],
    mention_roles: [],
    mention_everyone: false,
    pinned: false,
    tts: false,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    flags: body?.flags ?? 0,
    components: [],
  };
}

/** The first attachment://NAME an embed uses that no file of the request carries, or null. */
function missingAttachment(body: any, files: MultipartFile[]): string | null {
  const names = new Set(files.map((file) => file.filename));
  const embeds: any[] = Array.isArray(body?.embeds) ? body.embeds : [];
  for (const embed of embeds) {
    for (const url of [embed?.image?.url, embed?.thumbnail?.url]) {
      if (typeof url === 'string' && url.startsWith('attachment://') && !names.has(url.slice('attachment://'.length)))
        return url.slice('attachment://'.length);
    }
  }
  return null;
}

export interface FakeDiscordOptions {
  /** false: a gateway that takes Identify and never sends READY (a session that never opens) */
  answerIdentify?: boolean;
  /** READY comes this long after Identify (default at once) */
  readyDelayMs?: number;
}

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const calls: DiscordCall[] = [];
  const failures: Array<{
    pattern: RegExp;
    queue: Array<{ status: number; headers?: Record<string, string>; body?: unknown }>;
  }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const bytes = Buffer.concat(chunks);
      const raw = bytes.toString('utf8');
      const [fullPath, query = ''] = (req.url ?? '/').split('?') as [string, string?];
      const path = decodeURIComponent(fullPath.replace(/^\/api\/v10/, ''));
      const method = req.method ?? 'GET';
      let body: any;
      let files: MultipartFile[] = [];
      if (isMultipart(req.headers['content-type'])) {
        const form = await parseMultipart(bytes, req.headers['content-type']!);
        files = form.files;
        body = form.fields.payload_json === undefined ? form.fields : JSON.parse(form.fields.payload_json);
      } else {
        try {
          body = raw ? JSON.parse(raw) : undefined;
        } catch {
          body = raw;
        }
      }
      calls.push({ method, path, query, headers: req.headers, body, files });
      const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
        if (payload === undefined) {
          res.writeHead(status, headers);
          res.end();
          return;
        }
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      for (const failure of failures) {
        if (failure.pattern.test(path) && failure.queue.length > 0) {
          const next = failure.queue.shift()!;
          return send(next.status, next.body ?? { message: 'fake failure', code: 0 }, next.headers);
        }
      }
      const missing = missingAttachment(body, files);
      if (missing) return send(400, { message: `Invalid Form Body: no file named ${missing}`, code: 50035 });
      let match: RegExpExecArray | null;
      if (method === 'GET' && path === '/gateway/bot') {
        return send(200, {
          url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 },
        });
      }
      if (method === 'POST' && /^\/interactions\/\d+\/[^/]+\/callback$/.test(path)) return send(204);
      if (method === 'PATCH' && /^\/webhooks\/(\d+)\/[^/]+\/messages\/@original$/.test(path))
        return send(200, message('800000000000000001', body, files));
      if (method === 'POST' && (match = /^\/channels\/(\d+)\/messages$/.exec(path)))
        return send(200, message(match[1]!, body, files));
      if (method === 'POST' && /^\/webhooks\/(\d+)\/[^/]+$/.test(path))
        return send(200, message('800000000000000002', body, files));
      if (method === 'PUT' && /^\/applications\/\d+(\/guilds\/\d+)?\/commands$/.test(path)) {
        return send(
          200,
          (body as any[]).map((command) => ({
            ...command,
            id: nextId(),
            application_id: path.split('/')[2],
            version: nextId(),
          })),
        );
      }
      return send(404, { message: 'Unknown route in fake', code: 0 });
    });
  });
  // Gateway: Hello, READY after Identify, heartbeat acks, dispatches with a sequence number
  const gateway = new WebSocketServer({ server });
  const gatewayReceived: Array<{ op: number; d: any }> = [];
  let gatewaySocket: WebSocket | null = null;
  let sequence = 0;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  gateway.on('connection', (ws) => {
    gatewaySocket = ws;
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 45_000 }, s: null, t: null }));
    ws.on('message', (data) => {
      const payload = JSON.parse(String(data)) as { op: number; d: any };
      gatewayReceived.push(payload);
      if (payload.op === 1) ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
      if (payload.op === 2 && options.answerIdentify !== false) {
        const port = (server.address() as AddressInfo).port;
        const sendReady = () =>
          ws.send(
            JSON.stringify({
              op: 0,
              t: 'READY',
              s: ++sequence,
              d: {
                v: 10,
                user: FAKE_BOT_USER,
                guilds: [],
                session_id: 'fake-session',
                resume_gateway_url: `ws://127.0.0.1:${port}`,
                shard: [0, 1],
                application: { id: '400000000000000001', flags: 0 },
              },
            }),
          );
        const answer = () => {
          if (ws.readyState !== ws.OPEN) return;
          sendReady();
          markReady();
        };
        if (options.readyDelayMs) setTimeout(answer, options.readyDelayMs);
        else answer();
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    apiUrl: `${base}/api`,
    calls,
    callsTo: (method, pattern) => calls.filter((call) => call.method === method && pattern.test(call.path)),
    failNext(pattern, ...queue) {
      failures.push({ pattern, queue });
    },
    async waitFor(predicate) {
      while (!predicate(calls)) await new Promise((resolve) => setTimeout(resolve, 10));
    },
    gatewayReceived,
    gatewayReady: () => ready,
    dispatchInteraction(raw) {
      if (!gatewaySocket) throw new Error('no client is connected to the gateway');
      gatewaySocket.send(JSON.stringify({ op: 0, t: 'INTERACTION_CREATE', s: ++sequence, d: raw }));
    },
    closeGateway(code, reason = '') {
      if (!gatewaySocket) throw new Error('no client is connected to the gateway');
      gatewaySocket.close(code, reason);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of gateway.clients) client.terminate();
        gateway.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
