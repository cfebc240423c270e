// DMARC identifier alignment (RFC 7489 3.1): does an authenticated domain match the header From
// domain? strict = the same name; relaxed = the same organizational domain, via the public suffix
// list (tldts). Computed by us, next to the reporter's own verdict, so later features can explain
// failures ("SPF passes for bounce.esp.example but is not aligned").

import { getDomain } from '../net/org-domain.ts';
import type { Alignment, DkimAuthResult, SpfAuthResult } from '../model.ts';

/** 's' for strict; anything else (absent, 'r') is relaxed, the DMARC default. */
export type AlignmentMode = string | null;

// Private PSL entries count too: two customers of one hosting suffix (a.github.io, b.github.io) are
// different organizations and must not align with each other.
const pslOptions = { allowPrivateDomains: true } as const;

export function organizationalDomain(domain: string, cache?: Map<string, string>): string {
  const name = normalizeDomain(domain);
  const cached = cache?.get(name);
  if (cached !== undefined) return cached;
  const org = getDomain(name, pslOptions) ?? name;
  cache?.set(name, org);
  return org;
}

export function isAligned(
  authenticated: string,
  headerFrom: string,
  mode: AlignmentMode,
  cache?: Map<string, string>,
): boolean {
  const a = normalizeDomain(authenticated);
  const b = normalizeDomain(headerFrom);
  if (!a || !b) return false;
  if (a === b) return true;
  if (mode === 's') return false;
  return organizationalDomain(a, cache) === organizationalDomain(b, cache);
}

export interface AlignmentInput {
  headerFrom: string;
  envelopeFrom: string | null;
  adkim: AlignmentMode;
  aspf: AlignmentMode;
  dkim: readonly DkimAuthResult[];
  spf: readonly SpfAuthResult[];
}

export function computeAlignment(input: AlignmentInput, cache?: Map<string, string>): Alignment {
  let dkimAligned = false;
  let dkimUnaligned: string[] | undefined;
  for (const signature of input.dkim) {
    if (signature.result !== 'pass' || !signature.domain) continue;
    if (isAligned(signature.domain, input.headerFrom, input.adkim, cache)) dkimAligned = true;
    else dkimUnaligned = addUnique(dkimUnaligned, normalizeDomain(signature.domain));
  }

  let spfAligned = false;
  let spfUnaligned: string[] | undefined;
  for (const check of input.spf) {
    // DMARC uses the MAIL FROM identity; a HELO check says nothing about the From domain.
    if (check.result !== 'pass' || (check.scope !== null && check.scope !== 'mfrom')) continue;
    // Some reporters leave the SPF domain empty; the envelope sender is the domain SPF checked.
    const domain = check.domain || input.envelopeFrom;
    if (!domain) continue;
    if (isAligned(domain, input.headerFrom, input.aspf, cache)) spfAligned = true;
    else spfUnaligned = addUnique(spfUnaligned, normalizeDomain(domain));
  }

  const alignment: Alignment = { dkim: dkimAligned, spf: spfAligned };
  if (dkimUnaligned) alignment.dkimUnalignedPass = dkimUnaligned;
  if (spfUnaligned) alignment.spfUnalignedPass = spfUnaligned;
  return alignment;
}

/** Lower case, no trailing dot, and a mail address reduced to its domain. */
export function normalizeDomain(value: string): string {
  let domain = value.trim().toLowerCase();
  const at = domain.lastIndexOf('@');
  if (at >= 0) domain = domain.slice(at + 1);
  if (domain.endsWith('>')) domain = domain.slice(0, -1);
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  return domain;
}

function addUnique(list: string[] | undefined, value: string): string[] {
  if (!list) return [value];
  if (!list.includes(value)) list.push(value);
  return list;
}
