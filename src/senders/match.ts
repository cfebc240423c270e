// Pure matching of an IP, a PTR name or report domains against the known-sender map.

import ipaddr from 'ipaddr.js';
import { knownSenders, type KnownSender } from './known.ts';

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];
let parsedRanges: Array<{ sender: KnownSender; range: Cidr }> | null = null;
/** Every known range parsed by ipaddr.js, made on first use (only IPv6 and unusual spellings need it). */
function allRanges(): Array<{ sender: KnownSender; range: Cidr }> {
  return (parsedRanges ??= knownSenders.flatMap((sender) =>
    sender.ranges.map((range) => ({ sender, range: ipaddr.parseCIDR(range) })),
  ));
}

/** A CIDR written as a canonical dotted quad and a plain prefix length: its address number and prefix. */
function plainIpv4Cidr(range: string): [number, number] | null {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(range);
  if (!match) return null;
  const value = canonicalIpv4Value(match[1]!);
  const prefix = Number(match[2]);
  return value >= 0 && prefix <= 32 ? [value, prefix] : null;
}

/**
 * IPv4 ranges as numbers, for the common case (bulk classification of thousands of IPs): the
 * address as written (not masked, as ipaddr.parseCIDR keeps it) and the size of its prefix. Read
 * without ipaddr.js where the text is plain: parsing every range with it cost a one-shot command
 * several milliseconds at load.
 */
const ipv4Ranges = knownSenders.flatMap((sender) =>
  sender.ranges.flatMap((text) => {
    let cidr = plainIpv4Cidr(text);
    if (!cidr) {
      const [address, prefix] = ipaddr.parseCIDR(text);
      if (address.kind() !== 'ipv4') return [];
      cidr = [ipv4Number(address.toByteArray()), prefix];
    }
    const [start, prefix] = cidr;
    return [{ sender, start, end: start + 2 ** (32 - prefix) - 1 }];
  }),
);

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4Number(octets: readonly number[]): number {
  return ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
}

/** The octets of a dotted-quad IPv4 address, without the cost of a full parse. */
export function ipv4Octets(ip: string): number[] | null {
  const match = DOTTED_QUAD.exec(ip);
  if (!match) return null;
  const octets = [Number(match[1]), Number(match[2]), Number(match[3]), Number(match[4])];
  return octets.every((octet) => octet <= 255) ? octets : null;
}

/**
 * The number of an IPv4 address written canonically (dotted quad, no leading zeros), else -1: read
 * character by character, with no allocation, for the thousands of addresses of a busy month. Other
 * spellings take parseIp.
 */
export function canonicalIpv4Value(ip: string): number {
  const length = ip.length;
  if (length < 7 || length > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < length; i++) {
    const code = ip.charCodeAt(i);
    if (code === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (code >= 48 && code <= 57) {
      if (digits > 0 && octet === 0) return -1; // a leading zero
      octet = octet * 10 + (code - 48);
      if (octet > 255) return -1;
      digits++;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

/** The known sender whose published IPv4 range holds the address number, if any. */
export function senderByIpv4(value: number): KnownSender | null {
  for (let i = 0; i < ipv4Ranges.length; i++) {
    const range = ipv4Ranges[i]!;
    if (value >= range.start && value <= range.end) return range.sender;
  }
  return null;
}

/** Parses an IP, unwrapping IPv4-mapped IPv6, or null when it is not an IP. */
export function parseIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const octets = ipv4Octets(ip);
  if (octets) return new ipaddr.IPv4(octets);
  if (!ipaddr.isValid(ip)) return null;
  const parsed = ipaddr.parse(ip);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    return (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed;
}

/** Same address, whatever the spelling ("2001:db8::1" vs "2001:0db8:0:0::1"). */
export function sameIp(a: string, b: string): boolean {
  const left = parseIp(a);
  const right = parseIp(b);
  return Boolean(
    left && right && left.kind() === right.kind() && left.toNormalizedString() === right.toNormalizedString(),
  );
}

export function senderByRange(ip: string): KnownSender | null {
  const octets = ipv4Octets(ip);
  if (octets) return senderByIpv4(ipv4Number(octets));
  const parsed = parseIp(ip);
  if (!parsed) return null;
  for (const { sender, range } of allRanges()) {
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

const byDomain = new Map<string, KnownSender | null>();

let lastDomain = '';
let lastFound: KnownSender | null = null;

function senderByDomain(domain: string): KnownSender | null {
  // the same few domains (the own one above all) come with thousands of addresses in a row, each
  // a fresh string: comparing with the last one is cheaper than hashing it
  if (domain === lastDomain) return lastFound;
  let found = byDomain.get(domain);
  if (found === undefined) {
    const name = domain.toLowerCase().replace(/\.$/, '');
    // a service's domain or one under it; the registrable domain of the name is always one of its
    // label suffixes, so comparing with it would find nothing more (and would load the suffix list)
    found = knownSenders.find((sender) => sender.domains.some((known) => endsWithLabel(name, known))) ?? null;
    if (byDomain.size >= 10_000) byDomain.clear();
    byDomain.set(domain, found);
  }
  lastDomain = domain;
  lastFound = found;
  return found;
}

/** The first known sender among report domains (DKIM d=, SPF domains): a service's domain or one under it. */
export function senderByDomains(domains: readonly string[]): KnownSender | null {
  for (const domain of domains) {
    const found = senderByDomain(domain);
    if (found) return found;
  }
  return null;
}

export function senderById(id: string): KnownSender | null {
  return knownSenders.find((sender) => sender.id === id) ?? null;
}
