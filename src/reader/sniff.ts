// Container detection by content (magic bytes and first characters), never by file name or MIME type:
// senders label gzip as octet-stream, zip as .gz, and so on.

export type ContentKind = 'empty' | 'gzip' | 'zip' | 'xml' | 'json' | 'mail' | 'unknown';

const headerLine = /^[!-9;-~]+:/; // RFC 5322 field name: printable ASCII except ':'

export function sniff(bytes: Uint8Array): ContentKind {
  if (bytes.length === 0) return 'empty';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  // local file header, or the end-of-central-directory record of an empty zip
  if (
    bytes[0] === 0x50 &&
    bytes[1] === 0x4b &&
    ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6))
  )
    return 'zip';

  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < bytes.length && isSpace(bytes[i]!)) i++;
  if (i === bytes.length) return 'empty';
  const first = bytes[i];
  if (first === 0x3c /* < */) return 'xml';
  if (first === 0x7b /* { */ || first === 0x5b /* [ */) return 'json';

  const line = firstLine(bytes, i);
  if (line.startsWith('From ') || headerLine.test(line)) return 'mail';
  return 'unknown';
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

function firstLine(bytes: Uint8Array, start: number): string {
  let end = start;
  const limit = Math.min(bytes.length, start + 1000);
  while (end < limit && bytes[end] !== 0x0a && bytes[end] !== 0x0d) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}
