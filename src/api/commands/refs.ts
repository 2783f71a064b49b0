import { z } from 'zod';
import { OverseerError } from '../../core/errors.ts';
import { IdSchema } from '../../contracts/common.ts';
import type { EntityKind } from '../../contracts/journal.ts';
import type { ActorHost } from '../../actors/actor-host.ts';
import type { Viewable } from '../../actors/views.ts';
import type { CommandErrorCode } from '../command.ts';

/** `{ jobId }`. */
export const JobRef = z.object({ jobId: IdSchema });
/** `{ workerId }`. */
export const WorkerRef = z.object({ workerId: IdSchema });
/** `{ sessionId }`. */
export const SessionRef = z.object({ sessionId: IdSchema });
/** `{ workstreamId }`. */
export const WorkstreamRef = z.object({ workstreamId: IdSchema });
/** An optional reason. */
export const Reason = z.object({ reason: z.string().min(1).max(10_000).optional() });
/** No input. */
export const Empty = z.object({});

/** The code of a change its actors' state may refuse. */
export const REFUSABLE: readonly CommandErrorCode[] = ['INVALID_STATE_TRANSITION'];

/** The view of an actor, or NOT_FOUND. */
export async function viewOrNotFound<K extends EntityKind, T>(
  host: ActorHost,
  ws: string,
  kind: K,
  id: string,
  view: (s: Viewable<K>) => T,
): Promise<T> {
  const snapshot = await host.view(ws, kind, id);
  if (!snapshot) throw new OverseerError('NOT_FOUND', `No ${kind} ${id} in workspace ${ws}.`, { kind, id });
  return view(snapshot);
}

/** Example ids of the documentation. */
export const EXAMPLE_JOB_ID = 'job_01JZ8Q4T6YH3M5N7P9R2S4T6V8';
/** Example ids of the documentation. */
export const EXAMPLE_WORKER_ID = 'wrk_01JZ8Q5A2BC4D6E8F0G2H4J6K8';
/** An example lease secret of the documentation. */
export const EXAMPLE_LEASE_TOKEN = 'Xq3vR8pL2mN5tK7wY9zB1c';
