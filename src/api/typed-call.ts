import type { CommandOptions } from '../contracts/common.ts';
import type { Principal } from '../contracts/scopes.ts';
import type { AnyCommandDef } from './command.ts';
import type { CommandInput, CommandOutput, commands } from './commands.ts';
import type { Dispatch } from './dispatch.ts';

/** A call of one workspace typed by a command table: the input and answer types come from its schemas. */
export type TypedCall<T extends readonly AnyCommandDef[] = typeof commands> = <N extends T[number]['name']>(
  name: N,
  input: CommandInput<N, T>,
  options?: CommandOptions,
) => Promise<CommandOutput<N, T>>;

/** The typed call of a table over a dispatch function, in one workspace as one principal. */
export function typedCall<T extends readonly AnyCommandDef[] = typeof commands>(
  dispatch: Dispatch,
  workspaceId: string,
  principal: Principal,
): TypedCall<T> {
  // The one place the answer's type is asserted: dispatch answers what the command's output schema describes
  // (checked under Vitest, see createDispatch).
  return (name, input, options) =>
    dispatch(name, workspaceId, input, { principal, idempotencyKey: options?.idempotencyKey }) as Promise<
      CommandOutput<typeof name, T>
    >;
}
