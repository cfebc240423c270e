// The Discord edge: a gateway Client (no public URL needed) answering `/dmarc` interactions with
// a deferred reply inside Discord's 3 seconds, then the answer as embeds. REST goes to
// DISCORD_API_URL when set. Digests and alerts go to a channel through the bot and/or a webhook.

import {
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  REST,
  Routes,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
} from 'discord.js';
import { parseChoiceId, choiceLine, decisionText } from '../choices.ts';
import { discordFits, type DiscordActionRow } from '../../render/discord.ts';
import { splitReply } from '../../reply/split.ts';
import { randomBytes } from 'node:crypto';
import { settledWithin } from '../../time/settled-within.ts';
import type { CommandDef } from '../../command-kit/types.ts';
import type { Reply } from '../../reply/model.ts';
import type { Logger } from '../../log.ts';
import { isAllowed, refusalReply, type AccessRules } from '../access.ts';
import { safeAnswer, type AnswerFn } from '../answer.ts';
import { PostError, redactSecrets, withRetry, type Destination, type RetryOptions } from '../post.ts';
import { renderDiscord } from '../../render/discord.ts';
import { buildCommandPayload, interactionToCommand } from './payload.ts';
import { postWebhook } from './webhook.ts';
import { errorMessage } from '../../text/error-message.ts';
import { messagePayload, restFiles } from './files.ts';

export interface DiscordBotOptions {
  token?: string;
  /** DISCORD_GUILD_ID: interactions from other servers are refused */
  guildId?: string;
  apiUrl?: string;
  digestChannelId?: string;
  webhookUrl?: string;
  registry: readonly CommandDef[];
  answer: AnswerFn;
  access: AccessRules;
  log?: Logger;
  retry?: RetryOptions;
  /** the gateway closed for good (bad token, disallowed intents): the process should end naming this */
  onFatal?: (cause: string) => void;
  /** how long stop() waits for a session that is still opening (default 15 s, the gateway's READY wait) */
  openingWaitMs?: number;
}

/** Close codes after which Discord will not take the connection back: reconnecting cannot help. */
export const FATAL_CLOSE_CODES: Readonly<Record<number, string>> = {
  4004: 'authentication failed: DISCORD_TOKEN is wrong or was reset',
  4010: 'invalid shard',
  4011: 'sharding required: the bot is in too many guilds for one connection',
  4012: 'invalid gateway API version',
  4013: 'invalid intents',
  4014: 'disallowed intents: enable them for the bot in the Discord developer portal',
};

export interface DiscordBot {
  /** the client of the current (or next) gateway session; null when only a webhook is configured */
  readonly client: Client | null;
  destinations: Destination[];
  /** handles one interaction (the listener calls this; tests may too) */
  handleInteraction(interaction: Interaction): Promise<void>;
  /** asks Discord's REST API whether it takes the token, without opening a gateway session */
  verifyToken(): Promise<void>;
  /**
   * opens a gateway session (again after stop(), with a fresh client): true once it is open, false
   * when stop() came first
   */
  start(): Promise<boolean>;
  /** ends the gateway session */
  stop(): Promise<void>;
}

export interface InteractionDeps {
  guildId?: string;
  registry: readonly CommandDef[];
  answer: AnswerFn;
  access: AccessRules;
  log?: Logger;
  retry?: RetryOptions;
}

/**
 * Where an interaction may come from: the configured server (any server when none is set), or a
 * DM from someone in ALLOWED_USERS. A bot that is found and added elsewhere answers nobody there.
 */
export function fromAllowedPlace(
  interaction: { guildId: string | null; user: { id: string } },
  deps: Pick<InteractionDeps, 'guildId' | 'access'>,
): boolean {
  if (interaction.guildId) return !deps.guildId || interaction.guildId === deps.guildId;
  return deps.access.allowedUsers.includes(interaction.user.id);
}

export function elsewhereReply(): Reply {
  const text = 'This bot answers only in its own Discord server (and in DMs to the people allowed to ask).';
  return { title: text, tone: 'warning', blocks: [{ type: 'text', text }], error: true };
}

/** `/dmarc <sub> ...`: defer at once (ephemeral unless `public`), answer, edit the deferred reply. */
export async function handleDmarcInteraction(
  interaction: ChatInputCommandInteraction,
  deps: InteractionDeps,
): Promise<void> {
  const subcommand = interaction.options.getSubcommand(false) ?? 'help';
  const options = (interaction.options.data[0]?.options ?? []).map((o) => ({
    name: o.name,
    ...(o.value !== undefined ? { value: o.value } : {}),
  }));
  const { command, shared } = interactionToCommand(deps.registry, subcommand, options);
  const requester = {
    platform: 'discord' as const,
    userId: interaction.user.id,
    userName: interaction.user.username,
    ...(interaction.channelId ? { channelId: interaction.channelId } : {}),
  };
  const place = fromAllowedPlace(interaction, deps);
  const allowed = place && isAllowed(requester, deps.access);
  await interaction.deferReply(shared && allowed ? {} : { flags: MessageFlags.Ephemeral });
  const reply = allowed ? await safeAnswer(deps.answer, command, requester) : place ? refusalReply() : elsewhereReply();
  if (!allowed)
    deps.log?.info(
      { user: requester.userId, channel: requester.channelId, guild: interaction.guildId },
      place ? 'discord request refused by allow-list' : 'discord request refused: another server or a DM',
    );
  const message = renderDiscord(reply);
  await withRetry(
    () =>
      interaction.editReply({
        content: message.content ?? null,
        embeds: message.embeds,
        files: (message.files ?? []).map((file) => ({ attachment: file.data, name: file.name })),
        allowedMentions: { parse: [] },
      }),
    deps.retry,
  );
}

