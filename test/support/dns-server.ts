// A tiny authoritative DNS server on a loopback UDP port, so DNS tests never touch the internet.
// Hand-written wire format (RFC 1035) for the record types we need: PTR, A, AAAA, TXT, MX, CNAME.
// Unknown names get NXDOMAIN, a known name without the asked type an empty answer (NODATA);
// `silent` makes it drop queries, to exercise resolver timeouts.

import { createSocket, type Socket } from 'node:dgram';
import ipaddr from 'ipaddr.js';

const TYPE = { A: 1, CNAME: 5, PTR: 12, MX: 15, TXT: 16, AAAA: 28 } as const;
type RecordType = keyof typeof TYPE;

export interface DnsTestServer {
  /** "127.0.0.1:PORT", ready for Resolver#setServers / DNS_SERVERS */
  address: string;
  port: number;
  /** every question received, as "TYPE name" */
  queries: string[];
  /** adds PTR records for an IP */
  ptr(ip: string, ...names: string[]): void;
  /** adds A or AAAA records (chosen by the address family) for a name */
  addresses(name: string, ...ips: string[]): void;
  /** adds one TXT record per value (values longer than 255 bytes are split into strings) */
  txt(name: string, ...values: string[]): void;
  /** adds an MX record */
  mx(name: string, priority: number, exchange: string): void;
  /** adds a CNAME record */
  cname(name: string, target: string): void;
  /** answer time-to-live of every record, in seconds (default 60) */
  ttl: number;
  /** when true, queries are received but never answered */
  silent: boolean;
  close(): Promise<void>;
}

/** The reverse-lookup name of an IP: 5.113.0.203.in-addr.arpa, or nibbles under ip6.arpa. */
export function reverseName(ip: string): string {
  const parsed = ipaddr.parse(ip);
  if (parsed.kind() === 'ipv4') return `${parsed.toByteArray().reverse().join('.')}.in-addr.arpa`;
  const nibbles = parsed
    .toByteArray()
    .flatMap((byte) => [byte >> 4, byte & 15])
    .map((nibble) => nibble.toString(16));
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([
    ...parts.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])),
    Buffer.from([0]),
  ]);
}

function readQuestion(message: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let offset = 12;
  while (message[offset] !== 0) {
    const length = message[offset]!;
    labels.push(message.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += 1 + length;
  }
  offset += 1;
  return { name: labels.join('.').toLowerCase(), type: message.readUInt16BE(offset), end: offset + 4 };
}

function rdata(type: RecordType, value: string): Buffer {
  if (type === 'PTR' || type === 'CNAME') return encodeName(value);
  if (type === 'MX') {
    const [priority, exchange] = value.split(' ');
    const head = Buffer.alloc(2);
    head.writeUInt16BE(Number(priority), 0);
    return Buffer.concat([head, encodeName(exchange!)]);
  }
  if (type === 'TXT') {
    const bytes = Buffer.from(value, 'utf8');
    const strings: Buffer[] = [];
    for (let start = 0; start === 0 || start < bytes.length; start += 255) {
      const chunk = bytes.subarray(start, start + 255);
      strings.push(Buffer.from([chunk.length]), chunk);
    }
    return Buffer.concat(strings);
  }
  return Buffer.from(ipaddr.parse(value).toByteArray());
}

function answer(query: Buffer, records: Map<string, Map<RecordType, string[]>>, ttl: number): Buffer {
  const { name, type, end } = readQuestion(query);
  const typeName = (Object.keys(TYPE) as RecordType[]).find((key) => TYPE[key] === type);
  const known = records.get(name);
  const values = typeName ? (known?.get(typeName) ?? []) : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  // QR + opcode 0 + AA + RD (copied) + RA; rcode 3 (NXDOMAIN) when the name is unknown
  const rd = query.readUInt16BE(2) & 0x0100;
  header.writeUInt16BE(0x8480 | rd | (known ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(values.length, 6);
  const answers = values.map((value) => {
    const data = rdata(typeName!, value);
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // pointer to the question name
    fixed.writeUInt16BE(type, 2);
    fixed.writeUInt16BE(1, 4); // class IN
    fixed.writeUInt32BE(ttl, 6);
    fixed.writeUInt16BE(data.length, 10);
    return Buffer.concat([fixed, data]);
  });
  return Buffer.concat([header, query.subarray(12, end), ...answers]);
}

export async function startDnsServer(): Promise<DnsTestServer> {
  const records = new Map<string, Map<RecordType, string[]>>();
  const add = (name: string, type: RecordType, value: string) => {
    const key = name.toLowerCase().replace(/\.$/, '');
    const byType = records.get(key) ?? new Map<RecordType, string[]>();
    byType.set(type, [...(byType.get(type) ?? []), value]);
    records.set(key, byType);
  };
  const socket: Socket = createSocket('udp4');
  const server: DnsTestServer = {
    address: '',
    port: 0,
    queries: [],
    silent: false,
    ttl: 60,
    txt: (name, ...values) => values.forEach((value) => add(name, 'TXT', value)),
    mx: (name, priority, exchange) => add(name, 'MX', `${priority} ${exchange}`),
    cname: (name, target) => add(name, 'CNAME', target),
    ptr: (ip, ...names) => names.forEach((name) => add(reverseName(ip), 'PTR', name)),
    addresses: (name, ...ips) => ips.forEach((ip) => add(name, ipaddr.parse(ip).kind() === 'ipv4' ? 'A' : 'AAAA', ip)),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (message, remote) => {
    try {
      const { name, type } = readQuestion(message);
      const typeName = (Object.keys(TYPE) as RecordType[]).find((key) => TYPE[key] === type) ?? String(type);
      server.queries.push(`${typeName} ${name}`);
      if (server.silent) return;
      socket.send(answer(message, records, server.ttl), remote.port, remote.address);
    } catch {
      // a malformed query is dropped, as a real server would
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  server.port = socket.address().port;
  server.address = `127.0.0.1:${server.port}`;
  return server;
}
