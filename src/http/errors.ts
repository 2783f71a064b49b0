import { ErrorCodes, OverseerError, type ErrorCode, type ErrorEnvelope } from '../core/errors.ts';

/** Fastify's own error codes, in our table. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
};

/** Any thrown value as an OverseerError; unknown errors become INTERNAL (their stack stays in the log). */
export function toOverseerError(err: unknown): OverseerError {
  if (err instanceof OverseerError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped)
    return new OverseerError(
      mapped,
      mapped === 'VALIDATION_FAILED' ? `The body is not valid JSON: ${e.message ?? ''}`.trim() : undefined,
    );
  if (e.statusCode === 413) return new OverseerError('PAYLOAD_TOO_LARGE');
  if (e.statusCode === 415) return new OverseerError('UNSUPPORTED_MEDIA_TYPE');
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500)
    return new OverseerError('VALIDATION_FAILED', e.message);
  return new OverseerError('INTERNAL', undefined, {}, { cause: err });
}

/** A raw HTTP/1.1 response with the envelope, for errors Node answers before any route runs. */
export function rawErrorResponse(
  status: number,
  code: ErrorCode,
  message: string = ErrorCodes[code].message,
): string {
  const body = JSON.stringify({ error: { code, message, details: {} } } satisfies ErrorEnvelope);
  const reason = status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
