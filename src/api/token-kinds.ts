import { OverseerError } from '../core/errors.ts';
import type { Principal } from '../contracts/scopes.ts';

/**
 * Which kinds of token a command takes besides API tokens and worker credentials: phase tokens (`expiredPhase`:
 * expired ones too), check tokens; `apiTokens` keeps API tokens and worker credentials open as well. A command
 * without `tokens` takes API tokens and worker credentials only.
 */
export interface TokenKinds {
  phase?: true;
  check?: true;
  expiredPhase?: true;
  apiTokens?: true;
}

/**
 * Checks the kind of a caller's token against what the command takes, for every transport (HTTP, NATS, the
 * library): a phase or check token opens only the commands that take it (else 401 PHASE_TOKEN_INVALID), an expired
 * phase token only those that take it expired (else 401 TOKEN_EXPIRED), and a command that takes only phase or
 * check tokens refuses API tokens (401 PHASE_TOKEN_INVALID). Answers whether the token itself authorizes the call
 * (a phase or check token: no scope is checked, the command checks its claims against the job).
 */
export function admitTokenKind(
  principal: Principal,
  def: { name: string; tokens: TokenKinds | undefined },
): boolean {
  const takes = def.tokens;
  if (principal.phase) {
    if (!takes?.phase)
      throw new OverseerError(
        'PHASE_TOKEN_INVALID',
        `A phase token opens only the workflow commands of its job (workflow.transition, state.snapshot, tokens.refresh), not ${def.name}: send an API token or your worker credential.`,
        { reason: 'ERR_WRONG_TYP', command: def.name },
      );
    if (principal.expired && !takes.expiredPhase)
      throw new OverseerError(
        'TOKEN_EXPIRED',
        'The phase token has expired; refresh it (POST /api/v1/tokens/refresh) while the lease lives.',
      );
    return true;
  }
  if (principal.check) {
    if (!takes?.check)
      throw new OverseerError(
        'PHASE_TOKEN_INVALID',
        `A check token opens only state.snapshot and the tool check of its job, not ${def.name}.`,
        { reason: 'ERR_WRONG_TYP', command: def.name },
      );
    return true;
  }
  if (takes && !takes.apiTokens)
    throw new OverseerError(
      'PHASE_TOKEN_INVALID',
      `${def.name} takes a ${takes.phase ? 'phase' : 'check'} token (the one your claim or last transition answered), not an API token or worker credential.`,
      { reason: 'ERR_WRONG_TYP', command: def.name },
    );
  return false;
}