/** The message's rows with the subject's row replaced by one disabled button naming the decision. */
export function decidedRows(
  rows: ReadonlyArray<DiscordActionRow>,
  subject: string,
  verdict: 'mine' | 'spoof',
  who: string,
): DiscordActionRow[] {
  return rows.map((row) => {
    if (!row.components.some((button) => parseChoiceId(button.custom_id)?.subject === subject)) return row;
    return {
      type: 1,
      components: [
        {
          type: 2,
          style: verdict === 'mine' ? 3 : 4,
          label: decisionText(subject, verdict, who).slice(0, 80),
          custom_id: `dmarc:decided:${subject}`.slice(0, 100),
          disabled: true,
        },
      ],
    };
  });
}

/** A click on Mine / Spoof / Details: checked like a command; a decision updates the message. */
export async function handleChoiceButton(interaction: ButtonInteraction, deps: InteractionDeps): Promise<void> {
  const choice = parseChoiceId(interaction.customId);
  if (!choice) return;
  const requester = {
    platform: 'discord' as const,
    userId: interaction.user.id,
    userName: interaction.user.username,
    ...(interaction.channelId ? { channelId: interaction.channelId } : {}),
  };
  const ephemeral = (reply: Parameters<typeof renderDiscord>[0]) => {
    const { components: _none, files, ...message } = renderDiscord(reply);
    const attachments = (files ?? []).map((file) => ({ attachment: file.data, name: file.name }));
    return withRetry(
      () =>
        interaction.reply({
          ...message,
          files: attachments,
          flags: MessageFlags.Ephemeral,
          allowedMentions: { parse: [] },
        }),
      deps.retry,
    );
  };
  if (!fromAllowedPlace(interaction, deps)) {
    deps.log?.info(
      { user: requester.userId, guild: interaction.guildId },
      'discord click refused: another server or a DM',
    );
    await ephemeral(elsewhereReply());
    return;
  }
  if (!isAllowed(requester, deps.access)) {
    deps.log?.info({ user: requester.userId, channel: requester.channelId }, 'discord click refused by allow-list');
    await ephemeral(refusalReply());
    return;
  }
  const reply = await safeAnswer(deps.answer, choiceLine(choice.action, choice.subject), requester);
  if (choice.action === 'details' || reply.error) {
    await ephemeral(reply);
    return;
  }
  const raw = interaction.message.components.map((row) => row.toJSON() as unknown as DiscordActionRow);
  const components = decidedRows(raw, choice.subject, choice.action, `@${requester.userName}`);
  await withRetry(() => interaction.update({ components, allowedMentions: { parse: [] } }), deps.retry);
  deps.log?.info(
    { subject: choice.subject, verdict: choice.action, user: requester.userId },
    'source marked from a button',
  );
}

// One nonce per reply object: a retry of the same post carries the same nonce, so Discord keeps
// one message when an earlier attempt did arrive but its answer was lost.
const nonces = new WeakMap<object, string>();
export function nonceFor(reply: object, part = 0): string {
  let nonce = nonces.get(reply);
  if (!nonce) nonces.set(reply, (nonce = randomBytes(8).readBigUInt64BE(0).toString().slice(0, 20)));
  return `${nonce}${part}`.slice(0, 25);
}

function restFor(options: { token: string; apiUrl?: string }): REST {
  return new REST({ ...(options.apiUrl ? { api: options.apiUrl } : {}) }).setToken(options.token);
}

