// The IMAP mailbox source (imapflow). New mail is found by UID; UIDVALIDITY and the last
// processed UID are kept in the store. Messages are fetched in bounded UID chunks, and a chunk's
// messages are moved (or flagged) only after store.flush() made their reports durable, and the
// last UID is saved only after that: a crash at any point re-reads at most one chunk, which the
// store's dedupe absorbs. A mail without a report carries its reason as IMAP keywords. Logins are
// by password or by OAuth2 access token (src/oauth); several mailboxes run side by side, each with
// its own connection, token and place, their passes taking turns on the one store.

import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { silentLogger, type Logger } from '../log.ts';
import type { ReportStore } from '../store/types.ts';
import {
  ReadAbortedError,
  StoreWriteError,
  type IngestDeps,
  type IngestError,
  type InputResult,
  type ReadReports,
} from '../ingest/pipeline.ts';
import { ingestOverlapped, type OverlapItem } from '../ingest/overlap.ts';
import { readerThreads, warmBoundedReader } from '../reader/bounded.ts';
import type { OpsObserver } from '../metrics/observer.ts';
import { createTokenClient, type AccessTokens, type TokenClientDeps } from '../oauth/token-client.ts';
import { redactSecrets } from '../text/redact.ts';
import { errorMessage } from '../text/error-message.ts';

/**
 * The mailbox settings this source reads, named as the settings are (IMAP_*), so the validated
 * Config can be passed as it is; declared here so the source does not depend on the config schema.
 */
export interface ImapConfig {
  IMAP_HOST?: string | undefined;
  IMAP_PORT?: number | undefined;
  IMAP_USER?: string | undefined;
  IMAP_PASSWORD?: string | undefined;
  /** `oauth2`: log in with an access token from the IMAP_OAUTH_* refresh-token flow */
  IMAP_AUTH?: 'password' | 'oauth2' | undefined;
  IMAP_OAUTH_TOKEN_URL?: string | undefined;
  IMAP_OAUTH_CLIENT_ID?: string | undefined;
  IMAP_OAUTH_CLIENT_SECRET?: string | undefined;
  IMAP_OAUTH_REFRESH_TOKEN?: string | undefined;
  IMAP_OAUTH_SCOPE?: string | undefined;
  /** the account's name in logs and metrics (`default` for the single mailbox) */
  IMAP_ACCOUNT?: string | undefined;
  IMAP_TLS: 'tls' | 'starttls' | 'off';
  IMAP_MAILBOX: string;
  IMAP_PROCESSED_FOLDER: string;
  IMAP_INVALID_FOLDER: string;
  IMAP_ACTION: 'move' | 'flag';
  IMAP_POLL_SECONDS: number;
  IMAP_TLS_REJECT_UNAUTHORIZED: 'true' | 'false';
  MAX_ATTACHMENT_MB?: number | undefined;
}

export type ImapStore = Pick<ReportStore, 'ingest' | 'flush' | 'getState' | 'setState'> &
  Partial<Pick<ReportStore, 'storedReports'>>;

export interface ImapProgress {
  /** messages handled in this pass so far, and how many were found new at its start */
  done: number;
  total: number;
  uid: number;
  result: InputResult;
}

export interface ImapDeps {
  logger?: Logger;
  read?: ReadReports;
  onReport?: IngestDeps['onReport'];
  onProgress?: (progress: ImapProgress) => void;
  /** messages fetched, stored and acknowledged together (default 50) */
  chunkSize?: number;
  /** extra imapflow options (tests shorten timeouts) */
  clientOptions?: Partial<ImapFlowOptions>;
  now?: () => Date;
  /** ingest counts, connection state and pass times for metrics; nothing by default */
  observer?: Pick<OpsObserver, 'reportIngested' | 'readerError' | 'imapConnection' | 'imapPass'>;
  /** runImapPass only: stop after the message in hand (Ctrl-C) */
  signal?: AbortSignal;
  /** longest time one mail may take to read (default 60 s): then it goes to the invalid folder */
  readDeadlineMs?: number;
  /** largest mail that is downloaded at all (default: from MAX_ATTACHMENT_MB, base64 included) */
  maxMailBytes?: number;
  /** IMAP_AUTH=oauth2: where access tokens come from (default: a token client from IMAP_OAUTH_*) */
  tokens?: AccessTokens;
  /** clock and fetch of the default token client */
  oauth?: TokenClientDeps;
}

