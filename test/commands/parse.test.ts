import { describe, expect, it } from 'vitest';
import {
  parseCommandLine,
  parseDiscordOptions,
  usageLine,
  type ParseResult,
  type UsageError,
} from '../../src/command-kit/parse.ts';
import { commandRegistry } from '../../src/command-kit/registry.ts';

const now = new Date('2026-06-30T12:00:00Z');
const parse = (line: string, locale: 'en' | 'ja' = 'en') =>
  parseCommandLine(line, commandRegistry, { now, timeZone: 'UTC', locale });

function ok(result: ParseResult) {
  if ('error' in result) throw new Error(`unexpected usage error: ${result.error.message}`);
  return result;
}
function error(result: ParseResult): UsageError {
  if (!('error' in result))
    throw new Error(`expected a usage error, got ${result.command.name} ${JSON.stringify(result.args)}`);
  return result.error;
}

describe('parseCommandLine: accepted forms', () => {
  it('takes a leading /dmarc, positional arguments and name:value options', () => {
    const parsed = ok(parse('/dmarc ip 203.0.113.5 days:90'));
    expect(parsed.command.name).toBe('ip');
    expect(parsed.args).toEqual({ address: '203.0.113.5', days: 90 });
    expect(ok(parse('IP address:203.0.113.5')).args).toEqual({ address: '203.0.113.5' });
  });

  it('keeps IPv6 addresses (colons and all) positional and normalises them', () => {
    expect(ok(parse('ip 2001:DB8:0:0::25')).args.address).toBe('2001:db8::25');
    expect(ok(parse('ip ::ffff:192.0.2.1 days:7')).args).toEqual({ address: '192.0.2.1', days: 7 });
  });

  it('resolves today and yesterday as UTC days, and checks calendar dates', () => {
    expect(ok(parse('date today')).args.date).toBe('2026-06-30');
    // 08:00 in Tokyo on 1 July is still 30 June in UTC: yesterday is the UTC day 29 June.
    const tokyo = parseCommandLine('date yesterday', commandRegistry, {
      timeZone: 'Asia/Tokyo',
      now: new Date('2026-06-30T23:00:00Z'),
    });
    expect(ok(tokyo).args.date).toBe('2026-06-29');
    expect(ok(parse('date Yesterday')).args.date).toBe('2026-06-29');
    expect(ok(parse('date 2024-02-29')).args.date).toBe('2024-02-29');
  });

  it('accepts quoted values, typographic quotes included, for senders with spaces', () => {
    expect(ok(parse('mark "Amazon SES" spoof')).args).toEqual({ subject: 'Amazon SES', verdict: 'spoof' });
    expect(ok(parse('mark \u201cAS64500 Example Net\u201d mine')).args).toEqual({
      subject: 'AS64500 Example Net',
      verdict: 'mine',
    });
    expect(ok(parse("mark 'mail.isp.example' CLEAR")).args).toEqual({ subject: 'mail.isp.example', verdict: 'clear' });
    // unquoted: the extra words belong to the sender name
    expect(ok(parse('mark AS64500 Example Net spoof')).args).toEqual({
      subject: 'AS64500 Example Net',
      verdict: 'spoof',
    });
    expect(error(parse('mark Amazon SES')).message).toMatch(/"SES" is not one of mine, spoof, clear/);
  });

  it('takes optional positionals and lower-cases domains', () => {
    expect(ok(parse('ready')).args).toEqual({});
    expect(ok(parse('ready Example.COM. days:60')).args).toEqual({ domain: 'example.com', days: 60 });
    expect(ok(parse('summary 7')).args).toEqual({ days: 7 });
    expect(ok(parse('sources days:90')).args).toEqual({ days: 90 });
  });

  it('takes days as a bare number or days:N in every command that has it', () => {
    expect(ok(parse('ip 203.0.113.5 7')).args).toEqual({ address: '203.0.113.5', days: 7 });
    expect(ok(parse('ready 60')).args).toEqual({ days: 60 });
    expect(ok(parse('ready example.com 60')).args).toEqual({ domain: 'example.com', days: 60 });
    expect(ok(parse('failures example.com 7')).args).toEqual({ domain: 'example.com', days: 7 });
    expect(ok(parse('tls 14')).args).toEqual({ days: 14 });
    expect(ok(parse('tls days:14')).args).toEqual({ days: 14 });
  });

  it('answers /dmarc alone with help', () => {
    expect(ok(parse('')).command.name).toBe('help');
    expect(ok(parse('/dmarc')).command.name).toBe('help');
  });

  it('suggests the command a typo meant', () => {
    expect(error(parse('sorces')).message).toMatch(/^Did you mean \/dmarc sources\?/);
    expect(error(parse('redy example.com')).message).toMatch(/^Did you mean \/dmarc ready\?/);
    expect(error(parse('xyzzy')).message).not.toMatch(/Did you mean/);
  });
});

