// The Mine / Spoof / Details buttons shared by the platforms: how a button names its action and
// subject (Slack action_id + value, Discord custom_id), the command line a click runs, and the
// line that replaces the buttons once someone decided. Clicks go through the same answer function
// (and so the same checks) as typed commands.

import { isIP } from 'node:net';
import type { Reply } from '../reply/model.ts';
import type { CommandRequest } from '../command-kit/types.ts';

export type ChoiceAction = 'mine' | 'spoof' | 'details';
export const CHOICE_ACTIONS: readonly ChoiceAction[] = ['mine', 'spoof', 'details'];

/** Buttons a message carries at most: Discord allows five action rows. */
export const MAX_CHOICES = 5;
/** Discord's custom_id holds 100 characters; "dmarc:details:" takes 14 */
export const MAX_SUBJECT_CHARS = 80;

export function choicesOf(reply: Reply): string[] {
  return (reply.choices ?? [])
    .map((choice) => choice.subject)
    .filter((subject) => subject.length > 0 && subject.length <= MAX_SUBJECT_CHARS)
    .slice(0, MAX_CHOICES);
}

export const choiceLabel: Record<ChoiceAction, string> = { mine: 'Mine', spoof: 'Spoof', details: 'Details' };

/** Discord custom_id of a button. */
export function choiceId(action: ChoiceAction, subject: string): string {
  return `dmarc:${action}:${subject}`;
}

export function parseChoiceId(id: string): { action: ChoiceAction; subject: string } | null {
  const match = /^dmarc:(mine|spoof|details):(.{1,80})$/s.exec(id);
  return match ? { action: match[1] as ChoiceAction, subject: match[2]! } : null;
}

/** The command a click runs, as if typed; the subject travels as a typed value (names may hold spaces). */
export function choiceLine(action: ChoiceAction, subject: string): CommandRequest {
  if (action !== 'details')
    return {
      command: 'mark',
      options: [
        { name: 'subject', value: subject },
        { name: 'verdict', value: action },
      ],
      text: `mark ${/^[\w.:-]+$/.test(subject) ? subject : JSON.stringify(subject)} ${action}`,
    };
  // a sender name (from ready) has no `ip` answer; the sources list shows it with its addresses
  return isIP(subject) ? `ip ${subject}` : 'sources';
}

/** What the message says instead of the buttons once decided (plain text; platforms escape it). */
export function decisionText(subject: string, action: 'mine' | 'spoof', who: string): string {
  return `${subject} marked ${action === 'mine' ? 'mine' : 'spoof'} by ${who}`;
}