export interface ImapPassSummary {
  /** messages looked at in this pass */
  messages: number;
  /** messages that held at least one report (moved to / flagged in the processed folder) */
  processed: number;
  /** messages without any report (moved to the invalid folder, or flagged) */
  invalid: number;
  new: number;
  duplicates: number;
  /** reports older than the retention period (not stored) */
  expired: number;
  errors: IngestError[];
  uidValidity: string;
  lastUid: number;
}

/** What the store keeps per mailbox (plain JSON: UIDVALIDITY is a bigint on the wire). */
export interface MailboxState {
  uidValidity: string;
  lastUid: number;
}

const DEFAULT_CHUNK = 50;
/** Bytes of mail one FETCH brings in at most (one mail always, whatever its size). */
const FETCH_GROUP_BYTES = 8 * 1024 * 1024;
/** A mail of a chunk (`uid`), or the end of the chunk (`uid` null). */
interface PassKey {
  chunk: number;
  uid: number | null;
}
const CHUNK_END: InputResult = { source: '', new: 0, duplicates: 0, expired: 0, reports: 0, errors: [] };
const DEFAULT_MAX_ATTACHMENT_MB = 10;
/** The keyword every mail without a report gets, beside one that names why (`$DmarcBotReason_<code>`). */
export const INVALID_KEYWORD = '$DmarcBotInvalid';
export const REASON_KEYWORD_PREFIX = '$DmarcBotReason_';

/** The keywords that carry an invalid mail's reasons into the mailbox (IMAP cannot edit a message). */
export function invalidKeywords(errors: ReadonlyArray<Pick<IngestError, 'code'>>): string[] {
  const codes = [...new Set(errors.map((error) => (error.code ?? 'unreadable').replace(/[^A-Za-z0-9-]/g, '')))];
  return [INVALID_KEYWORD, ...codes.filter(Boolean).map((code) => `${REASON_KEYWORD_PREFIX}${code}`)];
}

export function mailboxStateKey(config: ImapConfig): string {
  return `imap:${config.IMAP_USER ?? ''}@${config.IMAP_HOST ?? ''}/${config.IMAP_MAILBOX}`;
}

/** The account's name in logs and metrics. */
export function accountName(config: ImapConfig): string {
  return config.IMAP_ACCOUNT ?? 'default';
}

/** The name of one of the account's settings as the user writes it (IMAP_WORK_USER for `work`). */
function settingName(config: ImapConfig, key: string): string {
  const account = accountName(config);
  return account === 'default' ? `IMAP_${key}` : `IMAP_${account.toUpperCase()}_${key}`;
}

/** Log fields with the given secrets cut out of every string (one level deep, as imapflow logs). */
function redactFields(obj: object, secrets: () => ReadonlyArray<string | undefined>): object {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj))
    out[key] =
      typeof value === 'string'
        ? redactSecrets(value, secrets())
        : value instanceof Error
          ? redactSecrets(errorMessage(value), secrets())
          : value;
  return out;
}

/** imapflow logs through this adapter: its info level is protocol chatter, so it goes to debug. */
function imapLogger(
  logger: Logger,
  secrets: () => ReadonlyArray<string | undefined>,
  account?: string,
): NonNullable<ImapFlowOptions['logger']> {
  const child = logger.child({ component: 'imap', ...(account ? { account } : {}) });
  return {
    debug: (obj: object) => child.trace(redactFields(obj, secrets)),
    info: (obj: object) => child.debug(redactFields(obj, secrets)),
    warn: (obj: object) => child.warn(redactFields(obj, secrets)),
    error: (obj: object) => child.error(redactFields(obj, secrets)),
  };
}

