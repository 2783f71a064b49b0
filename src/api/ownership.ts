import { OverseerError } from '../core/errors.ts';
import type { Principal } from '../contracts/scopes.ts';
import type { ActorHost } from '../actors/actor-host.ts';
import type { Tx } from '../actors/tx.ts';

/**
 * What a command acts on, for the ownership check: the worker an input field names, the worker holding the job
 * or session it names, or `unbound` (only a token bound to no worker may run it: registering workers).
 */
export type Owner = { worker: string } | { job: string } | { session: string } | 'unbound';

/** Whether a command names several things it acts on (`Array.isArray` does not narrow a readonly array). */
const isList = (owner: Owner | readonly Owner[]): owner is readonly Owner[] => Array.isArray(owner);

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
  owner: Owner | readonly Owner[] | undefined,
  input: Readonly<Record<string, unknown>>,
): void {
  if (owner === undefined) return;
  if (isList(owner)) {
    for (const one of owner) checkOwner(tx, principal, one, input);
    return;
  }
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
  if (!owns(principal, workerId, () => tx.find('worker', workerId)?.context.registeredBy))
    throw notYours(workerId, owner, input);
}

/**
 * Refuses a read of an object a worker holds to a principal that reads it only as a worker would (`queue:work`)
 * and does not own that worker, by the rule of {@link checkOwner}; readers (`supervisor:read`), supervisors and
 * admins read any.
 */
export async function checkReader(
  host: ActorHost,
  ws: string,
  principal: Principal,
  workerId: string,
  owner: Exclude<Owner, 'unbound'>,
  input: Readonly<Record<string, unknown>>,
): Promise<void> {
  if (principal.scopes.some((s) => s === 'admin' || s === 'supervisor:read' || s === 'supervisor:write'))
    return;
  const registeredBy =
    principal.workerId === undefined
      ? (await host.view(ws, 'worker', workerId))?.context.registeredBy
      : undefined;
  if (!owns(principal, workerId, () => registeredBy)) throw notYours(workerId, owner, input);
}

/**
 * Whether a principal that is neither admin nor supervisor owns a worker: its own credential, or the unbound token
 * of the subject that registered it (`registeredBy`: undefined when there is no such worker, left to the command).
 */
function owns(
  principal: Principal,
  workerId: string,
  registeredBy: () => string | null | undefined,
): boolean {
  if (principal.workerId !== undefined) return principal.workerId === workerId;
  const by = registeredBy();
  return by === undefined || by === principal.sub;
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