export function createDiscordBot(options: DiscordBotOptions): DiscordBot {
  const secrets = [options.token, options.webhookUrl];
  const deps: InteractionDeps = {
    ...(options.guildId ? { guildId: options.guildId } : {}),
    registry: options.registry,
    answer: options.answer,
    access: options.access,
    ...(options.log ? { log: options.log } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  };

  async function handleInteraction(interaction: Interaction): Promise<void> {
    const command = interaction.isChatInputCommand() && interaction.commandName === 'dmarc';
    if (!command && !interaction.isButton()) return;
    try {
      if (interaction.isButton()) await handleChoiceButton(interaction, deps);
      else if (interaction.isChatInputCommand()) await handleDmarcInteraction(interaction, deps);
    } catch (error) {
      options.log?.error(
        { component: 'discord', err: redactSecrets(errorMessage(error), secrets) },
        'discord answer failed',
      );
    }
  }

  let fatal = false;
  // A destroyed discord.js Client does not log in again: each gateway session gets a fresh one.
  const newClient = (): Client => {
    const client = new Client({
      intents: [GatewayIntentBits.Guilds],
      rest: { ...(options.apiUrl ? { api: options.apiUrl } : {}) },
    });
    client.on(Events.InteractionCreate, (interaction) => void handleInteraction(interaction));
    client.on(Events.ShardDisconnect, (event, shardId) => {
      const cause = FATAL_CLOSE_CODES[event.code];
      options.log?.warn({ component: 'discord', code: event.code, shard: shardId }, 'discord gateway disconnected');
      if (cause && !fatal) {
        fatal = true;
        options.onFatal?.(`discord gateway closed with ${event.code}: ${cause}`);
      }
    });
    client.on(Events.ShardReconnecting, (shardId) =>
      options.log?.info({ component: 'discord', shard: shardId }, 'discord gateway reconnecting'),
    );
    client.on(Events.ShardResume, (shardId, replayed) =>
      options.log?.info({ component: 'discord', shard: shardId, replayed }, 'discord gateway session resumed'),
    );
    client.on(Events.ShardError, (error, shardId) =>
      options.log?.error(
        { component: 'discord', shard: shardId, err: redactSecrets(error.message, secrets) },
        'discord gateway error',
      ),
    );
    client.on(Events.Error, (error) =>
      options.log?.error({ component: 'discord', err: redactSecrets(error.message, secrets) }, 'discord client error'),
    );
    return client;
  };
  let client = options.token ? newClient() : null;
  let clientUsed = false;
  /** the login of a session still opening, and how stop() settles it */
  let opening: Promise<boolean> | null = null;
  let endLogin: (() => void) | null = null;

  const destinations: Destination[] = [];
  if (options.token && options.digestChannelId) {
    const channelId = options.digestChannelId;
    const rest = restFor({ token: options.token, ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}) });
    destinations.push({
      id: `discord:${channelId}`,
      async post(reply) {
        try {
          // a digest too long for one message goes on in the next ones
          const parts = splitReply(reply, discordFits);
          for (const [index, part] of parts.entries()) {
            const message = renderDiscord(part);
            await rest.post(Routes.channelMessages(channelId), {
              body: messagePayload(message, {
                allowed_mentions: { parse: [] },
                nonce: nonceFor(reply, index),
                enforce_nonce: true,
              }),
              files: restFiles(message.files),
            });
          }
        } catch (error) {
          const status = (error as { status?: number }).status ?? null;
          throw new PostError(`discord channel ${channelId}: ${redactSecrets(errorMessage(error), secrets)}`, status);
        }
      },
    });
  }
  if (options.webhookUrl) {
    const webhookUrl = options.webhookUrl;
    destinations.push({
      id: 'discord-webhook',
      // a webhook not owned by the application cannot carry buttons
      async post(reply) {
        for (const part of splitReply(reply, discordFits)) {
          const { components: _none, ...message } = renderDiscord(part);
          await postWebhook(webhookUrl, message, options.apiUrl ? { apiUrl: options.apiUrl } : {});
        }
      },
    });
  }

  return {
    get client() {
      return client;
    },
    destinations,
    handleInteraction,
    async verifyToken() {
      if (options.token)
        await restFor({ token: options.token, ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}) }).get(
          Routes.gatewayBot(),
        );
    },
    async start() {
      if (!options.token || !client) return false;
      if (clientUsed) client = newClient();
      clientUsed = true;
      const session = client;
      const started = new Promise<boolean>((resolve, reject) => {
        endLogin = () => resolve(false);
        session.login(options.token).then(() => resolve(true), reject);
      }).finally(() => {
        opening = null;
        endLogin = null;
      });
      opening = started.catch(() => false);
      return started;
    },
    async stop() {
      // discord.js cannot destroy a shard that waits for READY: that destroy never settles and the
      // shard connects again. So a session still opening (READY is a moment away) is let open first.
      if (opening) await settledWithin(opening, options.openingWaitMs ?? 15_000);
      if (endLogin) {
        endLogin();
        options.log?.warn({ component: 'discord' }, 'discord gateway session did not open: leaving it');
        void client?.destroy().catch(() => undefined);
        return;
      }
      await client?.destroy();
    },
  };
}

export interface RegisterOptions {
  token: string;
  applicationId: string;
  guildId?: string;
  apiUrl?: string;
  registry: readonly CommandDef[];
}

/** PUTs `/dmarc` for a guild (instant) or globally; resolves where it went and the payload. */
export async function registerCommands(
  options: RegisterOptions,
): Promise<{ scope: 'guild' | 'global'; payload: ReturnType<typeof buildCommandPayload> }> {
  const payload = buildCommandPayload(options.registry);
  const rest = restFor(options);
  const route = options.guildId
    ? Routes.applicationGuildCommands(options.applicationId, options.guildId)
    : Routes.applicationCommands(options.applicationId);
  try {
    // PUT replaces the whole set: other stale commands of this application disappear
    await rest.put(route, { body: [payload] });
  } catch (error) {
    throw new Error(`registering /dmarc with Discord failed: ${redactSecrets(errorMessage(error), [options.token])}`, {
      cause: error,
    });
  }
  return { scope: options.guildId ? 'guild' : 'global', payload };
}
