// A/B of the ingest pass between worktrees (or commits checked out side by side), for changes too
// small to tell apart in two bench:ingest runs on a shared machine: one Dovecot and one delivered
// backlog, each worktree's bench child bundled as bench:ingest bundles it, then the passes run
// alternately (ABBA...) over the same mailbox (IMAP_ACTION=flag: the mail stays where it is, and
// each pass gets a fresh store). Prints each pass and, per worktree, the least and the median CPU
// time a message (all threads) and the median messages/s.
//
//   node --import tsx test/bench/ingest-ab.ts [--mails N] [--rounds R] [--discard] LABEL=WORKTREE ...
//
// --discard: passes without store writes (IMAP + reader only), as bench:ingest's second pass.
// AB_NODE_ARGS: extra node flags for the children (e.g. "--cpu-prof --cpu-prof-dir=DIR").
// Run with your own TMPDIR.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { reportMailBacklog } from '../../src/generate/index.ts';
import { disposeDovecot, startDovecot } from '../support/dovecot.ts';
import { testClient } from '../support/mail.ts';
import type * as BuildModule from '../../build.ts';
import { runIngestChild, type ChildResult as PassResult } from './ingest/run-child.ts';

const { values, positionals } = parseArgs({
  options: {
    mails: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    discard: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const mails = Number(values.mails);
const rounds = Number(values.rounds);
const variants = positionals.map((arg) => {
  const at = arg.indexOf('=');
  if (at <= 0) throw new Error(`expected LABEL=WORKTREE, got ${arg}`);
  return { label: arg.slice(0, at), worktree: resolve(arg.slice(at + 1)) };
});
if (variants.length === 0) throw new Error('name at least one LABEL=WORKTREE');
const nodeArgs = (process.env.AB_NODE_ARGS ?? '').split(' ').filter(Boolean);

// each worktree's child, bundled with that worktree's own build options (as its bench:ingest would)
const { build } = await import('esbuild');
const children = new Map<string, string>();
for (const { label, worktree } of variants) {
  const { bundleOptions, commandEntryPoints } = (await import(join(worktree, 'build.ts'))) as typeof BuildModule;
  const outdir = join(worktree, 'dist/bench/ab', label);
  rmSync(outdir, { recursive: true, force: true });
  await build({
    ...bundleOptions,
    absWorkingDir: worktree,
    entryPoints: { child: 'test/bench/ingest/child.ts', worker: commandEntryPoints.worker },
    outdir,
  });
  children.set(label, join(outdir, 'child.js'));
}

const median = (list: number[]) => [...list].sort((a, b) => a - b)[list.length >> 1]!;
const cpuPerMessage = (result: PassResult) => (result.cpuSeconds * 1000) / result.messages;

const dovecot = await startDovecot();
try {
  const account = dovecot.user();
  dovecot.deliver(
    account.user,
    (function* () {
      for (const mail of reportMailBacklog({ seed: `bench-${mails}`, count: mails, minRecords: 1, maxRecords: 500 }))
        yield mail.raw;
    })(),
  );
  // the first SELECT assigns the UIDs, outside the measured passes
  const client = await testClient(dovecot, account);
  await client.mailboxOpen('INBOX');
  await client.logout();
  const results = new Map<string, PassResult[]>(variants.map(({ label }) => [label, []]));
  for (let round = 0; round < rounds; round++) {
    for (const { label } of round % 2 === 0 ? variants : [...variants].reverse()) {
      const dir = mkdtempSync(join(tmpdir(), 'dmarc-ab-'));
      const result = await runIngestChild(
        children.get(label)!,
        {
          DMARC_STORE: `sqlite://${join(dir, 'store.sqlite')}`,
          IMAP_HOST: dovecot.host,
          IMAP_PORT: String(dovecot.port),
          IMAP_USER: account.user,
          IMAP_PASSWORD: account.password,
          IMAP_TLS: 'off',
          IMAP_ACTION: 'flag',
          ...(values.discard ? { BENCH_DISCARD_STORE: '1' } : {}),
        },
        nodeArgs,
      );
      rmSync(dir, { recursive: true, force: true });
      if (result.messages !== mails) throw new Error(`${label}: the pass saw ${result.messages} messages`);
      results.get(label)!.push(result);
      process.stdout.write(
        `${label}: ${(result.messages / result.seconds).toFixed(0)} messages/s, ${cpuPerMessage(result).toFixed(2)} ms CPU a message, peak RSS ${result.maxRssMb.toFixed(0)} MB\n`,
      );
    }
  }
  for (const [label, list] of results) {
    const cpu = list.map(cpuPerMessage);
    process.stdout.write(
      `${label}: CPU a message least ${Math.min(...cpu).toFixed(2)} ms, median ${median(cpu).toFixed(2)} ms; ` +
        `median ${median(list.map((result) => result.messages / result.seconds)).toFixed(0)} messages/s; ` +
        `peak RSS up to ${Math.max(...list.map((result) => result.maxRssMb)).toFixed(0)} MB\n`,
    );
  }
} finally {
  await disposeDovecot(dovecot);
}
