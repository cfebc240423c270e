// The DNS lookups sender identification depends on, as plain function types (adapters: node:dns in
// production, a loopback DNS server in tests).

/** Resolves the PTR names of an IP. */
export type PtrLookup = (ip: string) => Promise<string[]>;
/** Resolves the A/AAAA addresses of a name, for forward confirmation. */
export type AddressLookup = (name: string) => Promise<string[]>;