/** The token client of an IMAP_AUTH=oauth2 mailbox; undefined for a password login. */
export function oauthTokensFor(config: ImapConfig, deps: TokenClientDeps = {}): AccessTokens | undefined {
  if (config.IMAP_AUTH !== 'oauth2') return undefined;
  if (!config.IMAP_OAUTH_TOKEN_URL || !config.IMAP_OAUTH_CLIENT_ID || !config.IMAP_OAUTH_REFRESH_TOKEN)
    throw new Error('IMAP_AUTH=oauth2 needs IMAP_OAUTH_TOKEN_URL, IMAP_OAUTH_CLIENT_ID and IMAP_OAUTH_REFRESH_TOKEN');
  return createTokenClient(
    {
      tokenUrl: config.IMAP_OAUTH_TOKEN_URL,
      clientId: config.IMAP_OAUTH_CLIENT_ID,
      clientSecret: config.IMAP_OAUTH_CLIENT_SECRET,
      refreshToken: config.IMAP_OAUTH_REFRESH_TOKEN,
      scope: config.IMAP_OAUTH_SCOPE,
    },
    deps,
  );
}

/** The secrets of a mailbox login: what no log line or error may show. */
function loginSecrets(config: ImapConfig, tokens?: AccessTokens): string[] {
  return [
    config.IMAP_PASSWORD,
    config.IMAP_OAUTH_CLIENT_SECRET,
    config.IMAP_OAUTH_REFRESH_TOKEN,
    ...(tokens?.secrets() ?? []),
  ].filter((value): value is string => Boolean(value));
}

export function imapClientOptions(
  config: ImapConfig,
  logger: Logger = silentLogger,
  accessToken?: string,
  secrets: () => ReadonlyArray<string | undefined> = () => [config.IMAP_PASSWORD],
): ImapFlowOptions {
  if (!config.IMAP_HOST || !config.IMAP_USER) {
    throw new Error('IMAP is not configured: set IMAP_HOST, IMAP_USER and IMAP_PASSWORD');
  }
  const implicitTls = config.IMAP_TLS === 'tls';
  return {
    host: config.IMAP_HOST,
    port: config.IMAP_PORT ?? (implicitTls ? 993 : 143),
    secure: implicitTls,
    // `off` must never upgrade, `starttls` must never fall back to cleartext
    doSTARTTLS: config.IMAP_TLS === 'starttls' ? true : config.IMAP_TLS === 'off' ? false : undefined,
    auth: accessToken
      ? { user: config.IMAP_USER, accessToken }
      : { user: config.IMAP_USER, pass: config.IMAP_PASSWORD ?? '' },
    tls: { rejectUnauthorized: config.IMAP_TLS_REJECT_UNAUTHORIZED !== 'false' },
    logger: imapLogger(logger, secrets, config.IMAP_ACCOUNT),
    disableAutoIdle: true,
  };
}

/** A login the server refused, said plainly, without any secret. */
export class ImapLoginError extends Error {
  override name = 'ImapLoginError';
  readonly authenticationFailed = true;
}

function isAuthFailure(error: unknown): boolean {
  return Boolean(
    error && typeof error === 'object' && (error as { authenticationFailed?: unknown }).authenticationFailed,
  );
}

async function openClient(
  config: ImapConfig,
  logger: Logger,
  clientOptions: Partial<ImapFlowOptions> | undefined,
  accessToken: string | undefined,
  secrets: () => string[],
): Promise<ImapFlow> {
  const client = new ImapFlow({ ...imapClientOptions(config, logger, accessToken, secrets), ...clientOptions });
  // without a listener an 'error' event would crash the process; the failing command reports it
  client.on('error', (error: Error) =>
    logger.warn(
      { err: redactSecrets(error.message, secrets()), account: accountName(config) },
      'imap connection error',
    ),
  );
  await client.connect();
  return client;
}

/**
 * Connects and logs in. With IMAP_AUTH=oauth2 the access token comes from the token client; a
 * cached token the server refuses (revoked before its expiry) is refreshed once and tried again,
 * and a refusal after that is a plain ImapLoginError. Errors never carry a secret.
 */
