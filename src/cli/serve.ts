import type { ServerConfig } from '../contracts/server-config.ts';
import { OverseerError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { Authenticator, createToken } from '../api/auth.ts';
import { localCaller, subjectCommandHandler, type CommandCaller } from '../api/command-caller.ts';
import { commands } from '../api/commands.ts';
import { pageBudget } from '../api/page.ts';
import { remoteCaller } from '../api/remote-caller.ts';
import { buildHttpServer } from '../http/server.ts';
import { API_VERSION, buildOpenApi } from '../http/openapi.ts';
import { HttpMetrics, type RuntimeSample } from '../http/metrics.ts';
import { createOverseer, type Overseer } from '../index.ts';
import { NatsBus, splitCredentials } from '../transport/nats-bus.ts';
import { startNatsCommandService, type NatsCommandService } from '../transport/nats-command-service.ts';
import { loadServerConfig, resolveJwtSecret } from './config.ts';

/** What a started server exposes (for tests and the CLI). */
export interface RunningServer {
  url: string;
  log: Logger;
  /** The runtime (absent on a gateway, which holds no state). */
  ov: Overseer | undefined;
  /** The NATS connection, when the server uses NATS. */
  bus: NatsBus | undefined;
  close(): Promise<void>;
}

/** Samples the runtime for the Prometheus gauges. */
export function sampler(ov: Overseer | undefined, bus: NatsBus | undefined): () => RuntimeSample {
  return () => ({
    workspaces: ov
      ? [...ov.runtime.env.work.loaded()].map((w) => ({
          workspaceId: w.ws,
          workers: ov.runtime.host.statusCounts(w.ws, 'worker'),
          jobs: ov.runtime.host.statusCounts(w.ws, 'job'),
          queueDepth: w.queue.depthByPriority(),
        }))
      : [],
    ...(bus ? { bus: bus.metrics() } : {}),
  });
}

/** The NATS URLs without their credentials, for printing. */
const shown = (url: string): string => splitCredentials(natsServers(url)).servers.join(',');

const natsServers = (url: string): string[] =>
  url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * `overseer serve`: the runtime with its HTTP API and, with `--nats`, its command API over NATS (a data node);
 * with `--gateway --nats`, an HTTP API without state that forwards every command over NATS. On first start of a
 * data node without a secret, one is written to `<dataDir>/jwt-secret` and an admin token is printed, so a
 * newcomer can try the API at once.
 */
export async function serve(
  flags: Record<string, unknown>,
  print: (line: string) => void,
): Promise<RunningServer> {
  const config = loadServerConfig(flags);
  const logger = createLogger(config.logLevel);
  return config.gateway ? serveGateway(config, logger, print) : serveDataNode(config, logger, print);
}

async function serveDataNode(
  config: ServerConfig,
  logger: Logger,
  print: (line: string) => void,
): Promise<RunningServer> {
  const jwt = resolveJwtSecret(config, true);
  const { secret } = jwt;
  const {
    host: _h,
    port: _p,
    jwtSecret: _secret,
    rateLimit: _r,
    nats,
    gateway: _gateway,
    ...runtimeConfig
  } = config;
  const bus = nats
    ? await NatsBus.connect({
        servers: natsServers(nats),
        name: 'overseer-data-node',
        log: logger,
        reconnectTimeWaitMs: 250,
      })
    : undefined;
  let ov: Overseer | undefined;
  let service: NatsCommandService | undefined;
  const closeAll = async () => {
    await service?.stop();
    await ov?.close();
    await bus?.close();
  };
  let http: { close(): Promise<void> } | undefined;
  try {
    ov = await createOverseer({ ...runtimeConfig, logger, ...(bus ? { bus } : {}) });
    const caller = localCaller(ov.runtime.dispatch, new Authenticator({ secret }));
    const metrics = new HttpMetrics(sampler(ov, bus));
    // One answer budget for both transports of the node, so a page ends at the same item over HTTP and NATS.
    const maxAnswerBytes = pageBudget(bus?.maxPayload);
    if (bus)
      service = await startNatsCommandService({
        bus,
        commands,
        handle: subjectCommandHandler(caller, maxAnswerBytes),
        version: API_VERSION,
        metadata: { durability: config.durability },
        log: logger,
        observe: (command, seconds, code) =>
          metrics.natsCommands.observe({ command, outcome: code ?? 'ok' }, seconds),
      });
    const url = await listen(caller, metrics, config, logger, () => bus?.isConnected ?? true, maxAnswerBytes);
    http = url;
    print(`Overseer listening on ${url.url} (data in ${config.dataDir}, durability ${config.durability})`);
    if (nats) print(`Commands over NATS on overseer.cmd.<workspace>.<service>.<operation> (${shown(nats)})`);
    print(`API reference: ${url.url}/docs`);
    if (jwt.source === 'file')
      print(
        `JWT secret: ${jwt.path}. A token: overseer token create --data-dir ${config.dataDir} --workspace default --scopes admin --ttl 1h`,
      );
    if (jwt.source === 'new') {
      jwt.save();
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
      url: url.url,
      log: logger,
      ov,
      bus,
      async close() {
        // Parked long-polls answer now; otherwise closing HTTP would wait for each of them to time out.
        ov?.runtime.endWaits();
        await url.close();
        await closeAll();
      },
    };
  } catch (err) {
    // Something after listening failed (the secret could not be written): nothing may keep serving.
    await http?.close();
    await closeAll();
    throw err;
  }
}

async function serveGateway(
  config: ServerConfig,
  logger: Logger,
  print: (line: string) => void,
): Promise<RunningServer> {
  if (!config.nats)
    throw new OverseerError('VALIDATION_FAILED', 'A gateway needs a NATS server: --gateway --nats <url>.');
  const bus = await NatsBus.connect({
    servers: natsServers(config.nats),
    name: 'overseer-gateway',
    log: logger,
  });
  try {
    const metrics = new HttpMetrics(sampler(undefined, bus));
    const url = await listen(
      remoteCaller(bus),
      metrics,
      config,
      logger,
      () => bus.isConnected,
      pageBudget(bus.maxPayload),
    );
    print(
      `Overseer gateway listening on ${url.url}, forwarding every command over NATS (${shown(config.nats)})`,
    );
    print(`API reference: ${url.url}/docs`);
    return {
      url: url.url,
      log: logger,
      ov: undefined,
      bus,
      async close() {
        await url.close();
        await bus.close();
      },
    };
  } catch (err) {
    await bus.close();
    throw err;
  }
}

/** Starts the HTTP API on the config's host and port; answers its URL. */
async function listen(
  caller: CommandCaller,
  metrics: HttpMetrics,
  config: ServerConfig,
  logger: Logger,
  ready: () => boolean,
  maxAnswerBytes: number,
): Promise<{ url: string; close(): Promise<void> }> {
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
