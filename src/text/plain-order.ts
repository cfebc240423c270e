// String#localeCompare's order for lowercase ASCII names (DKIM selectors), without ICU: the first
// collator of a process costs 15-20 ms, which a one-shot `ask ready` would pay to sort two names.
// Exact only under the root collation, which the default locale has when it is English or C/POSIX
// (ICU takes it from LC_ALL, LC_MESSAGES or LANG); in any other locale, and for any other
// character, localeCompare decides.

/** The root collation's order of the plain characters: punctuation, then digits, then letters. */
const ORDER = '_-.0123456789abcdefghijklmnopqrstuvwxyz';
const PLAIN = /^[0-9a-z._-]*$/;
const ROOT_LOCALE = /^(?:C|POSIX|en(?:_[A-Z]{2})?)?(?:\.[A-Za-z0-9-]+)?$/;

/** Whether the environment's locale settings all name English or C/POSIX (or none). */
export function rootCollationApplies(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['LC_ALL', 'LC_MESSAGES', 'LANG', 'LANGUAGE'].every((name) => ROOT_LOCALE.test(env[name] ?? ''));
}

function plainCompare(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let at = 0; at < length; at++) {
    const difference = ORDER.indexOf(a[at]!) - ORDER.indexOf(b[at]!);
    if (difference !== 0) return difference < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** `items` sorted in place by localeCompare of their `text`, as `sort((a, b) => text(a).localeCompare(text(b)))`. */
export function sortByLocaleText<T>(items: T[], text: (item: T) => string, env: NodeJS.ProcessEnv = process.env): T[] {
  if (items.length < 2) return items;
  const plain = rootCollationApplies(env) && items.every((item) => PLAIN.test(text(item)));
  return items.sort(plain ? (a, b) => plainCompare(text(a), text(b)) : (a, b) => text(a).localeCompare(text(b)));
}
