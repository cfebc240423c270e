// Slack: answers `/dmarc` when SLACK_BOT_TOKEN is set; Socket Mode with SLACK_APP_TOKEN, else HTTP
// mode verified with SLACK_SIGNING_SECRET. Bolt is loaded only when Slack is configured.

import { ConfigError } from '../../config.ts';
import type { ChatPlatform } from '../platform.ts';

export const slackPlatform: ChatPlatform = {
  name: 'slack',
  enabled: (config) => Boolean(config.SLACK_BOT_TOKEN),
  validate(config) {
    if (config.SLACK_BOT_TOKEN && !config.SLACK_APP_TOKEN && !config.SLACK_SIGNING_SECRET) {
      throw new ConfigError(
        'SLACK_SIGNING_SECRET',
        'needed for Slack in HTTP mode; or set SLACK_APP_TOKEN for Socket Mode',
      );
    }
  },
  async create({ config, answer, access, log }) {
    const { createSlackBot } = await import('./app.ts');
    const slack = createSlackBot({
      botToken: config.SLACK_BOT_TOKEN!,
      ...(config.SLACK_APP_TOKEN ? { appToken: config.SLACK_APP_TOKEN } : {}),
      ...(config.SLACK_SIGNING_SECRET ? { signingSecret: config.SLACK_SIGNING_SECRET } : {}),
      ...(config.SLACK_API_URL ? { apiUrl: config.SLACK_API_URL } : {}),
      ...(config.SLACK_DIGEST_CHANNEL ? { digestChannel: config.SLACK_DIGEST_CHANNEL } : {}),
      port: config.PORT,
      answer,
      access,
      log,
    });
    if (!slack.destination)
      log.warn('SLACK_DIGEST_CHANNEL is not set: Slack answers /dmarc but gets no digest or alerts');
    return {
      destinations: slack.destination ? [slack.destination] : [],
      async start() {
        const { port } = await slack.start();
        return { mode: slack.mode, ...(port ? { port } : {}) };
      },
      stop: () => slack.stop(),
    };
  },
};
