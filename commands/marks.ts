// `/dmarc marks`: every mark the owner recorded (mine / spoof), with who made it and when.

import type { CommandDef } from '../src/command-kit/types.ts';
import { en } from '../src/i18n/en.ts';
import { translatorFor } from '../src/i18n/present.ts';

export const marksCommand: CommandDef = {
  name: 'marks',
  description: en['command.marks'],
  options: [],
  examples: ['marks'],
  async handler(_args, context) {
    const t = translatorFor(context);
    const doc = await context.store.marks();
    const marks = Object.keys(doc)
      .map((key) => doc[key]!)
      // spoof first: those change what the pass rate leaves out
      .sort((a, b) =>
        a.verdict !== b.verdict ? (a.verdict === 'spoof' ? -1 : 1) : a.subject.localeCompare(b.subject, 'en'),
      );
    if (marks.length === 0) return { title: t.t('marks.none'), tone: 'info', blocks: [], data: { marks: [] } };
    return {
      title: t.t('marks.title', { count: marks.length }),
      tone: 'info',
      blocks: [
        {
          type: 'table',
          columns: [t.t('label.subject'), t.t('label.verdict'), t.t('label.markedBy'), t.t('label.markedAt')],
          rows: marks.map((mark) => [
            mark.subject,
            t.t(mark.verdict === 'mine' ? 'mark.mine' : 'mark.spoof'),
            mark.by,
            t.dateTime(mark.at),
          ]),
        },
      ],
      data: { marks },
    };
  },
};
