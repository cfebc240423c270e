// The common sending services, maintained in the project. A service is recognised by the
// forward-confirmed PTR name, by the DKIM d= / SPF domains seen with the IP in reports, or by a
// published range where the provider keeps it stable. `forwarder` marks mailbox providers whose
// users forward mail (the relay breaks SPF; DKIM may survive): `ready` lists them, not blocks on them.

export interface KnownSender {
  id: string;
  name: string;
  forwarder: boolean;
  /** PTR names ending in one of these (whole labels) belong to the service */
  ptrSuffixes: readonly string[];
  /** registrable domains used in DKIM d= or the SPF (return-path) domain */
  domains: readonly string[];
  /** published, long-stable CIDR ranges only */
  ranges: readonly string[];
}

export const knownSenders: readonly KnownSender[] = [
  {
    id: 'google',
    name: 'Google',
    forwarder: true,
    ptrSuffixes: ['google.com', 'googlemail.com'],
    domains: ['google.com', 'gmail.com', 'googlemail.com', 'googlegroups.com'],
    ranges: [
      '209.85.128.0/17',
      '74.125.0.0/16',
      '64.233.160.0/19',
      '66.102.0.0/20',
      '66.249.80.0/20',
      '72.14.192.0/18',
      '108.177.8.0/21',
      '173.194.0.0/16',
      '2607:f8b0::/32',
      '2a00:1450::/32',
      '2404:6800::/32',
      '2800:3f0::/32',
    ],
  },
  {
    id: 'microsoft365',
    name: 'Microsoft 365 / Outlook',
    forwarder: true,
    ptrSuffixes: ['outlook.com', 'protection.outlook.com', 'hotmail.com'],
    domains: ['outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'onmicrosoft.com', 'microsoft.com'],
    ranges: [
      '40.92.0.0/15',
      '40.107.0.0/16',
      '52.100.0.0/14',
      '104.47.0.0/17',
      '2a01:111:f400::/48',
      '2a01:111:f403::/48',
    ],
  },
  {
    id: 'amazonses',
    name: 'Amazon SES',
    forwarder: false,
    ptrSuffixes: ['amazonses.com'],
    domains: ['amazonses.com'],
    ranges: [
      '54.240.0.0/18',
      '23.249.208.0/20',
      '23.251.224.0/19',
      '76.223.176.0/20',
      '199.255.192.0/22',
      '199.127.232.0/22',
    ],
  },
  {
    id: 'sendgrid',
    name: 'SendGrid',
    forwarder: false,
    ptrSuffixes: ['sendgrid.net'],
    domains: ['sendgrid.net', 'sendgrid.com'],
    ranges: ['167.89.0.0/17', '149.72.0.0/16', '168.245.0.0/17', '198.21.0.0/21'],
  },
  {
    id: 'mailchimp',
    name: 'Mailchimp / Mandrill',
    forwarder: false,
    ptrSuffixes: ['mcsv.net', 'mandrillapp.com', 'rsgsv.net', 'mcdlv.net'],
    domains: ['mcsv.net', 'mandrillapp.com', 'rsgsv.net', 'mcdlv.net', 'mailchimpapp.net'],
    ranges: ['205.201.128.0/20', '198.2.128.0/18', '148.105.0.0/16'],
  },
  {
    id: 'postmark',
    name: 'Postmark',
    forwarder: false,
    ptrSuffixes: ['mtasv.net'],
    domains: ['mtasv.net', 'postmarkapp.com'],
    ranges: [],
  },
  {
    id: 'mailgun',
    name: 'Mailgun',
    forwarder: false,
    ptrSuffixes: ['mailgun.net', 'mailgun.org'],
    domains: ['mailgun.org', 'mailgun.net', 'mailgun.info'],
    ranges: [],
  },
  {
    id: 'sparkpost',
    name: 'SparkPost',
    forwarder: false,
    ptrSuffixes: ['sparkpostmail.com'],
    domains: ['sparkpostmail.com', 'sparkpost.com'],
    ranges: [],
  },
  {
    id: 'zoho',
    name: 'Zoho Mail',
    forwarder: true,
    ptrSuffixes: ['zoho.com', 'zohomail.com', 'zoho.eu', 'zoho.in'],
    domains: ['zoho.com', 'zohomail.com', 'zoho.eu', 'zoho.in'],
    ranges: [],
  },
  {
    id: 'yahoo',
    name: 'Yahoo / AOL',
    forwarder: true,
    ptrSuffixes: ['yahoo.com', 'yahoo.net', 'aol.com'],
    domains: ['yahoo.com', 'yahoo.co.jp', 'aol.com', 'yahoodns.net'],
    ranges: [],
  },
  {
    id: 'icloud',
    name: 'Apple iCloud',
    forwarder: true,
    ptrSuffixes: ['icloud.com', 'apple.com'],
    domains: ['icloud.com', 'me.com', 'mac.com', 'apple.com'],
    ranges: ['17.0.0.0/8'],
  },
  {
    id: 'fastmail',
    name: 'Fastmail',
    forwarder: true,
    ptrSuffixes: ['messagingengine.com', 'fastmail.com'],
    domains: ['messagingengine.com', 'fastmail.com', 'fastmail.fm'],
    ranges: ['66.111.4.0/24'],
  },
  {
    id: 'proton',
    name: 'Proton Mail',
    forwarder: true,
    ptrSuffixes: ['protonmail.ch', 'proton.ch'],
    domains: ['protonmail.ch', 'protonmail.com', 'proton.me', 'proton.ch'],
    ranges: ['185.70.40.0/22'],
  },
  {
    id: 'brevo',
    name: 'Brevo (Sendinblue)',
    forwarder: false,
    ptrSuffixes: ['sendinblue.com', 'brevo.com', 'sender-sib.com'],
    domains: ['sendinblue.com', 'brevo.com', 'sender-sib.com'],
    ranges: [],
  },
  {
    id: 'hubspot',
    name: 'HubSpot',
    forwarder: false,
    ptrSuffixes: ['hubspotemail.net'],
    domains: ['hubspotemail.net', 'hubspot.com', 'hubspotstarter.net'],
    ranges: [],
  },
  {
    id: 'salesforce',
    name: 'Salesforce',
    forwarder: false,
    ptrSuffixes: ['exacttarget.com', 'salesforce.com'],
    domains: ['exacttarget.com', 'salesforce.com', 'force.com'],
    ranges: [],
  },
  {
    id: 'mailjet',
    name: 'Mailjet',
    forwarder: false,
    ptrSuffixes: ['mailjet.com'],
    domains: ['mailjet.com', 'mjt.lu'],
    ranges: [],
  },
  {
    id: 'constantcontact',
    name: 'Constant Contact',
    forwarder: false,
    ptrSuffixes: ['constantcontact.com'],
    domains: ['constantcontact.com', 'ccsend.com'],
    ranges: [],
  },
  {
    id: 'yandex',
    name: 'Yandex Mail',
    forwarder: true,
    ptrSuffixes: ['yandex.net', 'yandex.ru'],
    domains: ['yandex.ru', 'yandex.net', 'yandex.com'],
    ranges: [],
  },
  { id: 'mailru', name: 'Mail.ru', forwarder: true, ptrSuffixes: ['mail.ru'], domains: ['mail.ru'], ranges: [] },
  {
    id: 'gmx',
    name: 'GMX / WEB.DE',
    forwarder: true,
    ptrSuffixes: ['gmx.net', 'web.de', 'gmx.com'],
    domains: ['gmx.net', 'gmx.de', 'web.de', 'gmx.com'],
    ranges: [],
  },
];
