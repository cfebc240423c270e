// English messages: the reference catalog. Placeholders are {name}; numbers are formatted for the
// locale when interpolated. Every key here must exist in ja.ts (the type makes sure of it).

export const en = {
  // --- generic ---
  'reply.error.title': 'Could not answer',
  'reply.error.internal': 'Could not answer "{command}": {cause}',
  'reply.usage.title': 'Usage error',
  'reply.usage.line': 'Usage: {usage}',
  'reply.window': 'Window: {from} to {to} (UTC days); times in {timeZone}',
  'reply.more': '… and {count} more',
  'reply.moreMessages': '… and {count} more ({messages|message|messages})',
  'reply.total': 'Total: {count|source|sources}, {messages|message|messages}',
  yes: 'yes',
  no: 'no',
  none: '-',

  // --- usage errors (parser) ---
  'usage.empty': 'No command given. Try: /dmarc help',
  'usage.didYouMean': 'Did you mean /dmarc {suggestion}?',
  'usage.unknownCommand': 'Unknown command "{name}". Commands: {list}. Example: /dmarc help',
  'usage.missing': 'Missing {option}: expected {expected}. Example: /dmarc {example}',
  'usage.invalid': '"{value}" is not {expected} (for {option}). Example: /dmarc {example}',
  'usage.unknownOption': 'Unknown option "{name}" for {command}; options: {list}. Example: /dmarc {example}',
  'usage.duplicate': '{option} is given twice. Example: /dmarc {example}',
  'usage.tooMany': 'Unexpected extra argument "{value}" for {command}. Example: /dmarc {example}',
  'usage.unterminatedQuote': 'A quote is not closed in: {line}. Example: /dmarc mark "Example Sender" mine',
  'expected.ip': 'an IPv4 or IPv6 address',
  'expected.date': 'a date YYYY-MM-DD, today or yesterday',
  'expected.integer': 'a whole number from {min} to {max}',
  'expected.domain': 'a domain name like example.com',
  'expected.choice': 'one of {choices}',
  'expected.string': 'a value',

  // --- command descriptions (help, Discord registration) ---
  'command.ip': 'What one source IP sent: identity, results, a hint',
  'command.date': 'The reports that cover one UTC day',
  'command.dns': 'What the domain publishes in DNS: DMARC, SPF, DKIM keys, MX, MTA-STS, TLS-RPT',
  'command.ready': 'Is the domain ready for p=quarantine or p=reject?',
  'command.mark': 'Record your decision about a source: mine, spoof or clear',
  'command.summary': 'Totals per domain over the last days',
  'command.sources': 'The top senders over the last days',
  'command.help': 'Every command with an example',
  'command.marks': 'Your marks: which sources you called mine or spoof, by whom and when',
  'command.failures': 'Failure reports (RFC 6591) received: who sent them, about what',
  'command.tls': 'SMTP TLS reports (RFC 8460): sessions and failures per policy',
  'option.force': 'yes: mark even a recognised service or an aligned source',
  'option.address': 'IPv4 or IPv6 address',
  'option.days': 'number of days to look back',
  'option.date': 'YYYY-MM-DD, today or yesterday',
  'option.domain': 'policy domain (default: every domain)',
  'option.subject': 'an IP address or a sender name as shown by ready/sources',
  'option.command': 'a command to explain',
  'option.verdict': 'mine, spoof or clear',

  // --- labels ---
  'label.sender': 'Sender',
  'label.ptr': 'Reverse DNS',
  'label.network': 'Network',
  'label.country': 'Country',
  'label.firstSeen': 'First seen',
  'label.lastSeen': 'Last seen',
  'label.messages': 'Messages',
  'label.dmarc': 'DMARC pass / fail',
  'label.passRate': 'Pass rate',
  'label.spfAligned': 'SPF aligned',
  'label.dkimAligned': 'DKIM aligned',
  'label.mark': 'Your mark',
  'label.domain': 'Domain',
  'label.domains': 'Policy domains',
  'label.reporters': 'Reporting organisations',
  'label.headerFrom': 'Header From',
  'label.spfResults': 'SPF results',
  'label.dkimResults': 'DKIM results',
  'label.dispositions': 'Dispositions',
  'label.reasons': 'Override reasons',
  'label.perDay': 'Per day',
  'label.date': 'Day',
  'label.pass': 'Pass',
  'label.fail': 'Fail',
  'label.report': 'Report',
  'label.reportList': 'Reports',
  'label.reportId': 'Report ID',
  'label.range': 'Period',
  'label.ip': 'IP',
  'label.ips': 'IPs',
  'label.class': 'Class',
  'label.share': 'Share',
  'label.days': 'Days',
  'label.reports': 'Reports',
  'label.sources': 'Sources',
  'label.policy': 'Policy',
  'label.nextStep': 'Next step',
  'label.checks': 'Checks',
  'label.blockers': 'Blockers',
  'label.topSources': 'Top sources',
  'label.failingSources': 'Failing sources',
  'label.newSources': 'New sources',
  'label.command': 'Command',
  'label.example': 'Example',
  'label.change': 'Change vs 7 days before',
  'label.failureReports': 'Failure reports',
  'label.tls': 'SMTP TLS',
  'label.readiness': 'Readiness',
  'label.markedBy': 'Marked by',
  'label.markedAt': 'When',
  'label.subject': 'Subject',
  'label.verdict': 'Mark',
  'label.spoofing': 'Spoofing',
  'label.whyNotReject': 'Why not p=reject yet',
  'label.policyAge': 'At this policy',
  'label.reporter': 'Reporter',
  'label.received': 'Received',
  'label.arrival': 'Arrival',
  'label.feedback': 'Type',
  'label.result': 'Auth failure',
  'label.policyDomain': 'Policy',
  'label.sessions': 'Sessions',
  'label.failed': 'Failed',
  'label.failureTypes': 'Failure types',

  // --- ip ---
  'ip.title': '{ip}: {messages} messages, {passRate} pass DMARC ({days} days)',
  'ip.unknown.title': 'No reports mention {ip} in the last {days} days',
  'ip.unknown.text':
    'No aggregate report of the window lists {ip} as a source. Try a longer window, e.g. /dmarc ip {ip} days:365',
  'ip.network': 'AS{asn} {asName}',
  'mark.mine': 'yours',
  'mark.spoof': 'spoofing',
  'ip.class': 'Class',

  // --- date ---
  'date.title': '{date}: {reports|report|reports}, {messages|message|messages}, {passRate} pass DMARC',
  'date.future.title': '{date} is in the future',
  'date.future.text': 'No report can cover {date} yet: today is {today} (UTC). Try /dmarc date yesterday',
  'date.utc':
    "today and yesterday are UTC days ({date}); a report counts on every UTC day its period touches, with that day's share",
  'date.latest': 'No report covers {asked} yet (they arrive a day or two later); the latest day with reports is {date}',
  'date.none.title': 'No reports cover {date}',
  'date.none.text': 'No aggregate report in the store covers {date} (UTC). Reports usually arrive a day or two later.',
  'date.domain': '{domain}: {messages} messages, {passRate} pass',

  // --- ready ---
  'ready.title.one': '{domain}: {verdict}',
  'ready.title.many': 'Readiness of {count|domain|domains}',
  'ready.none.title': 'No data for readiness',
  'ready.none.text': 'The store holds no aggregate reports{forDomain} in the last {days} days.',
  'ready.none.forDomain': ' for {domain}',
  'verdict.insufficient-data': 'not enough data yet',
  'verdict.not-ready': 'not ready to enforce',
  'verdict.ready-quarantine': 'ready for p=quarantine',
  'verdict.ready-reject': 'ready for p=reject',
  'verdict.enforced': 'enforced (p=reject)',
  'check.days-with-reports': 'Days with reports: {value} (need {threshold})',
  'check.messages': 'Messages, spoofing left out: {value} (need {threshold})',
  'check.pass-rate-quarantine': 'Pass rate {value} (quarantine needs {threshold})',
  'check.pass-rate-reject': 'Pass rate {value} (reject needs {threshold})',
  'check.legit-failing': 'Largest failing legitimate sender: {value} of the messages counted (at most {threshold})',
  'check.unconfirmed-senders': 'Unconfirmed regular senders: {value}',
  'check.dkim-for-reject': 'Legitimate senders passing through SPF only (reject needs DKIM): {value}',
  'check.mailing-list': 'Mailing-list messages (hold at quarantine): {value}',
  'check.time-at-policy': 'Days at p=quarantine: {value} (about a month, {threshold}, before reject)',
  'check.other': '{id}: {detail}',
  'class.aligned': 'aligned',
  'class.legitimate-failing': 'legitimate, failing',
  'class.mailing-list': 'mailing list',
  'class.forwarded': 'forwarded',
  'class.unconfirmed': 'unconfirmed regular sender',
  'class.spoofing': 'spoofing',
  'ready.blocker': '{sender} ({class}): {failing} of {messages} messages fail. {hint}',
  'ready.blocker.unconfirmed':
    '{sender} ({class}): {failing} of {messages} messages fail. If it is your own sender: {hint}. If it is not: /dmarc mark {sender} spoof',
  'ready.policy': 'Published policy as receivers reported it: {policy}',
  'ready.policy.unknown': 'Published policy: no report showed it',
  'ready.blocker.reject': '{sender}: {failing} of {messages} messages pass through SPF alone. {hint}',
  'ready.figures':
    'Pass rate {passRate} of {considered|message|messages} counted: legitimate sources only ({spoofing} spoofed, {forwarded} forwarded and {lists} mailing-list messages left out)',
  'ready.policyAge': 'p={p} reported since {since} ({days|day|days})',
  'ready.policyAge.atLeast': 'p={p} reported since {since} (at least {days|day|days}: the whole window)',
  'ready.sourcesTotal': '{count|sender|senders} in all, {messages|message|messages} ({spoofing} from spoofing sources)',

  // --- mark ---
  'mark.set.title': 'Marked {subject} as {verdict}',
  'mark.set.text': 'Recorded by {by} at {at}. ready, the digest and alerts now treat it as {verdict}.',
  'mark.unseen':
    'No source named {subject} appears in the last {days} days of reports: check the spelling (ready and sources show the names). The mark is stored anyway.',
  'mark.cleared.title': 'Cleared the mark of {subject}',
  'mark.cleared.none': '{subject} had no mark.',
  'mark.tooLong':
    'A subject is at most {max} characters (an IP address or a sender name as ready/sources show it); this one has {length}.',
  'mark.needsForce.service':
    '{subject} is {service}, a recognised service: marking it {verdict} changes the class of {messages|message|messages} ({share} of the mail). Add force:yes if you mean it: /dmarc mark "{subject}" {verdict} force:yes',
  'mark.needsForce.aligned':
    '{subject} passes DMARC ({passRate} of {messages|message|messages}): it is aligned. Add force:yes if you mean it: /dmarc mark "{subject}" {verdict} force:yes',
  'marks.title': '{count|mark|marks}',
  'marks.none': 'No marks yet. /dmarc mark <ip or sender> mine|spoof records one.',
  'failures.title': 'Failure reports over {days} days: {count|report|reports}',
  'failures.none':
    'No failure reports{forDomain} in the last {days} days. Receivers send them only to a ruf= address, and few do.',
  'tls.title': 'SMTP TLS over {days} days: {count|report|reports}, {successful} sessions succeeded, {failed} failed',
  'tls.none':
    'No SMTP TLS reports{forDomain} in the last {days} days. They go to the rua= of _smtp._tls.<domain> (RFC 8460).',
  'list.forDomain': ' for {domain}',

  // --- summary / sources ---
  'summary.title':
    '{days} days: {messages|message|messages}, {passRate} pass DMARC (all messages), {domains|domain|domains}',
  'summary.sourcesNote': 'Sources here are IP addresses; /dmarc sources groups them into senders.',
  'summary.none': 'No aggregate reports in the last {days} days.',
  'sources.title':
    'Senders over {days} days: {total|sender|senders} ({ips|IP address|IP addresses}), {messages|message|messages}',
  'sources.note':
    "Pass rate over each sender's own messages, every message counted; ready leaves spoofed, forwarded and mailing-list mail out of its pass rate.",

  // --- help ---
  'help.title': '/dmarc commands',
  'help.footer': 'Options are written name:value, e.g. days:90. Quote values with spaces.',

  // --- digest ---
  'digest.title': 'DMARC digest: {reports|report|reports} ({aggregate} aggregate, {failure} failure, {tls} TLS)',
  'digest.none.title': 'DMARC digest: no new reports',
  'digest.none.text': 'No reports were received between {since} and {until}.',
  'digest.period': 'Reports received from {since} to {until}',
  'digest.change.none': 'no earlier data',
  'digest.tls': '{reports|report|reports}: {successful} sessions succeeded, {failed} failed',
  'digest.change': '{change} pt (was {previous})',
  'digest.first': 'A first digest covers the last 24 hours; later ones start where the previous ended.',
  'digest.readiness': '{verdict} (as /dmarc ready, {from} to {to}). {nextStep}',
  'digest.spoofing':
    '{sources|source|sources} of spoofing sent {messages|message|messages} over {from} to {to}: p=quarantine or p=reject would stop them',
  'digest.spoofing.none': 'No spoofing sources from {from} to {to}',
  'digest.source': '{source}: {messages|message|messages}, {fail} fail',

  // --- hints: failure patterns ---
  'hint.spf-unaligned':
    'SPF passes for {spfDomain} but is not aligned with {domain}: set a custom return path, or sign with DKIM d={domain}',
  'hint.dkim-unaligned':
    'DKIM passes for {dkimDomain} only, not for {domain}: set up DKIM signing with d={domain} at the service',
  'hint.no-auth':
    'No DKIM signature and SPF fails for {domain}: likely a relay; add {ip} to the SPF record or relay through your own server',
  'hint.mailing-list':
    'Mailing-list traffic: a list changed the message and broke the DKIM signature of {domain}; RFC 9989 advises a domain with list mail not to publish p=reject',
  'hint.spoofing':
    'Not authorised for {domain} and not a regular sender: p=quarantine or p=reject will stop this mail. If it is yours after all: /dmarc mark {subject} mine',
  'hint.spf-only':
    'Passes DMARC through SPF alone ({spfOnly} messages without an aligned DKIM signature): forwarding breaks SPF, so set up DKIM signing with d={domain} before p=reject',
  'hint.forwarded':
    'Forwarded mail: a relay broke the DKIM signature of {domain}; nothing to fix on your side (ARC helps receivers)',
  'hint.intermittent':
    'Passes DMARC for only {passPercent} % of its mail from {domain}: some of its servers or streams are not set up for SPF/DKIM alignment',
  'hint.auth-fail':
    'SPF and DKIM both fail for {domain}: the sender is not authorised (spoofing, or a sender you have not set up)',
  // --- hints: next steps ---
  'hint.collect-more-data':
    'Collect more data: {days} of {minDays} days with reports, {messages} of {minMessages} messages',
  'hint.fix-blocker': 'Fix {sender} first ({failing} failing messages): {fix}',
  'hint.confirm-sender': 'Decide about {sender} ({messages} messages, never passes): /dmarc mark "{sender}" mine|spoof',
  'hint.raise-pass-rate':
    'Raise the pass rate of {domain} from {passPercent} % to {thresholdPercent} %: align the remaining senders',
  'hint.publish-quarantine-testing':
    'Publish p=quarantine with t=y for {domain} (RFC 9989 testing mode: receivers report as if enforced but apply p=none), keeping your rua=/ruf= tags: _dmarc.{domain} TXT "{record}"',
  'hint.publish-quarantine':
    'Publish p=quarantine for {domain}, keeping your rua=/ruf= tags: _dmarc.{domain} TXT "{record}"',
  'hint.publish-reject-testing':
    'Publish p=reject with t=y for {domain} (testing mode: receivers apply p=quarantine), keeping your rua=/ruf= tags: _dmarc.{domain} TXT "{record}"',
  'hint.publish-reject': 'Publish p=reject for {domain}, keeping your rua=/ruf= tags: _dmarc.{domain} TXT "{record}"',
  'hint.keep-monitoring': '{domain} is enforced (p=reject); keep watching for new senders',
  'hint.dns-fix': 'Fix what {domain} publishes in DNS first ({check}): {fix}',
  'hint.wait-at-quarantine':
    'Stay at p=quarantine: {days} of {minDays} days at it so far; RFC 9989 advises about a month at quarantine before p=reject',
  'hint.hold-mailing-list':
    'Stay at p=quarantine: {messages} messages come through mailing lists, and RFC 9989 says a domain with list mail SHOULD NOT publish p=reject',
  'hint.needs-dkim':
    'Not p=reject yet: {senders} legitimate senders pass through SPF alone ({sender} first, {spfOnly} messages); reject needs DKIM signing with d={domain}',
  'hint.reject-pass-rate':
    'Not p=reject yet: the pass rate {passPercent} % is below the {thresholdPercent} % reject needs',
  'hint.quarantine-first': 'Not p=reject yet: one step at a time; publish p=quarantine first and watch it for a month',
  'hint.unknown': 'Hint {code}',
  // short forms of failure hints, used inside fix-blocker
  'fix.spf-unaligned': 'align its return path with your domain or sign with your DKIM key',
  'fix.dkim-unaligned': 'sign with DKIM for your own domain',
  'fix.no-auth': 'authorise it in SPF or relay through your server',
  'fix.forwarded': 'nothing to fix (forwarding)',
  'fix.mailing-list': 'nothing to fix (mailing list); stay at quarantine',
  'fix.spoofing': 'nothing to authorise: enforcement stops it',
  'fix.spf-only': 'sign with DKIM d= your domain',
  'fix.intermittent': 'set up alignment on all of its servers',
  'fix.auth-fail': 'set up SPF and DKIM for it, or mark it as spoofing',
} as const;

export type MessageKey = keyof typeof en;
