// A real Dovecot 2.3 for tests: its own config, state and mail folders in a temp dir, a free
// loopback port, plaintext auth with one static password (every user name is a fresh mailbox).
// Runs in the foreground as our child; it is noted in the run directory (started-servers.ts), so
// the global setup stops it also when the test process dies first.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { serverBinaries } from './servers.ts';
import { noteStarted } from './started-servers.ts';

export const DOVECOT_PASSWORD = 'secret';

export interface DovecotServer {
  host: string;
  port: number;
  /** the temp folder holding config, state, logs and mail (mail/<user>/Maildir) */
  dir: string;
  /** A fresh user (a new empty mailbox), or the named one. */
  user(name?: string): { user: string; password: string };
  /** Graceful stop; the data stays (restart() brings it back on the same port). */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** SIGKILL the master and every Dovecot process of this instance: connections drop at once. */
  kill(): Promise<void>;
  /** The Dovecot log (useful in failing tests). */
  log(): string;
  /**
   * Delivers messages straight into a user's INBOX maildir, as a local delivery agent does
   * (Dovecot gives them UIDs when the mailbox is next opened). Far faster than APPEND for big
   * backlogs, whose uidlist Dovecot rewrites on every APPEND. Returns how many were delivered.
   */
  deliver(user: string, messages: Iterable<Uint8Array>): number;
}

const MAIL_UID = 8;
const MAIL_GID = 8;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

async function waitForGreeting(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const done = (value: boolean) => {
        socket.destroy();
        resolve(value);
      };
      socket.setTimeout(1000, () => done(false));
      socket.once('data', (chunk) => done(chunk.toString().startsWith('* OK')));
      socket.once('error', () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`dovecot did not answer on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface DovecotOptions {
  /**
   * Adds an oauth2 passdb (XOAUTH2 and OAUTHBEARER) that asks this RFC 7662 introspection URL
   * about each token; password logins keep working beside it.
   */
  oauth2?: { introspectionUrl: string };
}

function oauth2Config(dir: string, options: DovecotOptions): string {
  if (!options.oauth2) return '';
  writeFileSync(
    join(dir, 'dovecot-oauth2.conf.ext'),
    `introspection_mode = post
introspection_url = ${options.oauth2.introspectionUrl}
username_attribute = username
active_attribute = active
active_value = true
force_introspection = yes
`,
  );
  // a refused token would otherwise make anvil delay the next logins from loopback by seconds
  return `
login_trusted_networks = 127.0.0.0/8
auth_mechanisms = plain login xoauth2 oauthbearer
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${dir}/dovecot-oauth2.conf.ext
}
`;
}

function config(dir: string, port: number, options: DovecotOptions = {}): string {
  return `
protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_uid = mail
mail_gid = mail
first_valid_uid = ${MAIL_UID}
first_valid_gid = ${MAIL_GID}
default_login_user = dovenull
default_internal_user = dovecot
namespace inbox {
  inbox = yes
  separator = /
}
${oauth2Config(dir, options)}
passdb {
  driver = static
  args = password=${DOVECOT_PASSWORD}${options.oauth2 ? '\n  mechanisms = plain login' : ''}
}
userdb {
  driver = static
  args = home=${dir}/mail/%u allow_all_users=yes
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
`;
}

export async function startDovecot(options: DovecotOptions = {}): Promise<DovecotServer> {
  const bin = serverBinaries('dovecot');
  // base_dir holds unix sockets: keep the path short
  const dir = mkdtempSync(join(tmpdir(), 'dv-'));
  chmodSync(dir, 0o755);
  for (const sub of ['run', 'state']) mkdirSync(join(dir, sub), { mode: 0o755 });
  const mailDir = join(dir, 'mail');
  mkdirSync(mailDir, { mode: 0o755 });
  chownSync(mailDir, MAIL_UID, MAIL_GID);
  const port = await freePort();
  const confPath = join(dir, 'dovecot.conf');
  writeFileSync(confPath, config(dir, port, options));

  let child: ChildProcess | undefined;
  let userCounter = 0;

  const launch = async () => {
    const proc = spawn(bin.dovecot!, ['-c', confPath, '-F'], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (proc.pid) {
      const forget = noteStarted({
        label: 'Dovecot',
        pid: proc.pid,
        cmdline: [confPath],
        stop: { file: bin.doveadm!, args: ['-c', confPath, 'stop'] },
        dirs: [dir],
      });
      proc.once('exit', forget);
    }
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    child = proc;
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) =>
        reject(new Error(`dovecot exited (${code}) before answering: ${stderr}${readLog()}`)),
      ),
    );
    await Promise.race([waitForGreeting(port, 15_000), exited]);
  };

  const readLog = () => (existsSync(join(dir, 'dovecot.log')) ? readFileSync(join(dir, 'dovecot.log'), 'utf8') : '');

  const waitExit = (proc: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
    });

  /** Kills the leftover imap/auth processes of this instance (they hold the config path). */
  const killChildren = () => {
    try {
      execFileSync('pkill', ['-KILL', '-P', String(child?.pid ?? 0)], { stdio: 'ignore' });
    } catch {
      // none left
    }
  };

  const stop = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    await waitExit(proc);
  };

  const kill = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    killChildren();
    proc.kill('SIGKILL');
    await waitExit(proc);
    // the master's pid file and sockets stay behind after SIGKILL; the next start must not see them
    rmSync(join(dir, 'run'), { recursive: true, force: true });
    mkdirSync(join(dir, 'run'), { mode: 0o755 });
  };

  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const proc of live) proc.kill('SIGKILL');
    });
  }

  await launch();

  return {
    host: '127.0.0.1',
    port,
    dir,
    user(name) {
      userCounter += 1;
      return {
        user: name ?? `u${process.pid}x${userCounter}x${Math.random().toString(36).slice(2, 8)}`,
        password: DOVECOT_PASSWORD,
      };
    },
    stop: async () => {
      await stop();
    },
    restart: async () => {
      await stop();
      await launch();
    },
    kill,
    log: readLog,
    deliver(user, messages) {
      const maildir = join(mailDir, user, 'Maildir');
      for (const path of [join(mailDir, user), maildir, ...['new', 'cur', 'tmp'].map((sub) => join(maildir, sub))]) {
        if (!existsSync(path)) {
          mkdirSync(path, { mode: 0o700 });
          chownSync(path, MAIL_UID, MAIL_GID);
        }
      }
      let count = 0;
      for (const message of messages) {
        count += 1;
        // maildir file names must be unique
        const name = `${Math.floor(Date.now() / 1000)}.M${String(count).padStart(8, '0')}P${process.pid}.test`;
        const path = join(maildir, 'new', name);
        writeFileSync(path, message);
        chownSync(path, MAIL_UID, MAIL_GID);
      }
      return count;
    },
  };
}

/** Stops the server and removes its folder. */
export async function disposeDovecot(server: DovecotServer): Promise<void> {
  await server.stop();
  rmSync(server.dir, { recursive: true, force: true });
}
