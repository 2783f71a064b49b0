import type { Logger } from '../core/log.ts';
import type { ServerConfig } from '../contracts/server-config.ts';
import type { CommandCaller } from '../api/command-caller.ts';
import { buildOpenApi } from '../http/openapi.ts';
import type { HttpMetrics } from '../http/metrics.ts';
import { buildHttpServer } from '../http/server.ts';

/** An HTTP API listening on a socket. */
export interface HttpListener {
  /** `http://<host>:<port>`, with the port actually bound (the config may ask for 0). */
  readonly url: string;
  close(): Promise<void>;
}

/** What {@link listenHttp} needs besides the config. */
export interface HttpListenerOptions {
  caller: CommandCaller;
  metrics: HttpMetrics;
  config: Pick<ServerConfig, 'host' | 'port' | 'rateLimit'>;
  logger: Logger;
  /** Whether the node can take commands (`/readyz`). */
  ready: () => boolean;
  /** The largest answer in bytes (the NATS budget, so a page ends at the same item over both). */
  maxAnswerBytes: number;
}

/** Starts the HTTP API on the config's host and port; answers its URL. */
export async function listenHttp(options: HttpListenerOptions): Promise<HttpListener> {
  const { caller, metrics, config, logger, ready, maxAnswerBytes } = options;
  let openapi: unknown;
  const app = buildHttpServer({
    caller,
    logger,
    rateLimit: config.rateLimit,
    ready,
    openapi: () => (openapi ??= buildOpenApi()),
    metrics,
    maxAnswerBytes,
  });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : config.port;
  return { url: `http://${config.host}:${bound}`, close: () => app.close() };
}
