import type { z } from 'zod';
import type { AnyCommandDef } from './command.ts';
import { jobCommands } from './commands/jobs.ts';
import { queueCommands } from './commands/queue.ts';
import { resourceCommands } from './commands/resources.ts';
import { sessionCommands } from './commands/sessions.ts';
import { supervisorCommands } from './commands/supervisor.ts';
import { workerCommands } from './commands/workers.ts';
import { workflowCommands } from './commands/workflows.ts';
import { workflowPhaseCommands } from './commands/workflow.ts';
import { evidenceCommands } from './commands/evidence.ts';
import { workflowContractCommand } from './commands/workflow-contract.ts';
import { workstreamCommands } from './commands/workstreams.ts';

/**
 * Every command of the runtime, each defined once (`commands/<service>.ts`): HTTP routes, the OpenAPI document,
 * the Postman collection, NATS endpoints and the library client's types are all derived from this table.
 */
export const commands = [
  ...jobCommands,
  ...queueCommands,
  ...resourceCommands,
  ...workerCommands,
  ...sessionCommands,
  ...workstreamCommands,
  ...supervisorCommands,
  ...workflowCommands,
  ...workflowPhaseCommands,
  ...evidenceCommands,
  workflowContractCommand,
] as const satisfies readonly AnyCommandDef[];

/** Command names. */
export type CommandName = (typeof commands)[number]['name'];

/** The definition of a command of `T` by name. */
export type CommandOf<T extends readonly AnyCommandDef[], N extends T[number]['name']> = Extract<
  T[number],
  { name: N }
>;
/** What a command of `T` takes (before defaults). */
export type CommandInput<
  N extends T[number]['name'],
  T extends readonly AnyCommandDef[] = typeof commands,
> = z.input<CommandOf<T, N>['input']>;
/** What a command of `T` answers. */
export type CommandOutput<
  N extends T[number]['name'],
  T extends readonly AnyCommandDef[] = typeof commands,
> = z.output<CommandOf<T, N>['output']>;

/** A table by name. */
export function tableOf(list: readonly AnyCommandDef[]): ReadonlyMap<string, AnyCommandDef> {
  const table = new Map<string, AnyCommandDef>();
  for (const c of list) {
    if (table.has(c.name)) throw new Error(`two commands are named ${c.name}`);
    table.set(c.name, c);
  }
  return table;
}

/** The table by name. */
export const commandTable: ReadonlyMap<string, AnyCommandDef> = tableOf(commands);
