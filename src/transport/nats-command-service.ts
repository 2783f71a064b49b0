import { Svcm, type Service, type ServiceMsg } from '@nats-io/services';
import { ErrorCodes, OverseerError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { checkRequestSize, decodePayload, encodeError } from './bus.ts';
import type { NatsBus } from './nats-bus.ts';
import { fromNatsHeaders } from './nats-messages.ts';
import { subjects } from './subjects.ts';

/** The NATS service name every data node registers (`$SRV.PING.overseer`). */
export const SERVICE_NAME = 'overseer';
/** The queue group of every endpoint, as the services framework defaults it. */
export const SERVICE_QUEUE = 'q';

/** One command served as an endpoint. */
export interface CommandEndpoint {
  /** `<service>.<operation>`, e.g. `jobs.submit`. */
  name: string;
  summary: string;
}

/** How a command is served: the framework's endpoint name, its subject (any workspace) and its metadata. */
export interface EndpointSpec {
  command: string;
  /** `jobs_submit` for `jobs.submit`. */
  name: string;
  subject: string;
  metadata: { command: string; summary: string };
}

/** The endpoints of a command table, one per command, in table order. */
export function endpointsOf(commands: readonly CommandEndpoint[]): EndpointSpec[] {
  return commands.map((c) => ({
    command: c.name,
    name: c.name.replace('.', '_'),
    subject: subjects.commandEndpoint(c.name),
    metadata: { command: c.name, summary: c.summary },
  }));
}

/**
 * Runs one command and answers the reply's JSON text: the workspace comes from the subject, headers arrive
 * lower-cased. Throwing an OverseerError answers its envelope; anything else answers INTERNAL.
 */
export type CommandHandler = (
  command: string,
  workspaceId: string,
  payload: unknown,
  headers: Readonly<Record<string, string>>,
) => Promise<string>;

/** Options of {@link startNatsCommandService}. */
export interface NatsCommandServiceOptions {
  bus: NatsBus;
  commands: readonly CommandEndpoint[];
  handle: CommandHandler;
  /** The service version (semver), shown by `$SRV.INFO`. */
  version: string;
  /** Shown in `$SRV.INFO` metadata. */
  metadata?: Record<string, string>;
  log?: Logger;
  /** Called once per answered request with its latency and, on an error, its code (the `/metrics` histogram). */
  observe?: (command: string, seconds: number, errorCode: string | undefined) => void;
  /** Requests handled at once; beyond, RATE_LIMITED (default 10,000). */
  maxInFlight?: number;
  /** How long `stop()` lets running handlers finish (default 2,000 ms). */
  stopGraceMs?: number;
}

/** Our own counts per endpoint: the framework counts only synchronous work, so `$SRV.STATS` carries these. */
interface EndpointCounts {
  requests: number;
  errors: number;
  seconds: number;
  lastError: string | undefined;
}

/** A running command service. */
export interface NatsCommandService {
  /** The service instance id (`$SRV.PING` answers it). */
  readonly id: string;
  /** Requests being handled now. */
  readonly inFlight: number;
  /** Stops answering: unsubscribes the endpoints, then waits for running handlers (up to the grace). */
  stop(): Promise<void>;
}

/** The subject of a command endpoint: any workspace. */
export const endpointSubject = subjects.commandEndpoint;

/** The standard fields of an endpoint's `$SRV.STATS` entry, as the framework keeps them (nanoseconds). */
interface StandardEndpointStats {
  num_requests: number;
  num_errors: number;
  last_error: string | undefined;
  processing_time: number;
  average_processing_time: number;
}

/**
 * Serves every command on `overseer.cmd.<workspace>.<command>` through the NATS services framework (service
 * `overseer`, one endpoint per command, queue group `q`), so `$SRV.PING|INFO|STATS.overseer` list it.
 *
 * The framework does not await async handlers; each handler here is wrapped so that it always answers: the result
 * as JSON, or the error envelope with `Nats-Service-Error-Code` (the HTTP status) and `Nats-Service-Error` (the
 * code). Latency and errors are counted here and reported in each endpoint's `data` of `$SRV.STATS` and in its
 * standard fields (`num_requests`, `num_errors`, `last_error`, `average_processing_time`).
 *
 * Refuses to start (DATA_DIR_LOCKED, `details.reason: 'service_running'`) when `$SRV.PING.overseer` already
 * answers: the endpoints share queue group `q`, so a second data node would silently split commands between two
 * stores.
 */
export async function startNatsCommandService(
  options: NatsCommandServiceOptions,
): Promise<NatsCommandService> {
  const nc = options.bus.connection;
  const log = options.log?.child({ component: 'nats-service' });
  const maxInFlight = options.maxInFlight ?? 10_000;
  const stopGraceMs = options.stopGraceMs ?? 2_000;
  const running = await pingService(options.bus);
  if (running.length > 0)
    throw new OverseerError(
      'DATA_DIR_LOCKED',
      `Another data node already serves '${SERVICE_NAME}' on this NATS (instance ${running.join(', ')}); ` +
        'one data node per NATS account: start this one as a gateway (--gateway) or stop the other.',
      { reason: 'service_running', instances: running },
    );

  const counts = new Map<string, EndpointCounts>();
  const handling = new Set<Promise<void>>();
  const service: Service = await new Svcm(nc).add({
    name: SERVICE_NAME,
    version: options.version,
    description: 'Overseer command API: one endpoint per command, payloads and answers as over HTTP.',
    queue: SERVICE_QUEUE,
    ...(options.metadata ? { metadata: options.metadata } : {}),
    statsHandler: (endpoint) => {
      const c = counts.get(endpoint.subject);
      // The framework counts a request when the handler returns (before the answer) and an error only when it
      // throws; ours answers errors in the envelope and never throws. Its standard fields, which `nats micro`
      // and other tooling read, get our counts instead.
      const standard = (endpoint as { stats?: StandardEndpointStats }).stats;
      if (c && standard) {
        standard.num_requests = c.requests;
        standard.num_errors = c.errors;
        standard.last_error = c.lastError;
        standard.processing_time = Math.round(c.seconds * 1e9);
        standard.average_processing_time =
          c.requests === 0 ? 0 : Math.round(standard.processing_time / c.requests);
      }
      return Promise.resolve(
        c && {
          requests: c.requests,
          errors: c.errors,
          average_ms: c.requests === 0 ? 0 : (c.seconds * 1000) / c.requests,
          ...(c.lastError === undefined ? {} : { last_error: c.lastError }),
        },
      );
    },
  });

  const answer = async (command: string, counted: EndpointCounts, msg: ServiceMsg): Promise<void> => {
    const started = performance.now();
    let errorCode: string | undefined;
    try {
      const reply = await run(command, msg);
      respond(msg, reply);
    } catch (err) {
      if (!(err instanceof OverseerError)) log?.error({ err, subject: msg.subject }, 'command handler threw');
      const { code, text } = encodeError(err);
      errorCode = code;
      counted.errors++;
      counted.lastError = code;
      respondError(msg, code, text);
    } finally {
      const seconds = (performance.now() - started) / 1000;
      counted.requests++;
      counted.seconds += seconds;
      try {
        options.observe?.(command, seconds, errorCode);
      } catch (err) {
        log?.warn({ err }, 'command latency observer threw');
      }
    }
  };

  const run = async (command: string, msg: ServiceMsg): Promise<string> => {
    checkRequestSize(msg.subject, msg.data.length);
    let payload: unknown;
    try {
      payload = decodePayload(msg.string());
    } catch {
      throw new OverseerError('VALIDATION_FAILED', 'The request payload is not JSON.');
    }
    const workspaceId = subjects.workspaceOf(msg.subject);
    const text = await options.handle(command, workspaceId, payload, fromNatsHeaders(msg.headers));
    const limit = options.bus.maxPayload;
    if (Buffer.byteLength(text) > limit)
      throw new OverseerError('PAYLOAD_TOO_LARGE', 'The answer exceeds the NATS server max_payload.', {
        limit,
      });
    return text;
  };

  for (const { command: name, name: endpoint, subject, metadata } of endpointsOf(options.commands)) {
    const counted: EndpointCounts = { requests: 0, errors: 0, seconds: 0, lastError: undefined };
    counts.set(subject, counted);
    service.addEndpoint(endpoint, {
      subject,
      metadata,
      handler: (err, msg) => {
        if (err) {
          log?.error({ err, command: name }, 'endpoint subscription failed');
          return;
        }
        if (!msg.reply) return;
        if (!replyAllowed(msg.subject, msg.reply)) {
          // nats-server does not check a reply subject against the sender's permissions: answering
          // `overseer.evt.beta.…` or `_INBOX_beta.…` for a caller of workspace acme would let it inject messages.
          counted.requests++;
          counted.errors++;
          counted.lastError = 'REPLY_SUBJECT_REFUSED';
          log?.warn(
            { subject: msg.subject, reply: msg.reply },
            'request with a foreign reply subject dropped',
          );
          return;
        }
        if (handling.size >= maxInFlight) {
          counted.requests++;
          counted.errors++;
          const { code, text } = encodeError(
            new OverseerError('RATE_LIMITED', 'This node is handling too many commands; retry shortly.', {
              retryAfterSeconds: 1,
              inFlight: handling.size,
            }),
          );
          respondError(msg, code, text);
          try {
            options.observe?.(name, 0, code);
          } catch (err) {
            log?.warn({ err }, 'command latency observer threw');
          }
          return;
        }
        const p = answer(name, counted, msg);
        handling.add(p);
        void p.finally(() => handling.delete(p));
      },
    });
  }
  // The endpoints' SUBs must reach the server before the node says it is ready.
  await nc.flush();
  log?.info({ id: service.info().id, endpoints: options.commands.length }, 'NATS command service started');

  let stopping: Promise<void> | undefined;
  return {
    id: service.info().id,
    get inFlight() {
      return handling.size;
    },
    stop() {
      stopping ??= (async () => {
        await service.stop().catch((err: unknown) => log?.warn({ err }, 'service stop failed'));
        const grace = new Promise<void>((resolve) => setTimeout(resolve, stopGraceMs).unref());
        await Promise.race([Promise.allSettled([...handling]), grace]);
      })();
      return stopping;
    },
  };

  function respond(msg: ServiceMsg, text: string): void {
    try {
      // A Buffer, not the string: nats.js encodes strings with TextEncoder, about 6x slower for these sizes.
      msg.respond(Buffer.from(text));
    } catch (err) {
      log?.warn({ err, subject: msg.subject }, 'could not answer a command');
    }
  }

  function respondError(msg: ServiceMsg, code: keyof typeof ErrorCodes, text: string): void {
    try {
      msg.respondError(ErrorCodes[code].status, code, Buffer.from(text));
    } catch (err) {
      log?.warn({ err, subject: msg.subject }, 'could not answer a command');
    }
  }
}

/**
 * Whether a command may be answered on `reply`: only an inbox, either the shared `_INBOX.` (unfenced clients,
 * gateways) or the inbox prefix of the subject's own workspace (`_INBOX_<workspace>.`).
 */
export function replyAllowed(subject: string, reply: string): boolean {
  if (reply.startsWith(`${subjects.sharedInbox}.`)) return true;
  const ws = subjects.workspaceOf(subject);
  return ws !== '' && reply.startsWith(`${subjects.workspaceInbox(ws)}.`);
}

/** The instance ids that answer `$SRV.PING.overseer` within `timeoutMs` (none: nobody serves it). */
export async function pingService(bus: NatsBus, timeoutMs = 500): Promise<string[]> {
  const nc = bus.connection;
  const ids: string[] = [];
  try {
    const replies = await nc.requestMany(subjects.servicePing(SERVICE_NAME), '', {
      maxWait: timeoutMs,
      strategy: 'timer',
    });
    for await (const reply of replies) {
      if (reply.data.length === 0) break;
      const id = reply.json<{ id?: unknown }>().id;
      if (typeof id === 'string') ids.push(id);
    }
  } catch {
    // No responders: nobody serves it.
  }
  return ids;
}
