import { OverseerError } from '../core/errors.ts';
import type { Principal } from '../contracts/scopes.ts';
import type { Tx } from '../actors/tx.ts';

/**
 * What a command acts on, for the ownership check: the worker an input field names, the worker holding the job
 * or session it names, or `unbound` (only a token bound to no worker may run it: registering workers).
 */
export type Owner = { worker: string } | { job: string } | { session: string } | 'unbound';

/**
 * Refuses a call on a worker the principal does not own, before anything changes: an admin or a supervisor
 * (`supervisor:write`) acts on any worker of its workspace; a worker's own credential on its own worker only; an
 * unbound token on the workers registered under its own subject. Anything else answers 403 `NOT_YOUR_WORKER`.
 * An object that does not exist, or a job or session no worker holds, is left to the command (NOT_FOUND,
 * LEASE_LOST, …).
 */
export function checkOwner(
  tx: Tx,
  principal: Principal,
  owner: Owner | undefined,
  input: Readonly<Record<string, unknown>>,
): void {
  if (owner === undefined) return;
  if (owner === 'unbound') {
    if (principal.workerId !== undefined)
      throw new OverseerError('INSUFFICIENT_SCOPE', "A worker's own credential cannot run this command.", {
        workerId: principal.workerId,
      });
    return;
  }
  if (principal.scopes.includes('admin') || principal.scopes.includes('supervisor:write')) return;
  const workerId = ownerWorker(tx, owner, input);
  if (workerId === null) return;
  if (principal.workerId !== undefined) {
    if (principal.workerId !== workerId) throw notYours(workerId, owner, input);
    return;
  }
  const worker = tx.find('worker', workerId);
  if (worker && worker.context.registeredBy !== principal.sub) throw notYours(workerId, owner, input);
}

/** The worker the call acts on, or null when none can be told (no such object, or no worker holds it). */
function ownerWorker(tx: Tx, owner: Exclude<Owner, 'unbound'>, input: Readonly<Record<string, unknown>>) {
  if ('worker' in owner) return String(input[owner.worker]);
  if ('job' in owner) return tx.find('job', String(input[owner.job]))?.context.workerId ?? null;
  return tx.find('session', String(input[owner.session]))?.context.workerId ?? null;
}

function notYours(
  workerId: string,
  owner: Exclude<Owner, 'unbound'>,
  input: Readonly<Record<string, unknown>>,
): OverseerError {
  const [kind, field] = Object.entries(owner)[0]!;
  return new OverseerError(
    'NOT_YOUR_WORKER',
    `This credential may not act on worker ${workerId}${kind === 'worker' ? '' : ` (which holds ${kind} ${String(input[field])})`}.`,
    { workerId, [field]: input[field] },
  );
}
