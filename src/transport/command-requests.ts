import type { Bus } from './bus.ts';
import { subjects } from './subjects.ts';

/** The headers a command request carries (the same names as over HTTP). */
export const COMMAND_HEADERS = { authorization: 'Authorization', idempotencyKey: 'Idempotency-Key' } as const;

/** How a command request is sent. */
export interface CommandRequestOptions {
  /** The bearer token, sent as `Authorization: Bearer <token>`. */
  token?: string | undefined;
  idempotencyKey?: string | undefined;
  timeoutMs?: number | undefined;
}

/**
 * Sends one command to whichever node serves it: a request on `overseer.cmd.<workspace>.<command>` with the token
 * and idempotency key as headers. Answers the command's result or rejects with its OverseerError (the node's
 * envelope), or with the Bus's STORAGE_UNAVAILABLE when nobody answered.
 */
export function requestCommand(
  bus: Bus,
  workspaceId: string,
  command: string,
  input: unknown,
  options: CommandRequestOptions = {},
): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers[COMMAND_HEADERS.authorization] = `Bearer ${options.token}`;
  if (options.idempotencyKey !== undefined) headers[COMMAND_HEADERS.idempotencyKey] = options.idempotencyKey;
  return bus.request(subjects.command(workspaceId, command), input, {
    headers,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}
