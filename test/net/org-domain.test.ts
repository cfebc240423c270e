// Organisational domains kept between processes (src/net/org-domain.ts): the file's answers are
// tldts' own, an answer of another tldts (version) or a corrupt file is not used.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type * as TldtsModule from 'tldts';
import { OrgDomainFile } from '../../src/net/org-domain.ts';

const tldts = createRequire(import.meta.url)('tldts') as typeof TldtsModule;
const names = [
  'mail.example.co.uk',
  'a.b.github.io',
  'example.com',
  'localhost',
  'bounce.esp.example',
  'x.s3.amazonaws.com',
];

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'org-domain-'));
  file = join(dir, 'org-domains.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const expected = (name: string, privateDomains: boolean) =>
  privateDomains ? tldts.getDomain(name, { allowPrivateDomains: true }) : tldts.getDomain(name);

it('answers as tldts, written and read again, with and without private suffixes', () => {
  const first = new OrgDomainFile(file, () => 'v1');
  for (const name of names) for (const both of [false, true]) expect(first.get(name, both)).toBe(expected(name, both));
  first.save();
  const kept = JSON.parse(readFileSync(file, 'utf8')) as { domains: unknown[] };
  expect(kept.domains).toHaveLength(names.length * 2);
  const again = new OrgDomainFile(file, () => 'v1');
  for (const name of names) for (const both of [false, true]) expect(again.get(name, both)).toBe(expected(name, both));
  // the private suffix list makes a difference here, and both are kept apart
  expect(again.get('a.b.github.io', true)).not.toBe(again.get('a.b.github.io', false));
});

it('uses kept answers only for the tldts they were made with', () => {
  writeFileSync(file, JSON.stringify({ version: 'v1', domains: [['0mail.example.co.uk', 'kept.example']] }));
  expect(new OrgDomainFile(file, () => 'v1').get('mail.example.co.uk', false)).toBe('kept.example');
  expect(new OrgDomainFile(file, () => 'v1').get('mail.example.co.uk', true)).toBe('example.co.uk');
  expect(new OrgDomainFile(file, () => 'v2').get('mail.example.co.uk', false)).toBe('example.co.uk');
});

it('ignores a corrupt file and writes it again', () => {
  writeFileSync(file, '{"version":"v1","domains":[["0mail.exa');
  const memo = new OrgDomainFile(file, () => 'v1');
  expect(memo.get('mail.example.co.uk', false)).toBe('example.co.uk');
  memo.save();
  writeFileSync(
    file,
    JSON.stringify({ version: 'v1', domains: [['0x.example', 42], 'wrong', ['mail.example.co.uk', 'no option']] }),
  );
  const read = new OrgDomainFile(file, () => 'v1');
  expect(read.get('x.example', false)).toBe('x.example');
  expect(read.get('mail.example.co.uk', false)).toBe('example.co.uk');
});
