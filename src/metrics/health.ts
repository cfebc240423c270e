// `/healthz`: whether the store answers and the mailbox is being read. Plain data in, plain data
// out; the HTTP server turns `ok` into 200 or 503.

import type { ReportStore } from '../store/types.ts';

export interface PartHealth {
  ok: boolean;
  detail: string;
}

export interface HealthReport {
  ok: boolean;
  store: PartHealth;
  mailbox: PartHealth;
}

export interface HealthInput {
  store: Pick<ReportStore, 'getState'>;
  /** absent when no mailbox is configured */
  mailbox?: {
    /** false while another instance holds the lease and watches the mailbox */
    leading(): boolean;
    state(): { connected: boolean; lastPass: Date | null; down?: string[] };
    /** a pass older than this means the watcher is stuck (about twice IMAP_POLL_SECONDS) */
    maxPassAgeMs: number;
  };
  now?: () => Date;
  /** how long the store may take to answer (default 3 s) */
  storeTimeoutMs?: number;
}

async function storeHealth(store: HealthInput['store'], timeoutMs: number): Promise<PartHealth> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      store.getState('health'),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, detail: 'answers' };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

function mailboxHealth(mailbox: HealthInput['mailbox'], now: Date): PartHealth {
  if (!mailbox) return { ok: true, detail: 'not configured' };
  if (!mailbox.leading()) return { ok: true, detail: 'standby: another instance reads the mailbox' };
  const { connected, lastPass, down } = mailbox.state();
  // with several accounts, name the ones that are down (the single mailbox is `default`)
  const named = down?.filter((account) => account !== 'default') ?? [];
  if (!connected) return { ok: false, detail: named.length ? `not connected: ${named.join(', ')}` : 'not connected' };
  if (!lastPass) return { ok: true, detail: 'connected, first pass running' };
  const age = now.getTime() - lastPass.getTime();
  if (age > mailbox.maxPassAgeMs)
    return { ok: false, detail: `connected, but no pass finished since ${lastPass.toISOString()}` };
  return { ok: true, detail: `connected, last pass ${lastPass.toISOString()}` };
}

export async function checkHealth(input: HealthInput): Promise<HealthReport> {
  const now = (input.now ?? (() => new Date()))();
  const store = await storeHealth(input.store, input.storeTimeoutMs ?? 3000);
  const mailbox = mailboxHealth(input.mailbox, now);
  return { ok: store.ok && mailbox.ok, store, mailbox };
}
