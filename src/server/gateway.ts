import { ServerConfigSchema, type ServerConfig, type ServerConfigInput } from '../contracts/server-config.ts';
import { OverseerError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { pageBudget } from '../api/page.ts';
import { remoteCaller } from '../api/remote-caller.ts';
import { parse } from '../api/validation.ts';
import { HttpMetrics } from '../http/metrics.ts';
import { NatsBus } from '../transport/nats-bus.ts';
import { listenHttp } from './http-listener.ts';
import { natsServers } from './nats-servers.ts';
import { runtimeSampler } from './runtime-sampler.ts';

/** Options of {@link startGateway}: the server config with `nats` required, and an optional logger. */
export interface GatewayOptions extends Omit<ServerConfigInput, 'gateway'> {
  /** NATS server URL(s), comma-separated, where the data node serves its commands. */
  nats: string;
  /** A pino logger. Default: JSON to stdout at `logLevel`. */
  logger?: Logger;
}

/** A running gateway. */
export interface Gateway {
  /** The HTTP API's base URL, with the port actually bound. */
  readonly url: string;
  /** The validated config the gateway runs with. */
  readonly config: ServerConfig;
  readonly log: Logger;
  /** The NATS connection every command is forwarded over. */
  readonly bus: NatsBus;
  /** Stops HTTP, then closes the NATS connection. */
  close(): Promise<void>;
}

/**
 * Starts a gateway: an HTTP API without state that forwards every command, token and idempotency key unchanged,
 * over NATS to the data node, which authenticates and answers.
 *
 * @example
 * ```ts
 * import { startGateway } from 'overseer/server';
 * const gateway = await startGateway({ nats: 'nats://127.0.0.1:4222', port: 8081 });
 * ```
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { logger: givenLogger, ...raw } = options;
  if (!raw.nats)
    throw new OverseerError('VALIDATION_FAILED', 'A gateway needs a NATS server: --gateway --nats <url>.');
  const config = parse(ServerConfigSchema, raw);
  const logger = givenLogger ?? createLogger(config.logLevel);
  const bus = await NatsBus.connect({
    servers: natsServers(raw.nats),
    name: 'overseer-gateway',
    log: logger,
  });
  try {
    const http = await listenHttp({
      caller: remoteCaller(bus),
      metrics: new HttpMetrics(runtimeSampler(undefined, bus)),
      config,
      logger,
      ready: () => bus.isConnected,
      maxAnswerBytes: pageBudget(bus.maxPayload),
    });
    return {
      url: http.url,
      config,
      log: logger,
      bus,
      async close() {
        await http.close();
        await bus.close();
      },
    };
  } catch (err) {
    await bus.close();
    throw err;
  }
}
