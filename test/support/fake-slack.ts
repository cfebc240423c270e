// A local stand-in for the Slack Web API and for response_url, speaking Slack's wire formats:
// Web API calls arrive form-encoded (or JSON) at /api/<method>, answers to slash commands arrive as
// JSON at the response_url. Every call is recorded; failures (429 with Retry-After, 5xx) can be
// queued per path to exercise retries. Production code is pointed here with SLACK_API_URL.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RecordedCall {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** the raw body text */
  raw: string;
  /** parsed body: form fields (JSON-looking values parsed) or the JSON document */
  body: Record<string, unknown>;
}

export interface QueuedFailure {
  /** 0 with `hang`: the request is never answered (a hung endpoint) */
  status: number;
  hang?: boolean;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FakeSlack {
  /** base of the Web API, for SLACK_API_URL */
  apiUrl: string;
  /** a fresh response_url on this server */
  responseUrl(id?: string): string;
  calls: RecordedCall[];
  callsTo(pathPart: string): RecordedCall[];
  /** the next requests to a path (ending with `pathSuffix`) fail with these responses, in order */
  failNext(pathSuffix: string, ...failures: QueuedFailure[]): void;
  /** waits until `predicate` holds over the recorded calls (polling; the test's timeout bounds it) */
  waitFor(predicate: (calls: RecordedCall[]) => boolean): Promise<void>;
  /** Socket Mode: the acknowledgements the app sent back over the socket */
  socketAcks: Array<{ envelope_id: string; payload?: unknown }>;
  /** Socket Mode: resolves once an app connected over the socket and got its hello */
  socketConnected(): Promise<void>;
  /** Socket Mode: sends a slash command envelope to the connected app; resolves its envelope id */
  sendSlashCommand(payload: Record<string, string>): string;
  close(): Promise<void>;
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if (contentType?.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    // WebClient sends arrays and objects (blocks) as JSON text inside form fields
    fields[key] = /^[[{]/.test(value) ? safeJson(value) : value;
  }
  return fields;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** the ticket in the Socket Mode URL the stand-in hands out (never to be seen in a log) */
export const SOCKET_TICKET = 'fake-ticket-5f0c1d2e-secret';

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: RecordedCall[] = [];
  const failures = new Map<string, QueuedFailure[]>();
  let counter = 0;

  const answer = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers });
    res.end(text);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0]!;
      calls.push({
        method: req.method ?? 'GET',
        path,
        headers: req.headers,
        raw,
        body: parseBody(raw, req.headers['content-type']),
      });
      for (const [suffix, queue] of failures) {
        if (path.endsWith(suffix) && queue.length > 0) {
          const failure = queue.shift()!;
          if (failure.hang) return;
          answer(
            res,
            failure.status,
            failure.body ?? { ok: false, error: failure.status === 429 ? 'ratelimited' : 'internal_error' },
            failure.headers,
          );
          return;
        }
      }
      if (path.startsWith('/response/')) return answer(res, 200, 'ok');
      const method = path.replace(/^\/api\//, '');
      switch (method) {
        case 'auth.test':
          return answer(res, 200, {
            ok: true,
            url: 'https://example.slack.invalid/',
            team: 'Test',
            user: 'dmarc',
            team_id: 'T0001',
            user_id: 'U0BOT',
            bot_id: 'B0BOT',
          });
        case 'apps.connections.open':
          // Slack's socket URL carries a connection ticket, which lets its holder act as the app
          return answer(res, 200, {
            ok: true,
            url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/socket?ticket=${SOCKET_TICKET}&app_id=A0001`,
          });
        case 'chat.postMessage':
          return answer(res, 200, {
            ok: true,
            channel: parseBody(raw, req.headers['content-type']).channel,
            ts: `${Date.now() / 1000}`,
            message: {},
          });
        case 'chat.update': {
          const fields = parseBody(raw, req.headers['content-type']);
          return answer(res, 200, { ok: true, channel: fields.channel, ts: fields.ts, text: fields.text });
        }
        default:
          return answer(res, 200, { ok: false, error: 'unknown_method' });
      }
    });
  });
  // Socket Mode: Slack's side of the WebSocket (hello on connect, envelopes out, acks back)
  const sockets = new WebSocketServer({ server, path: '/socket' });
  const socketAcks: Array<{ envelope_id: string; payload?: unknown }> = [];
  let socket: WebSocket | null = null;
  let connected: () => void = () => undefined;
  const connectedOnce = new Promise<void>((resolve) => (connected = resolve));
  sockets.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (data) => socketAcks.push(JSON.parse(String(data)) as { envelope_id: string; payload?: unknown }));
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        connection_info: { app_id: 'A0001' },
        debug_info: { host: 'fake', approximate_connection_time: 3600 },
      }),
    );
    connected();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: `${base}/api/`,
    responseUrl: (id = String(++counter)) => `${base}/response/${id}`,
    calls,
    callsTo: (pathPart) => calls.filter((call) => call.path.includes(pathPart)),
    failNext(pathSuffix, ...queued) {
      failures.set(pathSuffix, [...(failures.get(pathSuffix) ?? []), ...queued]);
    },
    async waitFor(predicate) {
      while (!predicate(calls)) await new Promise((resolve) => setTimeout(resolve, 10));
    },
    socketAcks,
    socketConnected: () => connectedOnce,
    sendSlashCommand(payload) {
      if (!socket) throw new Error('no app is connected over Socket Mode');
      const envelopeId = randomUUID();
      socket.send(
        JSON.stringify({ envelope_id: envelopeId, type: 'slash_commands', accepts_response_payload: true, payload }),
      );
      return envelopeId;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
