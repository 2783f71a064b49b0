import { OverseerError } from '../core/errors.ts';
import type { ActorHost } from '../actors/actor-host.ts';
import type { ServiceEnv } from '../actors/settings.ts';
import { IdempotencyKeySchema } from '../contracts/common.ts';
import { commandTable } from './commands.ts';
import { parse, parseWorkspaceId } from './validation.ts';

/** How a caller runs a command. */
export interface DispatchOptions {
  principal: string;
  idempotencyKey?: string | undefined;
  /** The caller only serializes the answer: reads may share it (HTTP and NATS adapters). */
  sharedReads?: boolean;
}

/** Runs a command by name: the one entry every adapter (library, HTTP, NATS) goes through. */
export type Dispatch = (
  name: string,
  workspaceId: string,
  input: unknown,
  options: DispatchOptions,
) => Promise<unknown>;

export function createDispatch(host: ActorHost, env: ServiceEnv): Dispatch {
  return async (name, workspaceId, input, options) => {
    const command = commandTable.get(name);
    if (!command) throw new OverseerError('NOT_FOUND', `No command ${name}.`, { command: name });
    // Reads too: after close the store is gone, and LMDB would throw its own untyped error.
    if (host.isClosed) throw new OverseerError('STORAGE_UNAVAILABLE', 'The runtime is closed.');
    const ws = parseWorkspaceId(workspaceId);
    const parsed = parse(command.input, input ?? {});
    const idempotencyKey =
      options.idempotencyKey === undefined ? undefined : parseIdempotencyKey(options.idempotencyKey);
    return command.run(
      {
        host,
        env,
        ws,
        principal: options.principal,
        idempotencyKey: command.mutates ? idempotencyKey : undefined,
        sharedReads: options.sharedReads === true,
      },
      parsed,
    );
  };
}

/** The `Idempotency-Key` (a header over HTTP and NATS, an option in the library): 1 to 255 characters. */
function parseIdempotencyKey(key: string): string {
  if (IdempotencyKeySchema.safeParse(key).success) return key;
  throw new OverseerError(
    'VALIDATION_FAILED',
    `The Idempotency-Key must be 1 to 255 characters; this one has ${key.length}.`,
    { issues: [{ path: 'Idempotency-Key', message: `length ${key.length}, not 1 to 255` }] },
  );
}
