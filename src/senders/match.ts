// Pure matching of an IP, a PTR name or report domains against the known-sender map.

import ipaddr from 'ipaddr.js';
import { getDomain } from 'tldts';
import { knownSenders, type KnownSender } from './known.ts';

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];
const parsedRanges: Array<{ sender: KnownSender; range: Cidr }> = knownSenders.flatMap((sender) =>
  sender.ranges.map((range) => ({ sender, range: ipaddr.parseCIDR(range) })),
);

/** Parses an IP, unwrapping IPv4-mapped IPv6, or null when it is not an IP. */
export function parseIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!ipaddr.isValid(ip)) return null;
  const parsed = ipaddr.parse(ip);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed;
}

/** Same address, whatever the spelling ("2001:db8::1" vs "2001:0db8:0:0::1"). */
export function sameIp(a: string, b: string): boolean {
  const left = parseIp(a);
  const right = parseIp(b);
  return Boolean(left && right && left.kind() === right.kind() && left.toNormalizedString() === right.toNormalizedString());
}

export function senderByRange(ip: string): KnownSender | null {
  const parsed = parseIp(ip);
  if (!parsed) return null;
  for (const { sender, range } of parsedRanges) {
    if (range[0].kind() === parsed.kind() && parsed.match(range as never)) return sender;
  }
  return null;
}

function endsWithLabel(name: string, suffix: string): boolean {
  return name === suffix || name.endsWith(`.${suffix}`);
}

export function senderByPtr(ptr: string): KnownSender | null {
  const name = ptr.toLowerCase().replace(/\.$/, '');
  return knownSenders.find((sender) => sender.ptrSuffixes.some((suffix) => endsWithLabel(name, suffix))) ?? null;
}

/** The first known sender among report domains (DKIM d=, SPF domains), compared by registrable domain. */
export function senderByDomains(domains: readonly string[]): KnownSender | null {
  for (const domain of domains) {
    const name = domain.toLowerCase().replace(/\.$/, '');
    const organisation = getDomain(name) ?? name;
    const found = knownSenders.find((sender) => sender.domains.some((known) => known === organisation || endsWithLabel(name, known)));
    if (found) return found;
  }
  return null;
}

export function senderById(id: string): KnownSender | null {
  return knownSenders.find((sender) => sender.id === id) ?? null;
}
