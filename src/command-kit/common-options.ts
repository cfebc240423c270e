// The options several subcommands share, defined once so that their limits and help texts agree.

import { en } from '../i18n/en.ts';
import type { OptionDef } from './types.ts';

/** `[domain]`: one policy domain, all of them when left out */
export const domainOption: OptionDef = {
  name: 'domain',
  description: en['option.domain'],
  type: 'domain',
  positional: true,
};

/** `[days]`: the window ending today, up to ten years */
export const daysOption: OptionDef = {
  name: 'days',
  description: en['option.days'],
  type: 'integer',
  min: 1,
  max: 3650,
  positional: true,
};
