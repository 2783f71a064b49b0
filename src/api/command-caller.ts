import { decodeJwt, decodeProtectedHeader } from 'jose';
import {
  CHECK_TOKEN_TYP,
  CheckTokenClaimsSchema,
  PHASE_TOKEN_TYP,
  PhaseTokenClaimsSchema,
} from '../contracts/phase-tokens.ts';
import { OverseerError } from '../core/errors.ts';
import { WorkspaceIdSchema } from '../contracts/common.ts';
import { ScopeSchema, type Principal } from '../contracts/scopes.ts';
import { authorize, type Authenticator } from './auth.ts';
import type { AnyCommandDef } from './command.ts';
import { admitTokenKind } from './token-kinds.ts';
import { commandTable } from './commands.ts';
import type { Dispatch } from './dispatch.ts';
import { encodeAnswer } from './page.ts';
import { parseWorkspaceId } from './validation.ts';

/** How an adapter names the call it forwards. */
export interface CallOptions {
  /** The bearer token as received (without `Bearer `). */
  token: string | undefined;
  /** The workspace the caller named: an admin's `?workspaceId=` over HTTP, the subject's over NATS. */
  workspaceId?: string | undefined;
  /**
   * Whether the named workspace is the one the call must run in (NATS: the subject names it). A non-admin token
   * of another workspace is then refused; over HTTP a non-admin's `?workspaceId=` is ignored instead.
   */
  bindWorkspace?: boolean;
  idempotencyKey?: string | undefined;
}

/**
 * Runs a command for an adapter (HTTP, NATS), from a raw token. A data node verifies the token and dispatches
 * (`localCaller`); a gateway forwards the token untouched to the data node (`remoteCaller` in the CLI).
 */
export interface CommandCaller {
  /**
   * The principal of a token. A data node verifies it; a gateway only reads its claims (to route the call and key
   * its rate limit) and leaves verification to the data node.
   */
  authenticate(token: string | undefined): Promise<Principal>;
  call(principal: Principal, command: string, input: unknown, options: CallOptions): Promise<unknown>;
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  // The same as /^Bearer\s+(\S+)\s*$/i without a regex on every request.
  if (!header || header.length < 8 || header.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  if (!WHITESPACE.test(header[6]!)) return undefined;
  const token = header.slice(7).trim();
  return token === '' || WHITESPACE.test(token) ? undefined : token;
}

const WHITESPACE = /\s/;

/** The command's definition, or NOT_FOUND. */
export function commandNamed(name: string): AnyCommandDef {
  const command = commandTable.get(name);
  if (!command) throw new OverseerError('NOT_FOUND', `No command ${name}.`, { command: name });
  return command;
}

/**
 * The workspace a call runs in: {@link authorize}'s choice, except that a workspace bound by the transport must be
 * the token's own (or the token an admin's).
 */
export function callWorkspace(principal: Principal, def: AnyCommandDef, options: CallOptions): string {
  const requested = options.workspaceId === undefined ? undefined : parseWorkspaceId(options.workspaceId);
  // A phase or check token runs in its own workspace, opened by its kind, not by scopes.
  const ws = admitTokenKind(principal, def)
    ? principal.workspaceId
    : authorize(principal, def.scopes, requested);
  if (options.bindWorkspace && requested !== undefined && ws !== requested)
    throw new OverseerError(
      'INSUFFICIENT_SCOPE',
      `This token is for workspace ${principal.workspaceId}; the call names ${requested}.`,
      { tokenWorkspace: principal.workspaceId, requestedWorkspace: requested },
    );
  return ws;
}

/** The caller of a node that holds the state: verifies tokens (shared cache) and dispatches. */
export function localCaller(dispatch: Dispatch, authenticator: Authenticator): CommandCaller {
  return {
    authenticate: (token) => authenticator.authenticate(token),
    call(principal, command, input, options) {
      const def = dispatch.command(command);
      const ws = callWorkspace(principal, def, options);
      return dispatch.run(def, ws, input, {
        principal,
        idempotencyKey: options.idempotencyKey,
        sharedReads: true,
      });
    },
  };
}

/**
 * The claims of a token read without verifying it: what a gateway needs to route a call to its workspace.
 * UNAUTHENTICATED when there is no token or it is not a JWT with `sub`, `ws` and `scopes`; the data node then
 * verifies its signature, expiry, issuer and audience.
 */
export function unverifiedPrincipal(token: string | undefined): Principal {
  if (!token)
    throw new OverseerError('UNAUTHENTICATED', 'A bearer token is required: Authorization: Bearer <token>.');
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch {
    throw new OverseerError('UNAUTHENTICATED', 'The token is invalid.', { reason: 'ERR_JWT_INVALID' });
  }
  const ws = WorkspaceIdSchema.safeParse(claims['ws']);
  // Phase and check tokens carry no scopes: routed by their workspace; the data node verifies them.
  const routed = phaseOrCheckPrincipal(token, claims);
  if (routed) return routed;
  const scopes = ScopeSchema.array().max(16).safeParse(claims['scopes']);
  const sub = claims['sub'];
  if (!ws.success || !scopes.success || typeof sub !== 'string' || sub === '')
    throw new OverseerError('UNAUTHENTICATED', 'The token lacks valid sub, ws or scopes claims.', {
      reason: 'ERR_CLAIMS',
    });
  return { sub, workspaceId: ws.data, scopes: scopes.data };
}

/** The unverified principal of a phase or check token (by its header's `typ`), or undefined for another token. */
function phaseOrCheckPrincipal(token: string, claims: Record<string, unknown>): Principal | undefined {
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(token).typ;
  } catch {
    return undefined;
  }
  if (typ !== PHASE_TOKEN_TYP && typ !== CHECK_TOKEN_TYP) return undefined;
  const bad = () =>
    new OverseerError('PHASE_TOKEN_INVALID', 'The token lacks valid claims.', { reason: 'ERR_CLAIMS' });
  if (typ === PHASE_TOKEN_TYP) {
    const phase = PhaseTokenClaimsSchema.safeParse(claims);
    if (!phase.success) throw bad();
    const c = phase.data;
    return { sub: c.wrk, workspaceId: c.ws, scopes: [], workerId: c.wrk, phase: c };
  }
  const check = CheckTokenClaimsSchema.safeParse(claims);
  if (!check.success) throw bad();
  const c = check.data;
  return { sub: `check:${c.job}`, workspaceId: c.ws, scopes: [], check: c };
}

/**
 * A command handler for a bus endpoint whose subject names the workspace (NATS): the token from the
 * `authorization` header, the key from `idempotency-key`, and the workspace bound to the subject's. It answers
 * the JSON text of the answer, a list page ending early under `maxAnswerBytes`.
 */
export function subjectCommandHandler(
  caller: CommandCaller,
  maxAnswerBytes: number,
): (
  command: string,
  workspaceId: string,
  payload: unknown,
  headers: Readonly<Record<string, string>>,
) => Promise<string> {
  return async (command, workspaceId, payload, headers) => {
    const token = bearerToken(headers['authorization']);
    const principal = await caller.authenticate(token);
    const answer = await caller.call(principal, command, payload, {
      token,
      workspaceId,
      bindWorkspace: true,
      idempotencyKey: headers['idempotency-key'],
    });
    return encodeAnswer(answer, maxAnswerBytes);
  };
}
