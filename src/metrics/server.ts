// The HTTP edge of monitoring: GET /metrics (Prometheus text format) and GET /healthz (JSON, 200
// when every part works, else 503). Loopback by default; nothing else is served.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthReport } from './health.ts';

export interface MetricsServerOptions {
  host: string;
  port: number;
  scrape: () => Promise<string>;
  contentType: string;
  health: () => Promise<HealthReport>;
  onError?: (error: unknown) => void;
}

export interface MetricsServer {
  /** the bound port (useful with port 0 in tests) */
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const answer = async () => {
      if (path === '/metrics') {
        const body = await options.scrape();
        response.writeHead(200, { 'content-type': options.contentType }).end(body);
      } else if (path === '/healthz') {
        const report = await options.health();
        response
          .writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify(report) + '\n');
      } else {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
      }
    };
    answer().catch((error: unknown) => {
      options.onError?.(error);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('internal error\n');
    });
  });
  // a scraper never needs long: slow or idle connections are cut
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
