// The insight layer's public API: pure functions over store documents, and their store loaders.
export type * from './types.ts';
export { HINT_CODES, explainFailures, orgDomain, type HintCode } from './hints.ts';
export { ipInsight, type IpInsightInput } from './ip.ts';
export { dateInsight, type DateInsightInput } from './date.ts';
export { readiness, reportedPolicy, policyLevel, DEFAULT_THRESHOLDS, type ReadinessInput } from './readiness.ts';
export { summary, sources, type SourcesInput } from './summary.ts';
export { digestData, newIpsByDomain, type DigestInput } from './digest.ts';
export { markLookup } from './marks.ts';
export {
  MARK_LOOKBACK_DAYS,
  MARK_SUBJECT_MAX,
  clearMark,
  seenRecently,
  setMark,
  type MarkCleared,
  type MarkOutcome,
  type MarkSubject,
  type SeenSource,
} from './marking.ts';
export { windowEnding, addDays, utcDay } from './stats.ts';
export {
  canonicalIp,
  queryIp,
  queryDate,
  queryReady,
  querySummary,
  querySources,
  queryDigest,
  identifyDays,
  identifyHints,
  type Timings,
} from './queries.ts';
