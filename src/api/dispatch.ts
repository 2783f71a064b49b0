import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { OverseerError } from '../core/errors.ts';
import type { ActorHost } from '../actors/actor-host.ts';
import { IdempotencyKeySchema } from '../contracts/common.ts';
import type { Principal } from '../contracts/scopes.ts';
import { Authenticator, authorize, unlessRevoked, type CredentialMinter } from './auth.ts';
import type { AnyCommandDef } from './command.ts';
import { commands, tableOf } from './commands.ts';
import { parse, parseWorkspaceId } from './validation.ts';
import { PhaseTokens } from './phase-tokens.ts';
import { admitTokenKind } from './token-kinds.ts';

/** How a caller runs a command. */
export interface DispatchOptions {
  principal: Principal;
  idempotencyKey?: string | undefined;
  /** The caller only serializes the answer: reads may share it (HTTP and NATS adapters). */
  sharedReads?: boolean;
}

/**
 * Runs a command by name: the one entry every adapter (library, HTTP, NATS) goes through. Called directly (the
 * library), it checks the principal's scopes itself; adapters authorize first and call `run`.
 */
export interface Dispatch {
  (name: string, workspaceId: string, input: unknown, options: DispatchOptions): Promise<unknown>;
  /** The command of this table named `name`, or NOT_FOUND. */
  command(name: string): AnyCommandDef;
  /**
   * Runs a command already looked up with {@link Dispatch.command}, in a workspace already checked (an adapter
   * that authorized the call), so neither is done twice.
   */
  run(command: AnyCommandDef, ws: string, input: unknown, options: DispatchOptions): Promise<unknown>;
}

/** Options of {@link createDispatch}. */
export interface DispatchConfig {
  /** The commands (default: the runtime's table). */
  commands?: readonly AnyCommandDef[];
  /**
   * Parse every answer with its command's output schema and throw when it does not fit. On under Vitest (so the
   * schemas the documentation shows are checked by every test), off in production and benchmarks.
   */
  checkAnswers?: boolean;
  /** Mints worker credentials (default: an authenticator with a random secret of its own, for tests). */
  credentials?: CredentialMinter;
  /** Mints phase and check tokens (default: the authenticator's, when `credentials` is one; else a random secret). */
  phaseTokens?: PhaseTokens;
}

/** The key checked under its header's name, so a bad one is reported as `Invalid Idempotency-Key: …`. */
const IdempotencyKeyHeader = z.object({ 'Idempotency-Key': IdempotencyKeySchema });

/** The answer, when it fits its command's output schema. */
function checked(command: AnyCommandDef, answer: unknown): unknown {
  const result = command.output.safeParse(answer);
  if (result.success) return answer;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`${command.name} answered outside its output schema: ${issues.join('; ')}`);
}

/** The dispatch function of a host: looks the command up, validates the call and runs it. */
export function createDispatch(host: ActorHost, config: DispatchConfig = {}): Dispatch {
  const table = tableOf(config.commands ?? commands);
  const checkAnswers = config.checkAnswers ?? process.env['VITEST'] !== undefined;
  const credentials = config.credentials ?? new Authenticator({ secret: randomBytes(32) });
  const phaseTokens =
    config.phaseTokens ??
    (credentials instanceof Authenticator
      ? credentials.phaseTokens
      : new PhaseTokens({ secret: randomBytes(32) }));
  const revoked = (ws: string, workerId: string) => credentials.isRevoked(ws, workerId);
  const command = (name: string): AnyCommandDef => {
    const def = table.get(name);
    if (!def) throw new OverseerError('NOT_FOUND', `No command ${name}.`, { command: name });
    return def;
  };
  const run = async (
    def: AnyCommandDef,
    ws: string,
    input: unknown,
    options: DispatchOptions,
  ): Promise<unknown> => {
    // Reads too: after close the store is gone, and LMDB would throw its own untyped error.
    if (host.isClosed) throw new OverseerError('STORAGE_UNAVAILABLE', 'The runtime is closed.');
    const parsed = parse(def.input, input ?? {});
    const idempotencyKey =
      options.idempotencyKey === undefined
        ? undefined
        : parse(IdempotencyKeyHeader, { 'Idempotency-Key': options.idempotencyKey })['Idempotency-Key'];
    const answer = def.run(
      {
        host,
        ws,
        principal: options.principal,
        credentials,
        phaseTokens,
        idempotencyKey: def.mutates ? idempotencyKey : undefined,
        sharedReads: options.sharedReads === true,
      },
      parsed,
    );
    return checkAnswers ? checked(def, await answer) : answer;
  };
  // Not async: over `run`'s own promise it adds none on the hot path.
  const dispatch = (name: string, workspaceId: string, input: unknown, options: DispatchOptions) => {
    let def: AnyCommandDef;
    let ws: string;
    try {
      def = command(name);
      if (host.isClosed) throw new OverseerError('STORAGE_UNAVAILABLE', 'The runtime is closed.');
      ws = parseWorkspaceId(workspaceId);
      // A library caller holds a principal, not a token: revocation is checked here instead of at authentication.
      unlessRevoked(options.principal, revoked);
      const byToken = admitTokenKind(options.principal, def);
      if ((byToken ? options.principal.workspaceId : authorize(options.principal, def.scopes, ws)) !== ws)
        throw new OverseerError(
          'INSUFFICIENT_SCOPE',
          `This principal is of workspace ${options.principal.workspaceId}; the call names ${ws}.`,
          { tokenWorkspace: options.principal.workspaceId, requestedWorkspace: ws },
        );
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return run(def, ws, input, options);
  };
  return Object.assign(dispatch, { command, run });
}
