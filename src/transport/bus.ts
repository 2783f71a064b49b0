import { OverseerError, type ErrorCode } from '../core/errors.ts';

/** A subscription; `unsubscribe()` stops delivery. */
export interface Subscription {
  unsubscribe(): void;
}

/**
 * Receives one published event. A returned promise is awaited before the next event of the same
 * subscription is delivered (so events stay in order); a throw or rejection is logged, never propagated.
 */
export type EventHandler = (payload: unknown, subject: string) => void | Promise<void>;

/** Options of one request. */
export interface RequestOptions {
  headers?: Record<string, string>;
  /** How long to wait for the reply; {@link DEFAULT_REQUEST_TIMEOUT_MS} when absent. */
  timeoutMs?: number;
}

/** The timeout of a request that names none. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/** The largest request payload (its JSON, in UTF-8 bytes): the 512 KiB cap of DESIGN §7, as over HTTP. */
export const MAX_REQUEST_BYTES = 512 * 1024;

/**
 * Why a request failed without an answer from a handler: every case is `STORAGE_UNAVAILABLE` (retryable)
 * with `details.reason` set to one of these.
 * - `no_responders`: nobody serves the subject (NATS answers at once; the in-process bus knows at once);
 * - `timeout`: no answer within `timeoutMs`;
 * - `disconnected`: the connection stayed down for the whole timeout;
 * - `closed`: the bus was closed before, or while, the request was in flight.
 */
export type RequestFailure = 'no_responders' | 'timeout' | 'disconnected' | 'closed';

/** The error a request ends with when no handler answered it (see {@link RequestFailure}). */
export function requestFailed(
  reason: RequestFailure,
  subject: string,
  extra: Record<string, unknown> = {},
  cause?: unknown,
): OverseerError {
  const messages: Record<RequestFailure, string> = {
    no_responders: `Nobody serves ${subject}; retry when the owner node is up.`,
    timeout: `No answer on ${subject} in time; retry with the same idempotency key.`,
    disconnected: `The bus is disconnected; retry with the same idempotency key.`,
    closed: `The bus is closed; the request to ${subject} was not answered.`,
  };
  return new OverseerError(
    'STORAGE_UNAVAILABLE',
    messages[reason],
    { reason, subject, ...extra },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Carries commands (request/reply) and events (publish/subscribe) between actors, agents and nodes.
 * The in-process implementation is the default; a NATS one spans processes. Both behave the same from a
 * caller's side (tests/transport/bus-conformance.ts):
 * - `publish` never throws; delivery is at most once (a closed or disconnected bus drops the event);
 *   events from one publisher reach each subscriber in publish order; patterns use NATS wildcards
 *   (`*` one token, `>` the rest);
 * - request and reply payloads travel as JSON (a request above {@link MAX_REQUEST_BYTES} is refused with
 *   `PAYLOAD_TOO_LARGE` before it is sent); a request always settles: with the reply, with the handler's
 *   OverseerError, or with a {@link RequestFailure};
 * - `close()` rejects the requests still in flight and stops every subscription; `subscribe` and `request`
 *   on a closed bus fail with reason `closed`.
 *
 * Requests are answered by a data node's NATS command service (`nats-command-service.ts`), never by a Bus: in
 * one process a command is a function call through the dispatch, so the in-process bus answers every request
 * `no_responders`.
 */
export interface Bus {
  /** The largest message the transport carries (NATS: the server's `max_payload`); none for in-process. */
  readonly maxPayload?: number;
  publish(subject: string, payload: unknown): void;
  subscribe(pattern: string, handler: EventHandler): Subscription;
  request(subject: string, payload: unknown, options?: RequestOptions): Promise<unknown>;
  close(): Promise<void>;
}

/** The JSON text of a payload (`undefined` becomes the empty string); throws VALIDATION_FAILED if none. */
export function encodePayload(payload: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (cause) {
    throw new OverseerError('VALIDATION_FAILED', 'The payload cannot be encoded as JSON.', {}, { cause });
  }
  return text ?? '';
}

/** Parses a payload's JSON text; the empty string is `undefined`. Throws on malformed JSON. */
export function decodePayload(text: string): unknown {
  return text === '' ? undefined : JSON.parse(text);
}

/** Refuses a request payload above {@link MAX_REQUEST_BYTES}. */
export function checkRequestSize(subject: string, bytes: number): void {
  if (bytes > MAX_REQUEST_BYTES)
    throw new OverseerError('PAYLOAD_TOO_LARGE', undefined, { subject, bytes, limit: MAX_REQUEST_BYTES });
}

/**
 * The JSON error envelope a request handler's throw answers with: its OverseerError's, or INTERNAL's (no
 * stack, no message of a non-Overseer error); INTERNAL too when the details cannot be encoded.
 */
export function encodeError(err: unknown): { code: ErrorCode; text: string } {
  const error = err instanceof OverseerError ? err : new OverseerError('INTERNAL');
  try {
    return { code: error.code, text: encodePayload(error.toEnvelope()) };
  } catch {
    return { code: 'INTERNAL', text: encodePayload(new OverseerError('INTERNAL').toEnvelope()) };
  }
}