export async function connectImap(
  config: ImapConfig,
  deps: Pick<ImapDeps, 'logger' | 'clientOptions' | 'tokens' | 'oauth'> = {},
): Promise<ImapFlow> {
  const logger = deps.logger ?? silentLogger;
  const tokens = deps.tokens ?? oauthTokensFor(config, deps.oauth);
  const secrets = () => loginSecrets(config, tokens);
  if (!tokens) {
    try {
      return await openClient(config, logger, deps.clientOptions, undefined, secrets);
    } catch (error) {
      throw redactedError(error, secrets());
    }
  }
  for (let attempt = 0; ; attempt += 1) {
    const { token, fresh } = await tokens.accessToken();
    try {
      return await openClient(config, logger, deps.clientOptions, token, secrets);
    } catch (error) {
      if (!isAuthFailure(error)) throw redactedError(error, secrets());
      if (fresh || attempt > 0)
        throw new ImapLoginError(
          `${config.IMAP_HOST} refused the OAuth2 access token for ${config.IMAP_USER} (${redactSecrets(errorMessage(error), secrets())}): check ${settingName(config, 'USER')}, ${settingName(config, 'OAUTH_SCOPE')} and that the app may read this mailbox`,
        );
      // refused before its expiry: revoked, or the server's clock differs; one fresh token
      logger.info({ account: accountName(config) }, 'the IMAP server refused the access token; refreshing it once');
      tokens.invalidate();
    }
  }
}

/** The error as thrown, with its message cleaned of secrets (its other fields kept). */
function redactedError(error: unknown, secrets: string[]): unknown {
  if (error instanceof Error) {
    const cleaned = redactSecrets(error.message, secrets);
    if (cleaned !== error.message) error.message = cleaned;
  }
  return error;
}

/** The configured folder path ("DMARC/Processed") in the server's own delimiter. */
function folderParts(folder: string): string[] {
  return folder.split('/').filter(Boolean);
}

async function ensureFolders(client: ImapFlow, config: ImapConfig): Promise<{ processed: string; invalid: string }> {
  const listed = await client.list();
  const delimiter = listed.find((box) => box.path.toUpperCase() === 'INBOX')?.delimiter ?? listed[0]?.delimiter ?? '/';
  const existing = new Set(listed.map((box) => box.path));
  const ensure = async (folder: string) => {
    const path = folderParts(folder).join(delimiter);
    if (!existing.has(path)) {
      // CREATE makes the parents too on Dovecot; an "already exists" answer is fine
      await client.mailboxCreate(folderParts(folder)).catch((error: Error & { serverResponseCode?: string }) => {
        if (error.serverResponseCode !== 'ALREADYEXISTS') throw error;
      });
      existing.add(path);
    }
    return path;
  };
  return { processed: await ensure(config.IMAP_PROCESSED_FOLDER), invalid: await ensure(config.IMAP_INVALID_FOLDER) };
}

/**
 * One pass over new mail on a connected client. Stops early (after the message in hand, with
 * the chunk's finished messages stored and acknowledged) when the signal aborts.
 */
