// A local stand-in for the Slack Web API and for response_url, speaking Slack's wire formats:
// Web API calls arrive form-encoded (or JSON) at /api/<method>, answers to slash commands arrive as
// JSON at the response_url. Every call is recorded; failures (429 with Retry-After, 5xx) can be
// queued per path to exercise retries. Production code is pointed here with SLACK_API_URL.
// Files go the external upload flow: files.getUploadURLExternal hands out an upload URL on this
// server, the bytes are POSTed there, files.completeUploadExternal shares them; without the
// files:write scope the first step answers missing_scope, as Slack does.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { isMultipart, parseMultipart } from './multipart.ts';

export interface RecordedCall {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** the raw body text */
  raw: string;
  /** the raw body bytes (file uploads are binary) */
  bytes: Buffer;
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

/** A file whose bytes arrived at its upload URL, and where it was shared. */
export interface FakeSlackUpload {
  fileId: string;
  /** what files.getUploadURLExternal was told */
  filename: string;
  length: number;
  altText: string | null;
  /** the bytes received at the upload URL (null until they arrive) */
  bytes: Buffer | null;
  /** set by files.completeUploadExternal */
  completed: { channelId: string | null; threadTs: string | null; title: string | null } | null;
}

export interface FakeSlackOptions {
  /** the bot token's scopes; files:write is needed to upload, im:write to open a DM (default: all four with chat:write, commands) */
  scopes?: string[];
}

export interface FakeSlack {
  /** base of the Web API, for SLACK_API_URL */
  apiUrl: string;
  /** a fresh response_url on this server */
  responseUrl(id?: string): string;
  calls: RecordedCall[];
  callsTo(pathPart: string): RecordedCall[];
  /** files that went through the external upload flow, in the order their URLs were handed out */
  uploads: FakeSlackUpload[];
  /** messages chat.postMessage accepted, with the ts it answered */
  posted: Array<{ channel: string; ts: string }>;
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

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const scopes = new Set(options.scopes ?? ['chat:write', 'commands', 'files:write', 'im:write']);
  const uploads: FakeSlackUpload[] = [];
  const posted: Array<{ channel: string; ts: string }> = [];
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
    req.on('end', async () => {
      const bytes = Buffer.concat(chunks);
      const raw = bytes.toString('utf8');
      const path = (req.url ?? '/').split('?')[0]!;
      const isFile = isMultipart(req.headers['content-type']);
      const body = isFile ? {} : parseBody(raw, req.headers['content-type']);
      calls.push({ method: req.method ?? 'GET', path, headers: req.headers, raw, bytes, body });
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
      if (path.startsWith('/upload/')) {
        const upload = uploads.find((item) => path === `/upload/${item.fileId}`);
        if (!upload || req.method !== 'POST') return answer(res, 404, 'unknown upload');
        // the file is the one part of a form, or the whole body
        const file = isFile ? (await parseMultipart(bytes, req.headers['content-type']!)).files[0] : undefined;
        upload.bytes = file ? file.bytes : bytes;
        return answer(res, 200, `OK - ${upload.bytes.length}`);
      }
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
        case 'files.getUploadURLExternal': {
          if (!scopes.has('files:write'))
            return answer(res, 200, {
              ok: false,
              error: 'missing_scope',
              needed: 'files:write',
              provided: [...scopes].join(','),
            });
          const length = Number(body.length);
          if (typeof body.filename !== 'string' || !Number.isSafeInteger(length) || length <= 0)
            return answer(res, 200, { ok: false, error: 'invalid_arguments' });
          const fileId = `F${String(uploads.length + 1).padStart(8, '0')}`;
          uploads.push({
            fileId,
            filename: body.filename,
            length,
            altText: typeof body.alt_text === 'string' ? body.alt_text : null,
            bytes: null,
            completed: null,
          });
          return answer(res, 200, { ok: true, upload_url: `${base}/upload/${fileId}`, file_id: fileId });
        }
        case 'files.completeUploadExternal': {
          const files = Array.isArray(body.files) ? (body.files as Array<{ id?: string; title?: string }>) : [];
          const found = files.map((file) => uploads.find((upload) => upload.fileId === file.id));
          // Slack refuses to complete a file whose bytes never arrived, or whose size differs
          if (files.length === 0 || found.some((upload) => !upload?.bytes || upload.bytes.length !== upload.length))
            return answer(res, 200, { ok: false, error: 'file_upload_not_found' });
          found.forEach((upload, index) => {
            upload!.completed = {
              channelId: typeof body.channel_id === 'string' ? body.channel_id : null,
              threadTs: typeof body.thread_ts === 'string' ? body.thread_ts : null,
              title: files[index]?.title ?? null,
            };
          });
          return answer(res, 200, {
            ok: true,
            files: found.map((upload) => ({ id: upload!.fileId, title: upload!.completed!.title })),
          });
        }
        case 'conversations.open': {
          if (!scopes.has('im:write'))
            return answer(res, 200, { ok: false, error: 'missing_scope', needed: 'im:write' });
          const user = typeof body.users === 'string' ? body.users.split(',')[0] : '';
          return user
            ? answer(res, 200, { ok: true, channel: { id: `D${user}` } })
            : answer(res, 200, { ok: false, error: 'users_list_not_supplied' });
        }
        case 'chat.postMessage': {
          const ts = `${Math.floor(Date.now() / 1000)}.${String(posted.length + 1).padStart(6, '0')}`;
          posted.push({ channel: String(body.channel), ts });
          return answer(res, 200, { ok: true, channel: body.channel, ts, message: {} });
        }
        case 'chat.update': {
          return answer(res, 200, { ok: true, channel: body.channel, ts: body.ts, text: body.text });
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
    uploads,
    posted,
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
