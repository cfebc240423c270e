// The registrable (organizational) domain of a name, by the public suffix list (tldts). tldts and
// its list are loaded on the first call, not at start: `help` and `--version` never need them.
// Loading them costs a one-shot command 10-20 ms (building the list's tree), for the few names a
// query asks about: the answers are kept between processes in a small file in the cache folder,
// keyed by the installed tldts, and tldts is loaded only for a name the file does not have.

import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';
import type * as TldtsModule from 'tldts';
import { defaultCacheDir } from '../cache-dir.ts';

type Tldts = typeof TldtsModule;

let tldts: Tldts | undefined;
const load = (): Tldts => (tldts ??= createRequire(import.meta.url)('tldts') as Tldts);

const PRIVATE = { allowPrivateDomains: true } as const;

/** At most this many answers are kept in the file (the first ones, which recur). */
const MAX_KEPT = 5_000;

/**
 * Answers of getDomain(name) without options and with `allowPrivateDomains` (the alignment's
 * option), kept in `file` for one `version` of tldts.
 */
export class OrgDomainFile {
  private known: Map<string, string | null> | null = null;
  /** answers not in the file yet */
  private added = 0;

  constructor(
    private readonly file: string | null,
    private readonly version: () => string,
  ) {}

  private read(): Map<string, string | null> {
    if (this.known) return this.known;
    this.known = new Map();
    if (!this.file) return this.known;
    try {
      const kept = JSON.parse(readFileSync(this.file, 'utf8')) as { version?: unknown; domains?: unknown };
      if (kept.version !== this.version() || !Array.isArray(kept.domains)) return this.known;
      for (const pair of kept.domains as unknown[]) {
        if (!Array.isArray(pair) || pair.length !== 2) continue;
        const [key, domain] = pair as unknown[];
        if (typeof key === 'string' && /^[01]/.test(key) && (domain === null || typeof domain === 'string'))
          this.known.set(key, domain);
      }
    } catch {
      // missing or unreadable: tldts answers, and the file is written again
    }
    return this.known;
  }

  get(name: string, privateDomains: boolean): string | null {
    const known = this.read();
    // the option, then the name
    const key = `${privateDomains ? 1 : 0}${name}`;
    const found = known.get(key);
    if (found !== undefined) return found;
    const domain = privateDomains ? load().getDomain(name, PRIVATE) : load().getDomain(name);
    if (known.size < MAX_KEPT) {
      known.set(key, domain);
      this.added += 1;
    }
    return domain;
  }

  /** Writes the file when answers were added (whole, through a rename: a reader never sees half). */
  save(): void {
    if (!this.file || !this.known || this.added === 0) return;
    const temporary = `${this.file}.${process.pid}-${threadId}.tmp`;
    try {
      writeFileSync(temporary, JSON.stringify({ version: this.version(), domains: [...this.known] }), { mode: 0o600 });
      renameSync(temporary, this.file);
      this.added = 0;
    } catch {
      try {
        rmSync(temporary, { force: true });
      } catch {
        // the folder itself is unusable: nothing was written
      }
    }
  }
}

/** The installed tldts: its entry file's path, size and modification time. */
function tldtsVersion(): string {
  try {
    const path = createRequire(import.meta.url).resolve('tldts');
    const stat = statSync(path);
    return `${path} ${stat.size} ${Math.trunc(stat.mtimeMs)}`;
  } catch {
    return 'unknown';
  }
}

let shared: OrgDomainFile | undefined;
function sharedFile(): OrgDomainFile {
  if (!shared) {
    const dir = defaultCacheDir();
    const file = new OrgDomainFile(dir ? join(dir, 'org-domains.json') : null, tldtsVersion);
    // written once, when the process ends: a query may ask about many names
    process.once('exit', () => file.save());
    shared = file;
  }
  return shared;
}

/** tldts' getDomain: the registrable domain of a host name or URL, null when it has none. */
export function getDomain(...args: Parameters<Tldts['getDomain']>): ReturnType<Tldts['getDomain']> {
  const [name, options] = args;
  // the main thread's answers only: the reader's threads keep their own per report
  if (isMainThread && typeof name === 'string') {
    if (options === undefined) return sharedFile().get(name, false);
    const keys = Object.keys(options);
    if (keys.length === 1 && options.allowPrivateDomains === true) return sharedFile().get(name, true);
  }
  return load().getDomain(...args);
}