export async function processMailbox(
  client: ImapFlow,
  config: ImapConfig,
  store: ImapStore,
  deps: ImapDeps = {},
  signal?: AbortSignal,
): Promise<ImapPassSummary> {
  const logger = deps.logger ?? silentLogger;
  const chunkSize = deps.chunkSize ?? DEFAULT_CHUNK;
  const stateKey = mailboxStateKey(config);
  const folders = config.IMAP_ACTION === 'move' ? await ensureFolders(client, config) : null;

  const mailbox = await client.mailboxOpen(config.IMAP_MAILBOX);
  const uidValidity = mailbox.uidValidity.toString();
  // keywords travel with the message when it is moved; a server that keeps none gets the log only
  const keepsKeywords = mailbox.permanentFlags?.has('\\*') ?? false;
  const saved = await store.getState<MailboxState>(stateKey);
  let lastUid = saved?.lastUid ?? 0;
  if (saved && saved.uidValidity !== uidValidity) {
    logger.warn(
      { mailbox: config.IMAP_MAILBOX, was: saved.uidValidity, now: uidValidity },
      'UIDVALIDITY changed: rescanning the whole mailbox (duplicates are skipped)',
    );
    lastUid = 0;
  }

  const summary: ImapPassSummary = {
    messages: 0,
    processed: 0,
    invalid: 0,
    new: 0,
    duplicates: 0,
    expired: 0,
    errors: [],
    uidValidity,
    lastUid,
  };
  // `N:*` always matches the highest UID, even below N: filter
  const found = (await client.search({ uid: `${lastUid + 1}:*` }, { uid: true })) || [];
  const pending = found.filter((uid) => uid > lastUid).sort((a, b) => a - b);
  if (pending.length > 0) logger.info({ mailbox: config.IMAP_MAILBOX, messages: pending.length }, 'new mail');
  // the reader threads start (load their modules) while the first mails are fetched
  if (pending.length > 0 && !deps.read) warmBoundedReader(Math.min(readerThreads, pending.length));

  const ingestDeps: IngestDeps = {
    store,
    ...(deps.read ? { read: deps.read } : {}),
    ...(config.MAX_ATTACHMENT_MB ? { maxBytes: config.MAX_ATTACHMENT_MB * 1024 * 1024 } : {}),
    ...(deps.onReport ? { onReport: deps.onReport } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.observer ? { observer: deps.observer } : {}),
    ...(deps.readDeadlineMs ? { readDeadlineMs: deps.readDeadlineMs } : {}),
    ...(signal ? { signal } : {}),
  };
  // base64 makes an attachment about 4/3 as big; headers and other parts add a little
  const maxMailBytes =
    deps.maxMailBytes ?? Math.ceil(((config.MAX_ATTACHMENT_MB ?? DEFAULT_MAX_ATTACHMENT_MB) * 1.4 + 1) * 1024 * 1024);

  /** The pass's chunks: each one stored, then acknowledged on the server, then remembered. */
  const chunks: number[][] = [];
  for (let start = 0; start < pending.length; start += chunkSize) chunks.push(pending.slice(start, start + chunkSize));
  const tooLarge = (uid: number, size: number): InputResult => ({
    source: `imap:${config.IMAP_MAILBOX}/${uid}`,
    new: 0,
    duplicates: 0,
    expired: 0,
    reports: 0,
    errors: [
      {
        source: `imap:${config.IMAP_MAILBOX}/${uid}`,
        message: `the mail has ${size} bytes, more than the ${maxMailBytes} a report mail may have (MAX_ATTACHMENT_MB)`,
        code: 'too-large',
      },
    ],
  });
  /**
   * Every chunk's mails in UID order, then a marker for its end. Reading runs ahead of storing, into
   * the next chunk while this one is flushed and acknowledged. A FETCH is drained into memory before
   * its mails are handed on (in groups of at most FETCH_GROUP_BYTES): while imapflow hands out a
   * FETCH's mails the connection serves no other command, and the MOVE of the chunk before must not
   * wait for the read-ahead to make room.
   */
  async function* fetched(): AsyncGenerator<OverlapItem<PassKey>> {
    for (const [index, chunk] of chunks.entries()) {
      if (signal?.aborted) return;
      // Sizes first: a mail too big to be a report is not downloaded at all.
      const sizes = new Map<number, number>();
      for await (const message of client.fetch(chunk.join(','), { uid: true, size: true }, { uid: true }))
        sizes.set(message.uid, message.size ?? 0);
      const wanted: number[] = [];
      for (const uid of chunk) {
        const size = sizes.get(uid);
        if (size === undefined) continue; // gone since the SEARCH
        if (size > maxMailBytes) yield { key: { chunk: index, uid }, result: tooLarge(uid, size) };
        else wanted.push(uid);
      }
      for (let at = 0; at < wanted.length;) {
        const group: number[] = [];
        let bytes = 0;
        while (at < wanted.length && (group.length === 0 || bytes + sizes.get(wanted[at]!)! <= FETCH_GROUP_BYTES)) {
          bytes += sizes.get(wanted[at]!)!;
          group.push(wanted[at++]!);
        }
        const mails: Array<{ uid: number; bytes: Uint8Array }> = [];
        for await (const message of client.fetch(group.join(','), { uid: true, source: true }, { uid: true }))
          mails.push({ uid: message.uid, bytes: message.source ?? new Uint8Array() });
        for (const mail of mails)
          yield {
            key: { chunk: index, uid: mail.uid },
            input: { source: `imap:${config.IMAP_MAILBOX}/${mail.uid}`, bytes: mail.bytes },
          };
      }
      yield { key: { chunk: index, uid: null }, result: CHUNK_END };
    }
  }

  let chunkIndex = 0;
  let chunkDone = 0;
  let withReports: number[] = [];
  let withoutReports: number[] = [];
  /** the invalid mails by the keywords that name their reasons */
  let reasonKeywords = new Map<string, number[]>();

  /** Makes the chunk's handled mails durable, acknowledges them, and remembers the last UID. */
  const finishChunk = async (complete: boolean) => {
    const chunk = chunks[chunkIndex]!;
    const handled = new Set([...withReports, ...withoutReports]);
    // only the unbroken run from the chunk's start counts as done (the rest is read again)
    let doneUpTo = lastUid;
    for (const uid of chunk) {
      if (!handled.has(uid)) break;
      doneUpTo = uid;
    }

    // durable first, then acknowledge on the server, then remember
    await store.flush();
    // The reason goes on the mail before it moves: after a crash in between the mail is still in
    // the mailbox, is read again and gets the same keywords (setting a keyword twice is a no-op).
    if (keepsKeywords)
      for (const [keywords, uids] of reasonKeywords)
        if (!(await client.messageFlagsAdd(uids.join(','), keywords.split(' '), { uid: true })))
          logger.warn({ account: accountName(config), uids }, 'the reason keywords could not be set (see the log)');
    // imapflow answers a refused MOVE or STORE with false: stop before the last UID is saved, so
    // that the next pass reads these mails again (their reports are already stored: duplicates)
    const acknowledged = (done: unknown, what: string) => {
      if (done === false) throw new Error(`the server refused to ${what}; the mails stay and are read again`);
    };
    if (folders) {
      if (withReports.length)
        acknowledged(
          await client.messageMove(withReports.join(','), folders.processed, { uid: true }),
          `move mail to ${folders.processed}`,
        );
      if (withoutReports.length)
        acknowledged(
          await client.messageMove(withoutReports.join(','), folders.invalid, { uid: true }),
          `move mail to ${folders.invalid}`,
        );
    } else if (handled.size) {
      acknowledged(await client.messageFlagsAdd([...handled].join(','), ['\\Seen'], { uid: true }), 'mark mail seen');
    }
    summary.processed += withReports.length;
    summary.invalid += withoutReports.length;
    if (doneUpTo > lastUid) {
      lastUid = doneUpTo;
      await store.setState<MailboxState>(stateKey, { uidValidity, lastUid });
      await store.flush();
    }
    if (complete && handled.size < chunk.length) {
      // messages vanished between SEARCH and FETCH (another client moved them): fine, move on
      const gone = chunk.filter((uid) => !handled.has(uid));
      logger.info({ uids: gone }, 'messages disappeared before they could be fetched');
      const last = chunk[chunk.length - 1]!;
      if (last > lastUid) {
        lastUid = last;
        await store.setState<MailboxState>(stateKey, { uidValidity, lastUid });
        await store.flush();
      }
    }
    chunkIndex += 1;
    chunkDone += chunk.length;
    withReports = [];
    withoutReports = [];
    reasonKeywords = new Map();
  };

  let stopped = false;
  let inChunk = false;
  // fetching, reading and storing overlap; the results come in fetch order, each one stored
  try {
    for await (const { key, result } of ingestOverlapped(fetched(), ingestDeps)) {
      if (key.uid === null) {
        inChunk = false;
        await finishChunk(true);
        if (signal?.aborted) break;
        continue;
      }
      inChunk = true;
      const uid = key.uid;
      const source = `imap:${config.IMAP_MAILBOX}/${uid}`;
      summary.messages += 1;
      summary.new += result.new;
      summary.duplicates += result.duplicates;
      summary.expired += result.expired;
      summary.errors.push(...result.errors);
      if (result.reports > 0) {
        withReports.push(uid);
        for (const error of result.errors)
          logger.warn({ source: error.source }, `part of the message could not be read: ${error.message}`);
      } else {
        withoutReports.push(uid);
        const keywords = invalidKeywords(result.errors).join(' ');
        reasonKeywords.set(keywords, [...(reasonKeywords.get(keywords) ?? []), uid]);
        logger.warn(
          { source, reason: result.errors.map((e) => e.message).join('; ') },
          folders
            ? 'message holds no report: moving it to the invalid folder'
            : 'message holds no report: leaving it in place, marked seen',
        );
      }
      deps.onProgress?.({
        done: chunkDone + withReports.length + withoutReports.length,
        total: pending.length,
        uid,
        result,
      });
      if (signal?.aborted) break;
    }
  } catch (error) {
    // stopped while a mail was being read: it stays in the mailbox, unprocessed and uncounted
    if (!(error instanceof ReadAbortedError)) throw error;
    stopped = true;
  }
  if (stopped)
    logger.info({ mailbox: config.IMAP_MAILBOX }, 'stopped in the middle of a mail; it stays in the mailbox');
  // stopped inside a chunk: what was handled of it is stored and acknowledged all the same
  if (inChunk) await finishChunk(false);
  if (!saved || saved.uidValidity !== uidValidity) {
    // remember the new UIDVALIDITY even when the mailbox was empty
    await store.setState<MailboxState>(stateKey, { uidValidity, lastUid });
    await store.flush();
  }
  summary.lastUid = lastUid;
  return summary;
}

