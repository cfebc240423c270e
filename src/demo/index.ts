// The newcomer's first run: with nothing configured, `npm start` fills a demo store of its own
// with a realistic month of report mails for example.com (ending yesterday), made by the project's
// generator and read through the real reader and store, so `/dmarc ready` has something to show.
// The demo store is a separate file, recreated at every demo start: demo data never mixes into a
// configured store.

import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FailureReport, TlsReport } from '../model.ts';
import { exampleMonthMails, type ScenarioTruth } from '../generate/scenario.ts';
import { failureReportMail, tlsReportMail } from '../generate/mail.ts';
import { ingestInput, IngestTotals } from '../ingest/pipeline.ts';
import { openStore } from '../store/index.ts';
import type { ReportStore } from '../store/types.ts';
import { utcDay } from '../time/utc-day.ts';

import { DEMO_DOMAIN, DEMO_STORE_PATH } from './wants.ts';

export { DEMO_DOMAIN, DEMO_STORE_PATH, wantsDemo } from './wants.ts';

/** A few failure reports and one SMTP TLS report, so the digest shows every kind. */
function extraMails(truth: ScenarioTruth): Buffer[] {
  const spoofer = truth.sources.find((source) => source.role === 'spoofer');
  const day = truth.spoofDays[0] ?? truth.lastDay;
  const mails: Buffer[] = [];
  for (const [index, ip] of (spoofer?.ips ?? []).slice(0, 2).entries()) {
    const report: FailureReport = {
      kind: 'failure',
      feedbackType: 'auth-failure',
      reportedDomain: truth.domain,
      sourceIp: ip,
      arrivalDate: `${day}T0${index + 3}:14:00.000Z`,
      authFailure: ['dmarc'],
      deliveryResult: 'none',
      originalMailFrom: `billing@${truth.domain}`,
      originalRcptTo: 'someone@mailbox.example',
      headerFrom: truth.domain,
      subject: 'Your invoice is overdue',
      messageId: `demo-${index}@${truth.domain}`,
      identityAlignment: 'none',
    };
    mails.push(
      failureReportMail(report, {
        from: 'dmarc-failures@mailbox.example',
        to: `dmarc-ruf@${truth.domain}`,
        subject: `DMARC failure report for ${truth.domain}`,
        date: new Date(`${day}T06:00:00Z`),
        messageId: `ruf-demo-${index}@mailbox.example`,
      }),
    );
  }
  const tls: TlsReport = {
    kind: 'tls',
    orgName: 'Google Inc.',
    reportId: `demo-tls-${truth.lastDay}`,
    begin: `${truth.lastDay}T00:00:00.000Z`,
    end: `${truth.lastDay}T23:59:59.000Z`,
    contactInfo: 'smtp-tls-reporting@google.com',
    policies: [
      {
        domain: truth.domain,
        type: 'sts',
        strings: ['version: STSv1', 'mode: testing', `mx: mail.${truth.domain}`, 'max_age: 86400'],
        mxHosts: [`mail.${truth.domain}`],
        successful: 412,
        failed: 3,
        failures: [
          {
            resultType: 'certificate-expired',
            count: 3,
            sendingMtaIp: '209.85.220.41',
            receivingMxHostname: `mail.${truth.domain}`,
            receivingIp: '192.0.2.10',
            reasonCode: null,
            info: null,
          },
        ],
      },
    ],
  };
  mails.push(
    tlsReportMail(tls, {
      from: 'noreply-smtp-tls-reporting@google.com',
      to: `tls-reports@${truth.domain}`,
      subject: `Report Domain: ${truth.domain} Submitter: google.com Report-ID: <${tls.reportId}>`,
      date: new Date(`${truth.lastDay}T23:59:59Z`),
      messageId: `${tls.reportId}@google.com`,
    }),
  );
  return mails;
}

export interface DemoStore {
  store: ReportStore;
  storeUrl: string;
  truth: ScenarioTruth;
  /** reports stored, and inputs that failed (there should be none) */
  reports: number;
  errors: string[];
}

/**
 * Creates the demo store afresh and ingests the example month through the real pipeline. The
 * reports count as received a day ago, so the first digest (since the last one, i.e. ever) holds them.
 */
export async function prepareDemoStore(options: { now: Date; path?: string }): Promise<DemoStore> {
  const path = resolve(options.path ?? DEMO_STORE_PATH);
  await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(path + suffix, { force: true })));
  const storeUrl = `sqlite://${path}`;
  const store = await openStore(storeUrl);
  const yesterday = new Date(options.now.getTime() - 86_400_000);
  const { mails, truth } = exampleMonthMails({ domain: DEMO_DOMAIN, endDay: utcDay(yesterday), seed: 'demo' });
  const totals = new IngestTotals();
  const receivedAt = () => yesterday;
  const inputs = [
    ...mails.map((mail) => ({ source: `demo/${mail.name}`, bytes: mail.raw })),
    ...extraMails(truth).map((raw, index) => ({ source: `demo/extra-${index}.eml`, bytes: raw })),
  ];
  for (const input of inputs) totals.add(await ingestInput(input, { store, now: receivedAt }));
  await store.flush();
  return {
    store,
    storeUrl,
    truth,
    reports: totals.new,
    errors: totals.errors.map((error) => `${error.source}: ${error.message}`),
  };
}

export const DEMO_NOTICE = [
  'dmarc-bot is running on demo data: a month of example reports for example.com, ending yesterday.',
  'Try: /dmarc ready    /dmarc sources    /dmarc date yesterday    /dmarc ip 203.0.113.77    /dmarc help',
  'To use your own reports: copy .env.example to .env and set IMAP_HOST, IMAP_USER and IMAP_PASSWORD',
  "(the mailbox your DMARC record's rua= address delivers to), then SLACK_* or DISCORD_* for a chat.",
  'Run `npx dmarc-bot doctor` to check the settings. The demo store is data/demo.sqlite; your own data never mixes with it.',
].join('\n');
