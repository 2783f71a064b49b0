import { createLogger } from '../core/log.ts';
import { Authenticator, createToken } from '../api/auth.ts';
import { buildHttpServer } from '../http/server.ts';
import { buildOpenApi } from '../http/openapi.ts';
import type { RuntimeSample } from '../http/metrics.ts';
import { createOverseer, type Overseer } from '../index.ts';
import { loadServerConfig, resolveJwtSecret } from './config.ts';

/** What a started server exposes (for tests and the CLI). */
export interface RunningServer {
  url: string;
  ov: Overseer;
  close(): Promise<void>;
}

/** Samples the runtime for the Prometheus gauges. */
function sampler(ov: Overseer): () => RuntimeSample {
  return () => ({
    workspaces: [...ov.runtime.env.work.loaded()].map((w) => ({
      workspaceId: w.ws,
      workers: ov.runtime.host.statusCounts(w.ws, 'worker'),
      jobs: ov.runtime.host.statusCounts(w.ws, 'job'),
      queueDepth: w.queue.depthByPriority(),
    })),
  });
}

/**
 * `overseer serve`: the runtime with its HTTP API. On first start without a secret, one is written to
 * `<dataDir>/jwt-secret` and an admin token is printed, so a newcomer can try the API at once.
 */
export async function serve(
  flags: Record<string, unknown>,
  print: (line: string) => void,
): Promise<RunningServer> {
  const config = loadServerConfig(flags);
  const { secret, generated } = resolveJwtSecret(config, true);
  const { host, port, jwtSecret: _secret, rateLimit, ...runtimeConfig } = config;
  const logger = createLogger(config.logLevel);
  const ov = await createOverseer({ ...runtimeConfig, logger });
  let openapi: unknown;
  const app = buildHttpServer({
    dispatch: ov.runtime.dispatch,
    authenticator: new Authenticator({ secret }),
    logger,
    rateLimit,
    ready: () => true,
    openapi: () => (openapi ??= buildOpenApi()),
    sample: sampler(ov),
  });
  try {
    await app.listen({ host, port });
  } catch (err) {
    await ov.close();
    throw err;
  }
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host}:${bound}`;
  print(`Overseer listening on ${url} (data in ${config.dataDir}, durability ${config.durability})`);
  print(`API reference: ${url}/docs`);
  if (generated) {
    const token = await createToken(
      { secret },
      { sub: 'admin', workspaceId: 'default', scopes: ['admin'], ttlSeconds: 24 * 3600 },
    );
    print(
      `A JWT secret was created in ${config.dataDir}/jwt-secret. An admin token for 24 h (workspace 'default'; add ?workspaceId= for others):`,
    );
    print(token);
  }
  return {
    url,
    ov,
    async close() {
      await app.close();
      await ov.close();
    },
  };
}
