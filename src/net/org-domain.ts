// The registrable (organizational) domain of a name, by the public suffix list (tldts). tldts and
// its list are loaded on the first call, not at start: `help` and `--version` never need them.

import { createRequire } from 'node:module';
import type * as TldtsModule from 'tldts';

type Tldts = typeof TldtsModule;

let tldts: Tldts | undefined;
const load = (): Tldts => (tldts ??= createRequire(import.meta.url)('tldts') as Tldts);

/** tldts' getDomain: the registrable domain of a host name or URL, null when it has none. */
export function getDomain(...args: Parameters<Tldts['getDomain']>): ReturnType<Tldts['getDomain']> {
  return load().getDomain(...args);
}
