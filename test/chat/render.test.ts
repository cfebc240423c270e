import { describe, expect, it } from 'vitest';
import type { Reply } from '../../src/reply/model.ts';
import { renderSlack, slackLimits } from '../../src/render/slack.ts';
import { embedChars, renderDiscord } from '../../src/render/discord.ts';

/** A reply the size of a busy domain's month: 500 sources as a list, a table, and fields. */
function replyWith500Sources(): Reply {
  const ips = Array.from(
    { length: 500 },
    (_, i) => `198.51.${Math.floor(i / 250)}.${i % 250} mail-${i}.sender_${i}.example <fails> & co`,
  );
  return {
    title: 'Sources for example.com over 30 days ' + 'x'.repeat(300),
    tone: 'warning',
    blocks: [
      { type: 'header', text: 'Top sources ' + 'h'.repeat(400) },
      { type: 'text', text: 'p'.repeat(5000) },
      {
        type: 'fields',
        fields: Array.from({ length: 30 }, (_, i) => ({
          label: `label ${i} ` + 'l'.repeat(300),
          value: 'v'.repeat(2500),
        })),
      },
      { type: 'list', title: 'Failing sources', items: ips, tone: 'bad' },
      {
        type: 'table',
        title: 'Per source',
        columns: ['IP', 'messages', 'pass'],
        rows: ips.map((ip, i) => [ip, String(i * 3), '0%']),
      },
      ...Array.from({ length: 80 }, (_, i) => ({
        type: 'list' as const,
        title: `group ${i}`,
        items: ips.slice(0, 40),
      })),
      { type: 'context', text: 'Times in UTC' },
    ],
  };
}

function slackBlockText(block: Record<string, any>): number {
  let total = 0;
  if (block.text?.text) total += block.text.text.length;
  for (const field of block.fields ?? []) total += field.text.length;
  for (const element of block.elements ?? []) total += element.text?.length ?? 0;
  return total;
}