/** `dmarc-bot ingest --imap`: connect, one pass, log out. Throws when the mailbox could not be processed. */
export async function runImapPass(config: ImapConfig, store: ImapStore, deps: ImapDeps = {}): Promise<ImapPassSummary> {
  const client = await connectImap(config, deps);
  try {
    const summary = await processMailbox(client, config, store, deps, deps.signal);
    await client.logout();
    return summary;
  } catch (error) {
    client.close();
    throw error;
  }
}

export interface WatchOptions {
  /** first reconnect delay and the cap of the exponential backoff */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** called after every pass (tests and the bot's status use it) */
  onPass?: (summary: ImapPassSummary) => void;
  random?: () => number;
  /** runs each pass; watchMailboxes makes the accounts' passes take turns on the one store */
  passLock?: <T>(work: () => Promise<T>) => Promise<T>;
}

/** Exponential backoff with equal jitter: half the capped initial * 2^attempt, plus a random part of the other half. */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Waits in IDLE until the server announces new mail, the poll interval passes (servers without
 * IDLE, or an IDLE that silently died), the connection closes (rejects) or the signal aborts.
 */
function waitForMail(client: ImapFlow, pollMs: number, signal: AbortSignal, mailArrived: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    // EXISTS announced while the last pass was running: go again at once
    if (mailArrived() || signal.aborted) return resolve();
    const cleanup = () => {
      clearTimeout(timer);
      client.off('exists', onExists);
      client.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const onExists = () => {
      cleanup();
      resolve();
    };
    const onAbort = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the IMAP connection closed'));
    };
    const timer = setTimeout(onExists, pollMs);
    client.on('exists', onExists);
    client.on('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
    if (!client.usable) return onClose();
    // idle() resolves when IDLE ends; the next command (SEARCH) ends it
    client.idle().catch(() => undefined);
  });
}

