// The one IP parser of the project: what the reader stores and what the `ip` command accepts are
// the same text. Strict on purpose: legacy forms (`010.0.0.1` read as octal, `1.2.3`, `0x7f.1`)
// name other addresses than a person reads, so they are refused instead of being reinterpreted.

import ipaddr from 'ipaddr.js';

const DOTTED_QUAD = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
// hex groups, colons and an optional embedded dotted quad; no zone id, no brackets
const IPV6_TEXT = /^[0-9a-f:.]{2,45}$/i;

/**
 * The normal form of an address, or null when the text is not one: IPv4 as a dotted quad without
 * leading zeros, IPv6 compressed and lower case (RFC 5952), IPv4-mapped IPv6 as its IPv4 address.
 */
export function normalizeIp(text: string): string | null {
  const value = text.trim();
  if (DOTTED_QUAD.test(value)) return value;
  if (!IPV6_TEXT.test(value) || !value.includes(':')) return null;
  const embedded = value.includes('.') ? value.slice(value.lastIndexOf(':') + 1) : null;
  if (embedded !== null && !DOTTED_QUAD.test(embedded)) return null;
  // one parse (isValid is this same parse, caught); the mapped range read off the groups, since
  // isIPv4MappedAddress() matches the address against every special range in turn
  let address: ipaddr.IPv6;
  try {
    address = ipaddr.IPv6.parse(value);
  } catch {
    return null;
  }
  if (isIpv4Mapped(address.parts)) return address.toIPv4Address().toString();
  return address.toRFC5952String();
}

/** ::ffff:0:0/96 */
function isIpv4Mapped(parts: readonly number[]): boolean {
  return parts[0] === 0 && parts[1] === 0 && parts[2] === 0 && parts[3] === 0 && parts[4] === 0 && parts[5] === 0xffff;
}

export function isIp(text: string): boolean {
  return normalizeIp(text) !== null;
}
