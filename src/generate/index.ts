// Deterministic generators of DMARC data: the data model, its wire formats, mails and scenarios.
export { createRng, hash32, type Rng } from './prng.ts';
export {
  aggregateXml,
  aggregateXmlChunks,
  writeAggregateXml,
  escapeXml,
  epochSeconds,
  DMARC2_NAMESPACE,
  type AggregateXmlOptions,
} from './xml.ts';
export { randomAggregateReport, skewedCount, isoFromEpoch, type RandomReportOptions } from './random.ts';
export { buildRecord, policyPublished, type RecordSpec } from './records.ts';
export { REPORTERS, ALL_REPORTERS, docIp, docIpv6, type Reporter } from './reporters.ts';
export { crc32, zipFiles, type ZipEntry } from './zip.ts';
export {
  reportMail,
  aggregateAttachment,
  aggregateReportMail,
  failureReportMail,
  tlsReportJson,
  tlsReportMail,
  gzipBytes,
  zipBytes,
  reportFileName,
  rfc5322Date,
  type Attachment,
  type MailHeaders,
  type Container,
} from './mail.ts';
export {
  exampleMonth,
  exampleMonthMails,
  type ExampleMonth,
  type ExampleMonthOptions,
  type ScenarioTruth,
  type ScenarioSource,
  type SourceRole,
  type GeneratedMail,
  type ScenarioMail,
} from './scenario.ts';
export { reportMailBacklog, type BacklogOptions } from './backlog.ts';
