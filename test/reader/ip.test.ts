// The project's one IP parser: what the reader stores is exactly what the ip command accepts.

import { describe, expect, it } from 'vitest';
import { normaliseIp } from '../../src/command-kit/parse.ts';
import { createRng } from '../../src/generate/index.ts';
import { normalizeIp } from '../../src/net/ip.ts';

describe('normalizeIp', () => {
  it('keeps dotted quads and gives IPv6 its compressed lower-case form', () => {
    expect(normalizeIp('192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp(' 198.51.100.7 ')).toBe('198.51.100.7');
    expect(normalizeIp('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(normalizeIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(normalizeIp('::ffff:192.0.2.9')).toBe('192.0.2.9');
    expect(normalizeIp('::FFFF:C000:0209')).toBe('192.0.2.9');
  });

  it('refuses legacy and decorated forms instead of reading them as other addresses', () => {
    for (const text of [
      '010.000.000.001',
      '1.2.3',
      '1.2',
      '16909060',
      '0x7f.0.0.1',
      '256.1.1.1',
      '1.2.3.4:25',
      'fe80::1%eth0',
      '[2001:db8::1]',
      '::ffff:01.2.3.4',
      '',
      'example.com',
    ])
      expect(normalizeIp(text), text).toBeNull();
  });

  it('is what the ip command accepts, for generated addresses in many spellings', () => {
    const rng = createRng('ip-spellings');
    for (let round = 0; round < 200; round++) {
      const v4 = [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
      const spellings = [
        v4.join('.'),
        v4.map((octet) => String(octet).padStart(3, '0')).join('.'),
        `::ffff:${v4.join('.')}`,
        Array.from({ length: 8 }, () => rng.int(0, 0xffff).toString(16).padStart(rng.int(1, 4), '0')).join(':'),
      ];
      for (const text of spellings) expect(normaliseIp(text), text).toBe(normalizeIp(text));
    }
  });
});
