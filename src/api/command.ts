import type { z } from 'zod';
import type { Scope } from '../contracts/scopes.ts';
import type { ActorHost } from '../actors/actor-host.ts';
import type { Tx } from '../actors/tx.ts';

/** What a command runs with. */
export interface CommandContext {
  host: ActorHost;
  ws: string;
  principal: string;
  idempotencyKey?: string | undefined;
  /**
   * Whether the caller only serializes the answer (HTTP, NATS), so a read may answer an object shared with other
   * callers (see read-cache.ts). Library callers get objects of their own.
   */
  sharedReads?: boolean;
}

/** One entry of the command table that the library, HTTP and NATS all dispatch through. */
export interface CommandDef<S extends z.ZodType = z.ZodType, O = unknown> {
  /** `<service>.<operation>`, e.g. `jobs.submit`; also the NATS subject suffix. */
  name: string;
  summary: string;
  input: S;
  /** Any one of these scopes opens the command (`admin` opens everything); none: any valid token. */
  scopes: readonly Scope[];
  /** Whether it changes state (and so takes an idempotency key). */
  mutates: boolean;
  run(ctx: CommandContext, input: z.output<S>): Promise<O>;
}

/** A read: runs against committed state. */
export function query<S extends z.ZodType, O>(
  name: string,
  scopes: readonly Scope[],
  input: S,
  summary: string,
  run: (ctx: CommandContext, input: z.output<S>) => Promise<O>,
): CommandDef<S, O> {
  return { name, summary, input, scopes, mutates: false, run };
}

/** A state change: one unit of work on the host, acknowledged after its commit is durable. */
export function mutation<S extends z.ZodType, O>(
  name: string,
  scopes: readonly Scope[],
  input: S,
  summary: string,
  apply: (tx: Tx, input: z.output<S>) => O,
  /** Runs after the commit is durable, before the caller gets its answer. */
  afterCommit?: (ctx: CommandContext, input: z.output<S>) => void,
): CommandDef<S, O> {
  return {
    name,
    summary,
    input,
    scopes,
    mutates: true,
    run: async (ctx, parsed) => {
      const answer = await ctx.host.execute(
        {
          ws: ctx.ws,
          command: name,
          principal: ctx.principal,
          idempotencyKey: ctx.idempotencyKey,
          payload: parsed,
        },
        (tx) => apply(tx, parsed),
      );
      afterCommit?.(ctx, parsed);
      return answer;
    },
  };
}
