// An unknown thrown value as one line of text for logs, replies and stderr. Anything can be thrown:
// an Error, a string, an object without a prototype (String() would throw on it), or a message
// carrying a server's multi-line answer, which must not break a log line or a chat reply apart.

const MAX_LENGTH = 1_000;

function raw(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}

/** The message of a thrown value on one line: whitespace runs (newlines too) become one space, cut at 1,000 characters. */
export function errorMessage(error: unknown): string {
  const line = raw(error).replace(/\s+/g, ' ').trim();
  return line.length > MAX_LENGTH ? `${line.slice(0, MAX_LENGTH - 1)}…` : line;
}
