// Forms a person reads unambiguously, which real senders write: epochs and counts with an integral
// decimal fraction, and a failure report's Source-IP followed by a comment or a host name. Each
// form is checked over generated reports, against the same report written plainly.

import { describe, expect, it } from 'vitest';
import { aggregateXml, createRng, docIp, failureReportMail, randomAggregateReport } from '../../src/generate/index.ts';
import type { FailureReport } from '../../src/model.ts';
import { sourceIp } from '../../src/reader/failure.ts';
import { readReports } from '../../src/reader/index.ts';

const now = new Date('2026-06-15T00:00:00Z');
const read = (bytes: Uint8Array) => readReports(bytes, { source: 'form', now });

describe('numbers with an integral decimal fraction', () => {
  const fractions = ['.0', '.00', '.000', '.0000000'];

  it('reads epochs and counts like 1337270400.0 as the whole numbers they are', async () => {
    const rng = createRng('fractions');
    for (let round = 0; round < 8; round++) {
      const report = randomAggregateReport({
        seed: `fraction-${round}`,
        records: rng.int(1, 20),
        begin: '2026-05-01T00:00:00Z',
      });
      const plain = aggregateXml(report);
      const fraction = rng.pick(fractions);
      const written = plain
        .replace(/<(begin|end)>(\d+)</g, (_, tag: string, digits: string) => `<${tag}>${digits}${fraction}<`)
        .replace(/<count>(\d+)</g, (_, digits: string) => `<count>${digits}${rng.pick(fractions)}<`);
      expect(written).not.toBe(plain);
      expect(await read(Buffer.from(written))).toEqual(await read(Buffer.from(plain)));
    }
  });

  it('still refuses fractions that are not whole', async () => {
    const report = randomAggregateReport({ seed: 'not-whole', records: 2, begin: '2026-05-01T00:00:00Z' });
    const xml = aggregateXml(report).replace(/<begin>(\d+)</, (_, digits: string) => `<begin>${digits}.5<`);
    expect((await read(Buffer.from(xml))).errors.map((error) => error.code)).toEqual(['bad-xml']);
  });
});

describe('a Source-IP followed by a comment or host name', () => {
  const forms: Array<(ip: string, host: string) => string> = [
    (ip) => ip,
    (ip, host) => `${ip} (${host})`,
    (ip, host) => `${ip}(${host})`,
    (ip, host) => `${ip} ${host}`,
    (ip, host) => `[${ip}] (${host})`,
    (ip, host) => `${ip}  (may be forged: ${host})`,
    (ip, host) => `${ip}; ${host}`,
  ];

  it('reads the address of every form, IPv4 and IPv6, through the whole mail', async () => {
    const rng = createRng('source-ip');
    for (let round = 0; round < 6; round++) {
      const ip = docIp(rng, 0.5);
      const host = `mail${rng.int(1, 99)}.sender${rng.int(1, 9)}.example`;
      for (const form of forms) {
        const written = form(ip, host);
        const failure: FailureReport = {
          kind: 'failure',
          reportedDomain: 'example.com',
          sourceIp: written,
          arrivalDate: '2026-06-01T10:00:00.000Z',
          authFailure: ['dmarc'],
          deliveryResult: 'reject',
          originalMailFrom: null,
          originalRcptTo: null,
          headerFrom: 'example.com',
          subject: 's',
          messageId: `m${round}@example.com`,
        };
        const mail = failureReportMail(failure, {
          from: 'ruf@receiver.example',
          to: 'ruf@example.com',
          subject: 'Failure report',
          date: new Date('2026-06-01T11:00:00Z'),
          messageId: `ruf-${round}@receiver.example`,
        });
        const { reports, errors } = await read(mail);
        expect(errors).toEqual([]);
        expect(reports).toMatchObject([{ kind: 'failure', sourceIp: ip.toLowerCase() }]);
      }
    }
  });

  it('gives no address for text that does not start with one', () => {
    for (const value of ['mail.example.com (192.0.2.1)', 'unknown', '010.000.000.001 (x)', '192.0.2 (x)', '']) {
      expect(sourceIp(value)).toBeNull();
    }
  });
});
