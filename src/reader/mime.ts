// Bounds on a mail's MIME structure, checked with one pass over its lines before mailparser sees
// it: mailparser has no limits of its own, and a mail of 10,000 parts or 500 nested multiparts
// costs it far more than any report mail needs.

import { ReportReadError } from './errors.ts';

export interface MimeLimits {
  /** most body parts in the whole mail, nested ones included */
  maxParts: number;
  /** deepest nesting of multiparts and attached messages */
  maxDepth: number;
  /** largest header block of the mail or of one part, bytes */
  maxHeaderBytes: number;
}

export const defaultMimeLimits: MimeLimits = { maxParts: 100, maxDepth: 8, maxHeaderBytes: 64 * 1024 };

// never matches a delimiter line: stands for an attached message on the nesting stack
const MESSAGE = '\0message';

/** Throws a ReportReadError naming the first bound the mail exceeds. */
export function checkMimeBounds(raw: Buffer, source: string, limits: MimeLimits): void {
  const text = raw.toString('latin1');
  const stack: string[] = [];
  let parts = 0;
  let inHeader = true;
  let header = '';
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    const line = text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    start = end + 1;
    // a delimiter ends a part even inside a header block (a header-only attached message)
    const level = stack.length > 0 && line.startsWith('--') ? delimiterLevel(stack, line) : -1;
    if (level >= 0) {
      const closing = line.slice(stack[level]!.length).trimEnd() === '--';
      stack.length = closing ? level : level + 1;
      header = '';
      inHeader = !closing;
      if (closing) continue;
      parts++;
      if (parts > limits.maxParts)
        throw new ReportReadError('too-many-parts', source, `mail has more than ${limits.maxParts} MIME parts`);
      continue;
    }
    if (!inHeader) continue;
    if (line !== '') {
      header += line + '\n';
      if (header.length > limits.maxHeaderBytes)
        throw new ReportReadError(
          'header-too-large',
          source,
          `a header block is larger than the limit of ${limits.maxHeaderBytes} bytes`,
        );
      continue;
    }
    inHeader = false;
    const type = contentType(header);
    header = '';
    if (type.boundary && type.type.startsWith('multipart/')) stack.push(`--${type.boundary}`);
    else if (type.type === 'message/rfc822' || type.type === 'message/global') {
      stack.push(MESSAGE);
      inHeader = true;
    }
    if (stack.length > limits.maxDepth)
      throw new ReportReadError('too-deep', source, `MIME parts nested more than ${limits.maxDepth} deep`);
  }
}

function delimiterLevel(stack: readonly string[], line: string): number {
  for (let level = stack.length - 1; level >= 0; level--) {
    const delimiter = stack[level]!;
    if (delimiter !== MESSAGE && line.startsWith(delimiter)) {
      const rest = line.slice(delimiter.length).trimEnd();
      if (rest === '' || rest === '--') return level;
    }
  }
  return -1;
}

function contentType(header: string): { type: string; boundary: string | null } {
  // unfold, then take the Content-Type field
  const field = /^content-type:[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)/im.exec(header)?.[1]?.replace(/\n[ \t]/g, ' ') ?? '';
  const type = /^[\w.+-]+\/[\w.+-]+/.exec(field.trim())?.[0]?.toLowerCase() ?? 'text/plain';
  const boundary = /boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(field);
  return { type, boundary: boundary ? (boundary[1] ?? boundary[2]!) : null };
}
