import {
  headers as natsHeaders,
  ClosedConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  InvalidSubjectError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  type Msg,
  type MsgHdrs,
} from '@nats-io/transport-node';
import { OverseerError, type ErrorEnvelope } from '../core/errors.ts';
import { decodePayload, requestFailed } from './bus.ts';

/** The header a command's error reply carries: the HTTP status of its code (NATS services style). */
export const SERVICE_ERROR_CODE_HEADER = 'Nats-Service-Error-Code';
/** The header that carries the error's code. */
export const SERVICE_ERROR_HEADER = 'Nats-Service-Error';

/** Headers for a NATS message (none when empty); an invalid name or value is VALIDATION_FAILED. */
export function toNatsHeaders(headers: Record<string, string> | undefined): MsgHdrs | undefined {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return undefined;
  const h = natsHeaders();
  try {
    for (const [name, value] of entries) h.set(name, value);
  } catch (cause) {
    throw new OverseerError('VALIDATION_FAILED', 'A header name or value is invalid.', {}, { cause });
  }
  return h;
}

/** The headers of a message with lower-cased names, as a request handler sees them. */
export function fromNatsHeaders(headers: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const name of headers.keys()) out[name.toLowerCase()] = headers.get(name);
  return out;
}

/** A reply's JSON, or the OverseerError of its error envelope when it carries the service-error header. */
export function decodeReply(subject: string, msg: Msg): unknown {
  let body: unknown;
  try {
    body = decodePayload(msg.string());
  } catch {
    throw new OverseerError('INTERNAL', `The reply on ${subject} is not JSON.`, { subject });
  }
  const status = msg.headers?.get(SERVICE_ERROR_CODE_HEADER);
  if (!status) return body;
  if (isEnvelope(body)) throw OverseerError.fromEnvelope(body);
  throw new OverseerError('INTERNAL', msg.headers?.get(SERVICE_ERROR_HEADER) || `The responder failed.`, {
    subject,
    status,
  });
}

function isEnvelope(value: unknown): value is ErrorEnvelope {
  const error = (value as { error?: unknown } | undefined)?.error as Record<string, unknown> | undefined;
  return typeof error?.['code'] === 'string' && typeof error['message'] === 'string';
}

/** Maps what nats.js throws to the Bus's errors (see RequestFailure in bus.ts). */
export function toOverseerError(err: unknown, subject: string, timeoutMs: number): OverseerError {
  if (err instanceof OverseerError) return err;
  if (err instanceof TimeoutError) return requestFailed('timeout', subject, { timeoutMs }, err);
  if (err instanceof RequestError && err.isNoResponders())
    return requestFailed('no_responders', subject, {}, err);
  if (err instanceof ClosedConnectionError || err instanceof DrainingConnectionError)
    return requestFailed('closed', subject, {}, err);
  if (err instanceof RequestError && err.message.includes('closed'))
    return requestFailed('closed', subject, {}, err);
  if (err instanceof PermissionViolationError)
    return new OverseerError('NOT_FOUND', `No such subject: ${subject}.`, { subject }, { cause: err });
  if (err instanceof InvalidSubjectError || err instanceof InvalidArgumentError)
    return new OverseerError('VALIDATION_FAILED', err.message, { subject }, { cause: err });
  return requestFailed('disconnected', subject, { error: String(err) }, err);
}
