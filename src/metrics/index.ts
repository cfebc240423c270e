// Monitoring for `dmarc-bot start`: Prometheus metrics and a health check on METRICS_HOST:METRICS_PORT.
export { noopObserver, type OpsObserver, type DeliveryKind } from './observer.ts';
export { createMetrics, READINESS_VERDICTS, type Metrics, type MetricsOptions } from './metrics.ts';
export { domainFigures, type DomainFigures } from './domains.ts';
export { checkHealth, type HealthInput, type HealthReport, type PartHealth } from './health.ts';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions } from './server.ts';
