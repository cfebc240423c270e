// UTF-16 and UTF-32 reports: recognised by their byte order mark and decoded to text before content
// detection, which reads the first characters as ASCII.

/** The text of a UTF-16 or UTF-32 input with a BOM (without the BOM); null for any other input. */
export function decodeUnicodeBom(bytes: Uint8Array): string | null {
  const [a, b, c, d] = [bytes[0], bytes[1], bytes[2], bytes[3]];
  if (a === 0xff && b === 0xfe && c === 0 && d === 0) return decodeUtf32(bytes.subarray(4), true);
  if (a === 0 && b === 0 && c === 0xfe && d === 0xff) return decodeUtf32(bytes.subarray(4), false);
  if (a === 0xff && b === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (a === 0xfe && b === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  return null;
}

// TextDecoder has no UTF-32; code points are few enough to convert in slices.
function decodeUtf32(bytes: Uint8Array, littleEndian: boolean): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength - (bytes.byteLength % 4));
  const pieces: string[] = [];
  const slice: number[] = [];
  for (let offset = 0; offset < view.byteLength; offset += 4) {
    const point = view.getUint32(offset, littleEndian);
    slice.push(point <= 0x10ffff && (point < 0xd800 || point > 0xdfff) ? point : 0xfffd);
    if (slice.length === 8192) {
      pieces.push(String.fromCodePoint(...slice));
      slice.length = 0;
    }
  }
  pieces.push(String.fromCodePoint(...slice));
  return pieces.join('');
}
