import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer } from '../../src/command-kit/dispatch.ts';
import { createTranslator } from '../../src/i18n/index.ts';
import { en } from '../../src/i18n/en.ts';
import { ja } from '../../src/i18n/ja.ts';
import { HINT_CODES } from '../../src/insight/index.ts';
import type { Readiness } from '../../src/insight/types.ts';
import { renderTerminal } from '../../src/render/terminal.ts';
import { testContext } from '../commands/context.ts';
import { FORGOTTEN, NOW, scenarioReports, storeWith, type TestStore } from '../commands/scenario.ts';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)(?:\|[^}]*)?\}/g)].map((match) => match[1]).sort();

describe('the catalog', () => {
  it('has every English message in Japanese, with the same placeholders', () => {
    expect(Object.keys(ja).sort()).toEqual(Object.keys(en).sort());
    for (const key of Object.keys(en) as Array<keyof typeof en>) {
      expect({ key, params: placeholders(ja[key]) }).toEqual({ key, params: placeholders(en[key]) });
    }
  });

  it('words every hint code of the insight layer, using each of its parameters or none it lacks', () => {
    for (const { code, params } of HINT_CODES) {
      const key = `hint.${code}` as keyof typeof en;
      expect(en[key], code).toBeDefined();
      for (const name of placeholders(en[key]))
        expect(params as readonly string[], `${code} uses {${name}}`).toContain(name);
    }
  });

  it("keeps command and option descriptions within Discord's 100 characters, in both languages", () => {
    for (const catalog of [en, ja] as Array<Record<string, string>>) {
      for (const [key, text] of Object.entries(catalog)) {
        if (key.startsWith('command.') || key.startsWith('option.')) expect(text.length, key).toBeLessThanOrEqual(100);
      }
    }
  });

  it('formats numbers, shares and times for the locale and the time zone', () => {
    const english = createTranslator('en', 'UTC');
    const japanese = createTranslator('ja', 'Asia/Tokyo');
    expect(english.number(1234567)).toBe('1,234,567');
    expect(english.percent(0.955)).toBe('95.5%');
    expect(japanese.number(1234567)).toBe('1,234,567');
    // 2026-06-30 20:00 UTC is 05:00 on 1 July in Tokyo
    expect(japanese.dateTime('2026-06-30T20:00:00Z')).toMatch(/2026年7月1日.*05:00/);
    expect(english.dateTime('2026-06-30T20:00:00Z')).toMatch(/Jun 30, 2026.*08:00\sPM/);
    expect(japanese.day('2026-06-30')).toBe('2026年6月30日');
  });

  it('fills fix-blocker with the short fix of the blocker hint', () => {
    const t = createTranslator('en');
    expect(
      t.hint({
        code: 'fix-blocker',
        params: { domain: 'example.com', sender: 'Mailgun', failing: 1200, fix: 'dkim-unaligned', blockers: 1 },
      }),
    ).toBe('Fix Mailgun first (1,200 failing messages): sign with DKIM for your own domain');
    expect(t.hint({ code: 'not-a-code', params: {} })).toBe('Hint not-a-code');
  });
});

describe('Japanese replies', () => {
  let fixture: TestStore;
  beforeAll(async () => {
    fixture = await storeWith(scenarioReports());
  });
  afterAll(() => fixture.close());

  it('answers ready in Japanese, hints included, with the same data', async () => {
    const reply = await answer('ready example.com', testContext(fixture.store, { now: NOW, locale: 'ja' }));
    expect(reply.title).toBe('example.com: p=quarantine へ移行できません');
    const text = renderTerminal(reply);
    expect(text).toContain(`${FORGOTTEN}（未確認の定常的な送信者）`);
    expect(text).toContain('SPF は bounce.esp.example で成功していますが example.com とアライメントしていません');
    expect(text).toContain('次の一手');
    expect((reply.data as Readiness).verdict).toBe('not-ready');
  });

  it('answers usage errors and ip in Japanese', async () => {
    const context = testContext(fixture.store, { now: NOW, locale: 'ja' });
    const usage = await answer('date 2026-13-01', context);
    expect(usage.error).toBe(true);
    expect(renderTerminal(usage)).toContain(
      '「2026-13-01」は YYYY-MM-DD 形式の日付、today または yesterday ではありません',
    );
    const ip = await answer(`ip ${FORGOTTEN}`, context);
    expect(ip.title).toBe(`${FORGOTTEN}: 580 通、DMARC 成功率 0%（30 日間）`);
  });
});
