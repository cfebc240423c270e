// DKIM keys (RFC 6376 3.6.1, RFC 8301, RFC 8463): the TXT record at <selector>._domainkey.<domain>
// holds k= (rsa by default) and p= (the base64 key; empty means revoked). RSA keys under 1024 bits
// are refused by receivers (RFC 8301); node:crypto gives the modulus length.

import type { DkimSelectorRecord, DnsCheck } from './types.ts';

export const MIN_RSA_BITS = 1024;

export type DkimKey =
  { usable: true; type: 'rsa' | 'ed25519'; bits: number | null } | { usable: false; reason: string };

export function dkimTags(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const equals = part.indexOf('=');
    if (equals <= 0) continue;
    const name = part.slice(0, equals).trim().toLowerCase();
    if (!tags.has(name)) tags.set(name, part.slice(equals + 1).replace(/\s+/g, ''));
  }
  return tags;
}

export function readDkimKey(text: string): DkimKey {
  const tags = dkimTags(text);
  const version = tags.get('v');
  if (version !== undefined && version !== 'DKIM1') return { usable: false, reason: `v=${version} is not DKIM1` };
  if (!tags.has('p')) return { usable: false, reason: 'the record has no p= key' };
  const key = tags.get('p')!;
  if (key === '') return { usable: false, reason: 'the key is revoked (empty p=)' };
  const type = (tags.get('k') ?? 'rsa').toLowerCase();
  if (type === 'ed25519') {
    return Buffer.from(key, 'base64').length === 32
      ? { usable: true, type: 'ed25519', bits: 256 }
      : { usable: false, reason: 'the ed25519 key is not 32 bytes' };
  }
  if (type !== 'rsa') return { usable: false, reason: `k=${type} is not a key type receivers know` };
  try {
    // node:crypto is loaded when a key is read, not with the command (about 10 ms)
    const publicKey = process
      .getBuiltinModule('node:crypto')
      .createPublicKey({ key: Buffer.from(key, 'base64'), format: 'der', type: 'spki' });
    const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
    if (publicKey.asymmetricKeyType !== 'rsa') return { usable: false, reason: 'p= is not an RSA key' };
    if (bits < MIN_RSA_BITS)
      return { usable: false, reason: `the RSA key has ${bits} bits (receivers need at least ${MIN_RSA_BITS})` };
    return { usable: true, type: 'rsa', bits };
  } catch {
    return { usable: false, reason: 'p= is not a readable public key' };
  }
}

export function dkimSelectorsCheck(records: readonly DkimSelectorRecord[]): DnsCheck {
  if (records.length === 0)
    return {
      id: 'dkim-selectors',
      ok: true,
      severity: 'info',
      checked: true,
      detail: 'no DKIM selector of the domain was seen signing in the window: no key to check',
      fix: null,
    };
  const broken: string[] = [];
  const fixes: string[] = [];
  const unknown: string[] = [];
  const good: string[] = [];
  for (const record of records) {
    const name = `${record.selector}._domainkey.${record.domain}`;
    if (record.records.status === 'error') {
      unknown.push(name);
      continue;
    }
    const texts = record.records.status === 'found' ? record.records.value.filter((text) => /p\s*=/i.test(text)) : [];
    if (texts.length === 0) {
      broken.push(`${name} publishes no key: every message signed with selector ${record.selector} fails DKIM`);
      fixes.push(`publish TXT ${name} "v=DKIM1; k=rsa; p=<the public key of your signer, 2048 bits>"`);
      continue;
    }
    const key = readDkimKey(texts[0]!);
    if (!key.usable) {
      broken.push(`${name}: ${key.reason}`);
      fixes.push(`publish a new 2048-bit key at ${name} (or move the signer to a new selector) and sign with it`);
    } else good.push(`${record.selector} (${key.type}${key.type === 'rsa' ? ` ${key.bits} bits` : ''})`);
  }
  if (broken.length > 0)
    return {
      id: 'dkim-selectors',
      ok: false,
      severity: 'error',
      checked: true,
      detail: broken.join('; '),
      fix: fixes.join('; '),
    };
  if (unknown.length > 0)
    return {
      id: 'dkim-selectors',
      ok: false,
      severity: 'info',
      checked: false,
      detail: `could not check ${unknown.join(', ')}: DNS did not answer`,
      fix: null,
    };
  return {
    id: 'dkim-selectors',
    ok: true,
    severity: 'info',
    checked: true,
    detail: `usable keys: ${good.join(', ')}`,
    fix: null,
  };
}
