import type { z } from 'zod';
import type { ErrorCode } from '../core/errors.ts';
import type { Principal, Scope } from '../contracts/scopes.ts';
import type { ActorHost } from '../actors/actor-host.ts';
import type { Tx } from '../actors/tx.ts';
import type { CredentialMinter } from './auth.ts';
import { checkOwner, type Owner } from './ownership.ts';
import type { HttpRoute } from './route-input.ts';
import type { PhaseTokens } from './phase-tokens.ts';
import type { TokenKinds } from './token-kinds.ts';

/** What a command runs with. */
export interface CommandContext {
  host: ActorHost;
  ws: string;
  /** Who calls: checked against the command's scopes before it runs, and against its `owner` in its unit of work. */
  principal: Principal;
  /** Mints worker credentials (registering a worker, renewing its credential). */
  credentials: CredentialMinter;
  /** Mints phase and check tokens (claims of workflow jobs, transitions, refreshes). */
  phaseTokens: PhaseTokens;
  idempotencyKey?: string | undefined;
  /**
   * Whether the caller only serializes the answer (HTTP, NATS), so a read may answer an object shared with other
   * callers (see read-cache.ts). Library callers get objects of their own.
   */
  sharedReads?: boolean;
}

/**
 * The error codes a command names itself. Every other code is common to all commands (VALIDATION_FAILED,
 * NOT_FOUND, …) or follows from the transport (PAYLOAD_TOO_LARGE and UNSUPPORTED_MEDIA_TYPE from a method with a
 * body, IDEMPOTENCY_KEY_REUSED from `mutates`).
 */
export const COMMAND_ERROR_CODES = [
  'DEPENDENCY_CYCLE',
  'MAX_DEPTH_EXCEEDED',
  'INVALID_STATE_TRANSITION',
  'LEASE_LOST',
  'DEADLOCK_DETECTED',
  'QUOTA_EXCEEDED',
  'ALREADY_EXISTS',
  'NOT_YOUR_WORKER',
  'PHASE_TOKEN_INVALID',
  'PHASE_TOKEN_STALE',
  'WORKFLOW_NOT_FOUND',
  'WORKFLOW_INCOMPLETE',
] as const satisfies readonly ErrorCode[];

/** An error code a command names itself (see {@link COMMAND_ERROR_CODES}). */
export type CommandErrorCode = (typeof COMMAND_ERROR_CODES)[number];

/** Everything about one command except how it runs. */
export interface CommandSpec<N extends string, I extends z.ZodType, O extends z.ZodType> {
  /** `<service>.<operation>`, e.g. `jobs.submit`; also the NATS subject suffix. */
  name: N;
  summary: string;
  input: I;
  /** What it answers (a contract schema): OpenAPI's answer, the client's type, checked in tests. */
  output: O;
  /** Any one of these scopes opens the command (`admin` opens everything); none: any valid token. */
  scopes: readonly Scope[];
  /** The codes it may answer beyond the common ones. */
  errors?: readonly CommandErrorCode[];
  /** An example request body (without the path's id) for the documentation. */
  example?: unknown;
  /** Its HTTP routes (none: library and NATS only). */
  http?: readonly HttpRoute[];
  /**
   * What it acts on, for the ownership check (see `ownership.ts`); several: each must pass (a session opened on a
   * worker for a job); none: no check beyond scopes.
   */
  owner?: Owner | readonly Owner[];
  /** The phase and check tokens it takes (none: API tokens and worker credentials only; see `token-kinds.ts`). */
  tokens?: TokenKinds;
}

/** One entry of the command table that the library, HTTP and NATS all dispatch through. */
export interface CommandDef<
  N extends string = string,
  I extends z.ZodType = z.ZodType,
  O extends z.ZodType = z.ZodType,
> {
  name: N;
  summary: string;
  input: I;
  output: O;
  scopes: readonly Scope[];
  /** Whether it changes state (and so takes an idempotency key). */
  mutates: boolean;
  errors: readonly CommandErrorCode[];
  example: unknown;
  http: readonly HttpRoute[];
  owner: Owner | readonly Owner[] | undefined;
  tokens: TokenKinds | undefined;
  run(ctx: CommandContext, input: z.output<I>): Promise<z.output<O>>;
}

/** A command of any shape, as tables hold them. */
export type AnyCommandDef = CommandDef<string, z.ZodType, z.ZodType>;

/** Defines a command from its spec, whether it mutates, and how it runs. */
export function defineCommand<N extends string, I extends z.ZodType, O extends z.ZodType>(
  spec: CommandSpec<N, I, O> & {
    mutates: boolean;
    run: (ctx: CommandContext, input: z.output<I>) => Promise<z.output<O>>;
  },
): CommandDef<N, I, O> {
  return {
    name: spec.name,
    summary: spec.summary,
    input: spec.input,
    output: spec.output,
    scopes: spec.scopes,
    mutates: spec.mutates,
    errors: spec.errors ?? [],
    example: spec.example,
    http: spec.http ?? [],
    owner: spec.owner,
    tokens: spec.tokens,
    run: spec.run,
  };
}

/** A read: runs against committed state. */
export function query<N extends string, I extends z.ZodType, O extends z.ZodType>(
  spec: CommandSpec<N, I, O> & { run: (ctx: CommandContext, input: z.output<I>) => Promise<z.output<O>> },
): CommandDef<N, I, O> {
  return defineCommand({ ...spec, mutates: false });
}

/**
 * How a command hands out secrets that are never stored (lease tokens, credentials): its unit of work answers `S`,
 * the idempotency record keeps `stored(S)`, and the caller gets `reveal(S)` after the commit, replays included.
 */
export interface Secrets<S, A = S> {
  /** The answer as the idempotency record keeps it: without its secrets (default: as it is). */
  stored?: (answer: S) => S;
  /** The answer as the caller gets it: secrets added, or minted afresh for a replay (`input`: the command's). */
  reveal: (ctx: CommandContext, answer: S, input: unknown) => Promise<A>;
}

/** A state change: one unit of work on the host, acknowledged after its commit is durable. */
export function mutation<N extends string, I extends z.ZodType, O extends z.ZodType, S = z.output<O>>(
  spec: CommandSpec<N, I, O> & {
    /** The unit of work; it answers the command's output, or with `secrets` what `reveal` turns into it. */
    apply: (tx: Tx, input: z.output<I>) => S;
    /** Runs after the commit is durable, before the caller gets its answer. */
    afterCommit?: (ctx: CommandContext, input: z.output<I>) => void;
    secrets?: Secrets<S, z.output<O>>;
  },
): CommandDef<N, I, O> {
  const { name, apply, afterCommit, owner, secrets } = spec;
  return defineCommand({
    ...spec,
    mutates: true,
    run: async (ctx, parsed) => {
      const answer = await ctx.host.execute(
        {
          ws: ctx.ws,
          command: name,
          principal: ctx.principal.sub,
          idempotencyKey: ctx.idempotencyKey,
          payload: parsed,
          ...(secrets?.stored ? { recordAs: secrets.stored } : {}),
        },
        (tx) => {
          checkOwner(tx, ctx.principal, owner, parsed as Record<string, unknown>);
          return apply(tx, parsed);
        },
      );
      afterCommit?.(ctx, parsed);
      // Without `secrets`, S is the output (its default).
      return secrets ? secrets.reveal(ctx, answer, parsed) : (answer as z.output<O>);
    },
  });
}
