// The Slack app manifest asks for what the code calls, and no more.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const manifest = readFileSync(new URL('../../slack-app-manifest.yml', import.meta.url), 'utf8');
const botScopes = [
  ...manifest
    .split('bot:')[1]!
    .split('settings:')[0]!
    .matchAll(/^\s+- ([\w:.]+)/gm),
].map((m) => m[1]);

describe('Slack app manifest', () => {
  it('has the scopes the code calls: commands, chat:write, channels:read (doctor), files:write and im:write (charts)', () => {
    expect(botScopes.sort()).toEqual(['channels:read', 'chat:write', 'commands', 'files:write', 'im:write']);
  });
  it('enables interactivity for the buttons', () => {
    expect(manifest).toMatch(/interactivity:\n\s+is_enabled: true/);
  });
});
