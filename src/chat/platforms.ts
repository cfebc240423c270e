// The chat platforms `start` runs, in order. A new platform is a folder with a platform.ts and one
// line here. The terminal comes last: it is the chat when no other platform is configured.

import type { ChatPlatform } from './platform.ts';
import { discordPlatform } from './discord/platform.ts';
import { slackPlatform } from './slack/platform.ts';
import { terminalPlatform } from './terminal/platform.ts';

export const chatPlatforms: readonly ChatPlatform[] = [slackPlatform, discordPlatform, terminalPlatform];