/**
 * The long-running watcher for `dmarc-bot start`: a pass, then IDLE (with a poll fallback every
 * IMAP_POLL_SECONDS), again and again; reconnects with backoff when the connection drops; on abort
 * finishes the message in hand, flushes, logs out and resolves.
 */
export async function watchMailbox(
  config: ImapConfig,
  store: ImapStore,
  deps: ImapDeps & WatchOptions,
  signal: AbortSignal,
): Promise<void> {
  const logger = deps.logger ?? silentLogger;
  const initialMs = deps.backoffInitialMs ?? 1000;
  const maxMs = deps.backoffMaxMs ?? 5 * 60_000;
  const pollMs = config.IMAP_POLL_SECONDS * 1000;
  const account = accountName(config);
  // one token client for the watcher's life: reconnects reuse a token until it nears expiry
  const tokens = deps.tokens ?? oauthTokensFor(config, deps.oauth);
  const connectDeps = { ...deps, ...(tokens ? { tokens } : {}) };
  const pass = deps.passLock ?? ((work) => work());
  let attempt = 0;
  while (!signal.aborted) {
    let client: ImapFlow | undefined;
    try {
      client = await connectImap(config, connectDeps);
      deps.observer?.imapConnection(true, account);
      attempt = 0;
      logger.info({ account, host: config.IMAP_HOST, mailbox: config.IMAP_MAILBOX }, 'watching the mailbox');
      let mailArrived = false;
      client.on('exists', () => (mailArrived = true));
      while (!signal.aborted) {
        mailArrived = false;
        const connected = client;
        const summary = await pass(() => processMailbox(connected, config, store, deps, signal));
        if (summary.messages > 0)
          logger.info(
            {
              account,
              messages: summary.messages,
              new: summary.new,
              duplicates: summary.duplicates,
              invalid: summary.invalid,
            },
            'mailbox pass done',
          );
        deps.observer?.imapPass(deps.now?.() ?? new Date(), account);
        deps.onPass?.(summary);
        if (signal.aborted) break;
        await waitForMail(client, pollMs, signal, () => mailArrived);
      }
      await client.logout().catch(() => client?.close());
      deps.observer?.imapConnection(false, account);
      return;
    } catch (error) {
      client?.close();
      deps.observer?.imapConnection(false, account);
      if (signal.aborted) {
        // stopping while a command was in flight: what was stored is flushed, the rest is read again
        await store.flush().catch(() => undefined);
        return;
      }
      const delay = backoffDelay(attempt, initialMs, maxMs, deps.random);
      attempt += 1;
      logger.warn(
        {
          account,
          err: redactSecrets(errorMessage(error), loginSecrets(config, tokens)),
          retryInMs: delay,
          attempt,
        },
        'mailbox connection failed; reconnecting',
      );
      await sleep(delay, signal);
    }
  }
}