describe('parseCommandLine: usage errors say what was expected, with an example', () => {
  const cases: Array<[line: string, code: UsageError['code'], mustSay: RegExp]> = [
    [
      'ipp 203.0.113.5',
      'unknown-command',
      /Did you mean \/dmarc ip\? Unknown command "ipp".*ip, date, ready, mark, marks, summary, sources, dns, failures, tls, help/,
    ],
    ['ip', 'missing', /Missing address: expected an IPv4 or IPv6 address\. Example: \/dmarc ip 203\.0\.113\.5/],
    ['ip 999.1.1.1', 'invalid', /"999\.1\.1\.1" is not an IPv4 or IPv6 address \(for address\)\. Example: \/dmarc ip /],
    ['ip 12345', 'invalid', /"12345" is not an IPv4 or IPv6 address/],
    [
      'ip 203.0.113.5 days:0',
      'invalid',
      /"0" is not a whole number from 1 to 3,650 \(for days\)\. Example: \/dmarc ip 203\.0\.113\.5/,
    ],
    ['ip 203.0.113.5 weeks:3', 'unknown-option', /Unknown option "weeks" for ip; options: address, days\./],
    ['ip 203.0.113.5 days:7 days:8', 'duplicate', /days is given twice/],
    [
      'date',
      'missing',
      /Missing date: expected a date YYYY-MM-DD, today or yesterday\. Example: \/dmarc date 2026-05-14/,
    ],
    ['date 2026-02-30', 'invalid', /"2026-02-30" is not a date YYYY-MM-DD, today or yesterday/],
    ['date tomorrow', 'invalid', /"tomorrow" is not a date/],
    ['date 14/05/2026', 'invalid', /"14\/05\/2026" is not a date/],
    [
      'ready not_a_domain!',
      'invalid',
      /"not_a_domain!" is not a domain name like example\.com \(for domain\)\. Example: \/dmarc ready example\.com/,
    ],
    [
      'ready example.com days:abc',
      'invalid',
      /"abc" is not a whole number from 1 to 3,650 \(for days\)\. Example: \/dmarc ready example\.com/,
    ],
    ['mark', 'missing', /Missing subject: expected a value\. Example: \/dmarc mark 203\.0\.113\.5 mine/],
    ['mark 203.0.113.5', 'missing', /Missing verdict: expected one of mine, spoof, clear/],
    ['mark 203.0.113.5 maybe', 'invalid', /"maybe" is not one of mine, spoof, clear \(for verdict\)/],
    [
      'mark "Example Sender mine',
      'unterminated-quote',
      /A quote is not closed.*Example: \/dmarc mark "Example Sender" mine/,
    ],
    ['summary -3', 'invalid', /"-3" is not a whole number from 1 to 3,650 \(for days\)\. Example: \/dmarc summary/],
    ['summary 7 8', 'too-many', /Unexpected extra argument "8" for summary\. Example: \/dmarc summary/],
    ['sources many', 'invalid', /"many" is not a whole number/],
    [
      'help me',
      'invalid',
      /"me" is not one of ip, date, ready, mark, marks, summary, sources, dns, failures, tls, help \(for command\)/,
    ],
    ['help ip date', 'too-many', /Unexpected extra argument "date" for help/],
  ];
  for (const [line, code, mustSay] of cases) {
    it(`${JSON.stringify(line)} -> ${code}`, () => {
      const usage = error(parse(line));
      expect(usage.code).toBe(code);
      expect(usage.message).toMatch(mustSay);
      expect(usage.example.length).toBeGreaterThan(0);
      // the example it gives is itself a valid command line
      expect('error' in parse(usage.example)).toBe(false);
    });
  }

  it('words the errors in Japanese when asked', () => {
    expect(error(parse('ip 999.1.1.1', 'ja')).message).toBe(
      '「999.1.1.1」は IPv4 または IPv6 のアドレス ではありません（address）。例: /dmarc ip 203.0.113.5',
    );
  });
});

describe('every command definition', () => {
  it('has examples that parse, and a usage line', () => {
    for (const command of commandRegistry) {
      expect(command.examples.length).toBeGreaterThan(0);
      for (const example of command.examples) expect(ok(parse(example)).command.name).toBe(command.name);
      expect(usageLine(command).startsWith(command.name)).toBe(true);
    }
  });

  it("takes help's argument from the registry it parses with", () => {
    for (const command of commandRegistry) expect(ok(parse(`help ${command.name}`)).args.command).toBe(command.name);
    expect(error(parse('help nosuch')).expected).toBe(`one of ${commandRegistry.map((c) => c.name).join(', ')}`);
    const help = commandRegistry.find((command) => command.name === 'help')!;
    const small = [help, commandRegistry.find((command) => command.name === 'ip')!];
    expect(ok(parseCommandLine('help ip', small)).args.command).toBe('ip');
    expect(error(parseCommandLine('help ready', small))).toMatchObject({
      code: 'invalid',
      expected: 'one of help, ip',
    });
  });
});

describe('parseDiscordOptions', () => {
  it('validates typed options like text', () => {
    expect(
      ok(
        parseDiscordOptions(
          'ip',
          [
            { name: 'address', value: '2001:DB8::1' },
            { name: 'days', value: 90 },
          ],
          commandRegistry,
        ),
      ).args,
    ).toEqual({ address: '2001:db8::1', days: 90 });
    expect(error(parseDiscordOptions('ip', [{ name: 'days', value: 90 }], commandRegistry)).code).toBe('missing');
    expect(error(parseDiscordOptions('ip', [{ name: 'address', value: 'x' }], commandRegistry)).message).toMatch(
      /"x" is not an IPv4 or IPv6 address/,
    );
    expect(error(parseDiscordOptions('nope', [], commandRegistry)).code).toBe('unknown-command');
  });
});
