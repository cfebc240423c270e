// Maps keyed by data (IPs, domains, header From values, marks) as plain JSON objects. Data keys
// such as "__proto__" or "constructor" must stay data: a normal object inherits them, and writing
// `obj["__proto__"] = x` changes its prototype. These objects have no prototype, and reads of
// objects that came from JSON (which do have one) go through own-property checks.

export type Dict<T> = Record<string, T>;

/** An empty object without a prototype, for data keys. */
export function dict<T>(): Dict<T> {
  return Object.create(null) as Dict<T>;
}

/** The own value under `key`, never an inherited one (`constructor`, `toString`, `__proto__`). */
export function own<T>(map: Readonly<Record<string, T>> | null | undefined, key: string): T | undefined {
  return map != null && Object.hasOwn(map, key) ? map[key] : undefined;
}

/**
 * A prototype-free copy of a stored map (JSON.parse gives normal objects; a "__proto__" key is an
 * own property there, and stays one here).
 */
export function toDict<T>(map: Readonly<Record<string, T>> | null | undefined): Dict<T> {
  const copy = dict<T>();
  if (map == null || typeof map !== 'object') return copy;
  for (const key of Object.keys(map)) copy[key] = map[key] as T;
  return copy;
}

/** Adds `by` to the count under `key`. */
export function bump(counts: Dict<number>, key: string, by: number): void {
  counts[key] = (own(counts, key) ?? 0) + by;
}
