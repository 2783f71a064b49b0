import { DEFAULT_REQUEST_TIMEOUT_MS, type Bus } from '../transport/bus.ts';
import { requestCommand } from '../transport/command-requests.ts';
import { commandNamed, unverifiedPrincipal, type CommandCaller } from './command-caller.ts';
import { parseWorkspaceId } from './validation.ts';

/** How long a forwarded command may take besides its own long-poll wait. */
export const FORWARD_TIMEOUT_MS = DEFAULT_REQUEST_TIMEOUT_MS;

/**
 * A gateway's caller: forwards every command over the bus to the data node, with the token and idempotency key
 * unchanged. It reads the token's claims only to pick the subject's workspace; the data node verifies the token,
 * checks scope and workspace, validates the input and answers.
 */
export function remoteCaller(bus: Bus): CommandCaller {
  return {
    authenticate: (token) => Promise.resolve(unverifiedPrincipal(token)),
    call(principal, command, input, options) {
      commandNamed(command);
      const admin = principal.scopes.includes('admin');
      // Parsed for everyone, as a data node does: an invalid `?workspaceId=` is VALIDATION_FAILED either way.
      const requested = options.workspaceId === undefined ? undefined : parseWorkspaceId(options.workspaceId);
      const ws = admin && requested !== undefined ? requested : principal.workspaceId;
      const wait = (input as { waitMs?: unknown } | null | undefined)?.waitMs;
      return requestCommand(bus, ws, command, input, {
        token: options.token,
        idempotencyKey: options.idempotencyKey,
        timeoutMs: FORWARD_TIMEOUT_MS + (typeof wait === 'number' && wait > 0 ? wait : 0),
      });
    },
  };
}
