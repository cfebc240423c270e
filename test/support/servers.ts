// Which test servers (Dovecot, Redis, PostgreSQL) this machine has, and where their binaries are:
// on PATH, or in Debian's and RHEL's package layouts (neither puts everything on a user's PATH).
// A suite that needs a missing server skips, except under CI=true, where it must fail instead.
// Skips are noted in the run directory so that the global setup can name the packages at the end.

import { accessSync, constants, existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export type ServerKind = 'dovecot' | 'redis' | 'postgres';

interface ServerSpec {
  label: string;
  binaries: readonly string[];
  debianPackage: string;
  rhelPackage: string;
  /** package layouts searched after PATH, best first */
  layout: () => string[];
}

/** The newest version first: /usr/lib/postgresql/16/bin before /usr/lib/postgresql/15/bin. */
function versionedBins(root: string, prefix: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => name.startsWith(prefix) && /^\d+(\.\d+)?$/.test(name.slice(prefix.length)))
    .sort((a, b) => Number(b.slice(prefix.length)) - Number(a.slice(prefix.length)))
    .map((name) => join(root, name, 'bin'));
}

export const SERVERS: Readonly<Record<ServerKind, ServerSpec>> = {
  dovecot: {
    label: 'Dovecot',
    binaries: ['dovecot', 'doveadm'],
    debianPackage: 'dovecot-imapd',
    rhelPackage: 'dovecot',
    layout: () => ['/usr/sbin', '/usr/bin', '/usr/local/sbin'],
  },
  redis: {
    label: 'Redis',
    binaries: ['redis-server'],
    debianPackage: 'redis-server',
    rhelPackage: 'redis',
    layout: () => ['/usr/bin', '/usr/local/bin'],
  },
  postgres: {
    label: 'PostgreSQL',
    binaries: ['postgres', 'initdb', 'pg_ctl', 'pg_isready', 'createdb'],
    debianPackage: 'postgresql',
    rhelPackage: 'postgresql-server',
    // Debian: /usr/lib/postgresql/<ver>/bin; PGDG on RHEL: /usr/pgsql-<ver>/bin; RHEL's own: /usr/bin
    layout: () => [...versionedBins('/usr/lib/postgresql', ''), ...versionedBins('/usr', 'pgsql-'), '/usr/bin'],
  },
};

/**
 * Test-only: a search path that replaces PATH and the package layouts, so a test can see how the
 * suite behaves on a machine without the servers.
 */
export const SEARCH_PATH_ENV = 'DMARC_TEST_SERVER_PATH';
/** The run directory of the global setup (started servers and skipped servers are noted there). */
export const RUN_DIR_ENV = 'DMARC_TEST_RUN_DIR';

function searchDirs(kind: ServerKind): string[] {
  const override = process.env[SEARCH_PATH_ENV];
  if (override !== undefined) return override.split(delimiter).filter(Boolean);
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return [...new Set([...onPath, ...SERVERS[kind].layout()])];
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export type ServerBinaries = Readonly<Record<string, string>>;

/**
 * The absolute path of each binary the server needs, or undefined if one is missing. The rest are
 * taken from beside the first binary when they are there (the real folder, through symlinks), so
 * one PostgreSQL version's tools are never mixed with another's.
 */
export function findServer(kind: ServerKind): ServerBinaries | undefined {
  const dirs = searchDirs(kind);
  const lookup = (name: string, preferred: string[]) =>
    [...preferred, ...dirs].map((dir) => join(dir, name)).find(executable);
  const [first, ...rest] = SERVERS[kind].binaries;
  const main = lookup(first!, []);
  if (!main) return undefined;
  const home = [dirname(realpathSync(main)), dirname(main)];
  const found: Record<string, string> = { [first!]: main };
  for (const name of rest) {
    const path = lookup(name, home);
    if (!path) return undefined;
    found[name] = path;
  }
  return found;
}

export const ciRequiresServers = () => process.env.CI === 'true' || process.env.CI === '1';

/** The end-of-run line for a missing server. */
export function missingLine(kind: ServerKind, required = ciRequiresServers()): string {
  const { label, debianPackage, rhelPackage } = SERVERS[kind];
  const what = required ? 'tests that need it failed (CI=true requires it)' : 'tests that need it were skipped';
  return `${label} not found: ${what}. Install ${debianPackage} (Debian) or ${rhelPackage} (RHEL).`;
}

export class MissingServerError extends Error {
  constructor(readonly kind: ServerKind) {
    super(
      `${missingLine(kind, true)} Searched for ${SERVERS[kind].binaries.join(', ')} in: ${searchDirs(kind).join(delimiter)}`,
    );
    this.name = 'MissingServerError';
  }
}

function noteMissing(kind: ServerKind): void {
  const runDir = process.env[RUN_DIR_ENV];
  if (!runDir) return;
  mkdirSync(join(runDir, 'missing'), { recursive: true });
  writeFileSync(join(runDir, 'missing', kind), '');
}

/** The binaries of a server a test is about to start; throws MissingServerError (and notes it). */
export function serverBinaries(kind: ServerKind): ServerBinaries {
  const found = findServer(kind);
  if (found) return found;
  noteMissing(kind);
  throw new MissingServerError(kind);
}

/**
 * For `describe.skipIf(skipWithout('redis'))`: true when the server is missing and CI does not
 * require it. Under CI=true it is false, and starting the server fails the suite with its name.
 */
export function skipWithout(...kinds: ServerKind[]): boolean {
  const missing = kinds.filter((kind) => !findServer(kind));
  for (const kind of missing) noteMissing(kind);
  return missing.length > 0 && !ciRequiresServers();
}

/** The missing servers noted in a run directory. */
export function missingInRun(runDir: string): ServerKind[] {
  const dir = join(runDir, 'missing');
  if (!existsSync(dir)) return [];
  const noted = new Set(readdirSync(dir));
  return (Object.keys(SERVERS) as ServerKind[]).filter((kind) => noted.has(kind));
}
