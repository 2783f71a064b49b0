import { z } from 'zod';
import { OverseerError } from '../core/errors.ts';
import type { ActorHost } from '../actors/actor-host.ts';
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

/** The key checked under its header's name, so a bad one is reported as `Invalid Idempotency-Key: …`. */
const IdempotencyKeyHeader = z.object({ 'Idempotency-Key': IdempotencyKeySchema });

export function createDispatch(host: ActorHost): Dispatch {
  return async (name, workspaceId, input, options) => {
    const command = commandTable.get(name);
    if (!command) throw new OverseerError('NOT_FOUND', `No command ${name}.`, { command: name });
    // Reads too: after close the store is gone, and LMDB would throw its own untyped error.
    if (host.isClosed) throw new OverseerError('STORAGE_UNAVAILABLE', 'The runtime is closed.');
    const ws = parseWorkspaceId(workspaceId);
    const parsed = parse(command.input, input ?? {});
    const idempotencyKey =
      options.idempotencyKey === undefined
        ? undefined
        : parse(IdempotencyKeyHeader, { 'Idempotency-Key': options.idempotencyKey })['Idempotency-Key'];
    return command.run(
      {
        host,
        ws,
        principal: options.principal,
        idempotencyKey: command.mutates ? idempotencyKey : undefined,
        sharedReads: options.sharedReads === true,
      },
      parsed,
    );
  };
}
