import { ServerConfigSchema, type ServerConfig, type ServerConfigInput } from '../contracts/server-config.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { createToken } from '../api/auth.ts';
import { localCaller, subjectCommandHandler } from '../api/command-caller.ts';
import { commands } from '../api/commands.ts';
import { pageBudget } from '../api/page.ts';
import { parse } from '../api/validation.ts';
import { HttpMetrics } from '../http/metrics.ts';
import { API_VERSION } from '../http/openapi.ts';
import { createOverseer, type Overseer } from '../index.ts';
import { NatsBus } from '../transport/nats-bus.ts';
import { startNatsCommandService, type NatsCommandService } from '../transport/nats-command-service.ts';
import { listenHttp, type HttpListener } from './http-listener.ts';
import { resolveJwtSecret, type JwtSecretSource } from './jwt-secret.ts';
import { natsServers } from './nats-servers.ts';
import { runtimeSampler } from './runtime-sampler.ts';

/** Options of {@link startDataNode}: the server config (as in `overseer.config.yaml`) and an optional logger. */
export interface DataNodeOptions extends Omit<ServerConfigInput, 'gateway'> {
  /** A pino logger. Default: JSON to stdout at `logLevel`. */
  logger?: Logger;
}

/** A running data node. */
export interface DataNode {
  /** The HTTP API's base URL, with the port actually bound (`port: 0` picks a free one). */
  readonly url: string;
  /** The validated config the node runs with. */
  readonly config: ServerConfig;
  readonly log: Logger;
  /** The runtime, for library calls in the same process. */
  readonly overseer: Overseer;
  /** The NATS connection, when the node serves commands over NATS (`nats` set). */
  readonly bus: NatsBus | undefined;
  /** Where the JWT secret came from and where a file secret lives (`<dataDir>/jwt-secret`). */
  readonly jwtSecret: { readonly source: JwtSecretSource; readonly path: string };
  /** An admin token of workspace `default` for 24 h, minted when this start created the JWT secret. */
  readonly adminToken: string | undefined;
  /** Answers parked long-polls, stops HTTP, the NATS service, the runtime and the bus, in that order. */
  close(): Promise<void>;
}

/** How long the admin token of a first start lives. */
const ADMIN_TOKEN_TTL_SECONDS = 24 * 3600;

/**
 * Starts a data node: the runtime on `dataDir`, its HTTP API (with `/metrics`) and, with `nats`, its command API
 * over NATS. Without a JWT secret in the config, the node uses `<dataDir>/jwt-secret`, and creates it (mode 0600)
 * on first start, once it listens, with an admin token in `adminToken`.
 *
 * @example
 * ```ts
 * import { startDataNode } from 'overseer/server';
 * const node = await startDataNode({ dataDir: '.overseer', port: 0 });
 * console.log(node.url, node.adminToken);
 * await node.close();
 * ```
 */
export async function startDataNode(options: DataNodeOptions = {}): Promise<DataNode> {
  const { logger: givenLogger, ...raw } = options;
  const config = parse(ServerConfigSchema, raw);
  const logger = givenLogger ?? createLogger(config.logLevel);
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
  let http: HttpListener | undefined;
  const closeAll = async () => {
    await service?.stop();
    await ov?.close();
    await bus?.close();
  };
  try {
    ov = await createOverseer({ ...runtimeConfig, logger, tokenSecret: secret, ...(bus ? { bus } : {}) });
    const caller = localCaller(ov.runtime.dispatch, ov.runtime.authenticator);
    const metrics = new HttpMetrics(runtimeSampler(ov.runtime, bus));
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
    http = await listenHttp({
      caller,
      metrics,
      config,
      logger,
      ready: () => bus?.isConnected ?? true,
      maxAnswerBytes,
    });
    let adminToken: string | undefined;
    if (jwt.source === 'new') {
      // Written once the node listens: a start that fails before (a port in use) leaves no secret behind, so the
      // next start creates one and hands out its admin token. On disk before the token leaves this function.
      jwt.save();
      adminToken = await createToken(
        { secret },
        { sub: 'admin', workspaceId: 'default', scopes: ['admin'], ttlSeconds: ADMIN_TOKEN_TTL_SECONDS },
      );
    }
    const [overseer, listener] = [ov, http];
    return {
      url: listener.url,
      config,
      log: logger,
      overseer,
      bus,
      jwtSecret: { source: jwt.source, path: jwt.path },
      adminToken,
      async close() {
        // Parked long-polls answer now; otherwise closing HTTP would wait for each of them to time out.
        overseer.runtime.endWaits();
        await listener.close();
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