/** One pass at a time: the store's documents are read, changed and written by one writer. */
function createPassLock(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>) => {
    const run = tail.then(work, work);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** What one account's pass gave: its summary, or why it could not be read. */
export type AccountPass =
  | { account: string; config: ImapConfig; ok: true; summary: ImapPassSummary }
  | { account: string; config: ImapConfig; ok: false; error: string };

/**
 * `ingest --imap` over every configured mailbox, one after the other into the one store. A mailbox
 * that cannot be read is reported and the others are read all the same.
 */
export async function runImapPasses(
  accounts: readonly ImapConfig[],
  store: ImapStore,
  deps: ImapDeps & { onAccount?: (config: ImapConfig) => void } = {},
): Promise<AccountPass[]> {
  const passes: AccountPass[] = [];
  for (const config of accounts) {
    if (deps.signal?.aborted) break;
    const account = accountName(config);
    deps.onAccount?.(config);
    try {
      const summary = await runImapPass(config, store, deps);
      passes.push({ account, config, ok: true, summary });
    } catch (error) {
      // a store failure is no mailbox's fault: it stops the run (nothing after it may be acknowledged)
      if (error instanceof StoreWriteError) throw error;
      passes.push({ account, config, ok: false, error: errorMessage(error) });
    }
  }
  return passes;
}

/**
 * `start` over every configured mailbox: one watcher each (its own connection, backoff, token and
 * metrics), their passes taking turns on the store. One mailbox failing never stops the others.
 */
export async function watchMailboxes(
  accounts: readonly ImapConfig[],
  store: ImapStore,
  deps: ImapDeps & WatchOptions,
  signal: AbortSignal,
): Promise<void> {
  const passLock = deps.passLock ?? createPassLock();
  const logger = deps.logger ?? silentLogger;
  await Promise.all(
    accounts.map((config) =>
      watchMailbox(config, store, { ...deps, passLock }, signal).catch((error: unknown) =>
        logger.error({ account: accountName(config), err: errorMessage(error) }, 'mailbox watcher stopped'),
      ),
    ),
  );
}