describe('renderSlack', () => {
  it('keeps a 500-source reply inside every Block Kit limit and says what it cut', () => {
    const message = renderSlack(replyWith500Sources());
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    const total = message.blocks.reduce((sum, block) => sum + slackBlockText(block), 0);
    expect(total).toBeLessThan(12_000);
    for (const block of message.blocks as Array<Record<string, any>>) {
      if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(150);
      if (block.type === 'section' && block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
      if (block.fields) {
        expect(block.fields.length).toBeLessThanOrEqual(10);
        for (const field of block.fields) expect(field.text.length).toBeLessThanOrEqual(2000);
      }
    }
    const allText = JSON.stringify(message.blocks);
    expect(allText).toMatch(/and \d+ more/);
    expect(message.text.length).toBeGreaterThan(0);
    expect(message.text.length).toBeLessThanOrEqual(slackLimits.fallbackChars);
  });

  it('escapes &, < and > so report values cannot form links or mentions', () => {
    const message = renderSlack({
      title: 'a <!channel> & b',
      tone: 'info',
      blocks: [{ type: 'text', text: '<@U123> x>y' }],
    });
    const json = JSON.stringify(message);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<@U123>');
    expect(json).toContain('&lt;!channel&gt; &amp; b');
    expect(message.text).toContain('&lt;@U123&gt; x&gt;y');
  });

  it('shows a short list whole, without a cut note', () => {
    const message = renderSlack({ title: 't', tone: 'info', blocks: [{ type: 'list', items: ['one', 'two'] }] });
    const json = JSON.stringify(message.blocks);
    expect(json).toContain('• one\\n• two');
    expect(json).not.toContain('more');
  });
});

describe('empty parts', () => {
  const sparse: Reply = {
    title: '',
    tone: 'info',
    blocks: [
      { type: 'header', text: ' ' },
      { type: 'text', text: '' },
      { type: 'fields', fields: [] },
      { type: 'list', items: [] },
      { type: 'list', title: 'Failing sources', items: [] },
    ],
  };

  it('never gives Slack an empty text object or an empty fields list (it refuses them)', () => {
    const message = renderSlack(sparse);
    expect(message.text.length).toBeGreaterThan(0);
    for (const block of message.blocks as Array<Record<string, any>>) {
      if (block.text) expect(block.text.text.trim()).not.toBe('');
      if (block.fields) expect(block.fields.length).toBeGreaterThan(0);
    }
    expect(JSON.stringify(message.blocks)).toContain('Failing sources');
  });

  it('never gives Discord an empty embed', () => {
    const message = renderDiscord(sparse);
    for (const embed of message.embeds) expect(((embed.title ?? '') + (embed.description ?? '')).trim()).not.toBe('');
  });
});

describe('renderDiscord', () => {
  it('keeps a 500-source reply inside every embed limit', () => {
    const message = renderDiscord(replyWith500Sources());
    expect(message.embeds.length).toBeGreaterThan(0);
    expect(message.embeds.length).toBeLessThanOrEqual(10);
    const total = message.embeds.reduce((sum, embed) => sum + embedChars(embed), 0);
    expect(total).toBeLessThanOrEqual(6000);
    for (const embed of message.embeds) {
      expect(embed.title?.length ?? 0).toBeLessThanOrEqual(256);
      expect(embed.description?.length ?? 0).toBeLessThanOrEqual(4096);
      expect(embed.fields?.length ?? 0).toBeLessThanOrEqual(25);
      for (const field of embed.fields ?? []) {
        expect(field.name.length).toBeLessThanOrEqual(256);
        expect(field.value.length).toBeLessThanOrEqual(1024);
      }
    }
    expect(message.embeds.at(-1)!.footer?.text).toMatch(/Shortened/);
  });

  it('escapes markdown in values and starts a new embed at each header', () => {
    const message = renderDiscord({
      title: 'Digest',
      tone: 'good',
      blocks: [
        { type: 'text', text: 'mail_from *bold*' },
        { type: 'header', text: 'Second' },
        { type: 'list', items: ['a_b'] },
      ],
    });
    expect(message.embeds).toHaveLength(2);
    expect(message.embeds[0]!.description).toBe('mail\\_from \\*bold\\*');
    expect(message.embeds[1]!.title).toBe('Second');
    expect(message.embeds[1]!.description).toBe('• a\\_b');
    expect(message.embeds[0]!.footer).toBeUndefined();
  });

  it('shows masked links, mentions and markdown in titles from report data as text', () => {
    const message = renderDiscord({
      title: 'Alert for [bank.example](https://phish.example) *now*',
      tone: 'bad',
      blocks: [
        { type: 'text', text: 'From <@123456> and <#987> @everyone [click](https://phish.example)' },
        { type: 'header', text: 'Sources of <@&55> [x](y)' },
        { type: 'fields', fields: [{ label: 'Org [a](b)', value: '@here' }] },
      ],
    });
    expect(message.embeds[0]!.title).toBe('Alert for \\[bank.example\\](https://phish.example) \\*now\\*');
    const description = message.embeds[0]!.description!;
    expect(description).not.toMatch(/(^|[^\\])<@123456>/);
    expect(description).toContain('\\<@123456>');
    expect(description).toContain('\\<#987>');
    expect(description).not.toMatch(/@everyone/);
    expect(description).toContain('\\[click\\](https://phish.example)');
    expect(message.embeds[1]!.title).toBe('Sources of \\<@&55> \\[x\\](y)');
    expect(message.embeds[1]!.fields![0]).toMatchObject({ name: 'Org \\[a\\](b)', value: '@\u200bhere' });
  });
});

describe('Slack mrkdwn carrying report data', () => {
  it('is sent verbatim, so Slack does not link or mention from it', () => {
    const message = renderSlack({
      title: 'x',
      tone: 'info',
      blocks: [
        { type: 'text', text: '#general https://example.com' },
        { type: 'fields', fields: [{ label: 'a', value: 'b' }] },
        { type: 'context', text: 'c' },
      ],
    });
    const mrkdwn = JSON.stringify(message.blocks).match(/"type":"mrkdwn"[^}]*}/g)!;
    expect(mrkdwn.length).toBeGreaterThanOrEqual(3);
    for (const object of mrkdwn) expect(object).toContain('"verbatim":true');
  });
});
