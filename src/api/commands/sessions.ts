import { SessionOpenSchema, SessionSchema } from '../../contracts/session.ts';
import { closeSession, idleSession, openSession, touchSession } from '../../actors/services/sessions.ts';
import { sessionView } from '../../actors/views.ts';
import { mutation, query } from '../command.ts';
import { checkReader } from '../ownership.ts';
import { OWNED, WORKER_SCOPES } from './queue.ts';
import { Reason, SessionRef, viewOrNotFound } from './refs.ts';

/** The sessions service: an agent's conversation sessions, bound to a worker. */
export const sessionCommands = [
  mutation({
    name: 'sessions.open',
    summary: 'Open an agent session bound to a worker.',
    input: SessionOpenSchema,
    output: SessionSchema,
    scopes: WORKER_SCOPES,
    errors: OWNED,
    // The job it names, when it names one, must be held by that worker's owner too (or by no worker).
    owner: [{ worker: 'workerId' }, { job: 'jobId' }],
    apply: (tx, input) => openSession(tx, input),
  }),
  query({
    name: 'sessions.get',
    summary: 'Get a session.',
    input: SessionRef,
    output: SessionSchema,
    scopes: ['supervisor:read', 'queue:work'],
    errors: ['NOT_YOUR_WORKER'],
    run: async (ctx, input) => {
      const session = await viewOrNotFound(ctx.host, ctx.ws, 'session', input.sessionId, sessionView);
      await checkReader(ctx.host, ctx.ws, ctx.principal, session.workerId, { session: 'sessionId' }, input);
      return session;
    },
  }),
  mutation({
    name: 'sessions.touch',
    summary: 'Report session activity (ACTIVE).',
    input: SessionRef,
    output: SessionSchema,
    scopes: WORKER_SCOPES,
    errors: OWNED,
    owner: { session: 'sessionId' },
    apply: (tx, input) => touchSession(tx, input.sessionId),
  }),
  mutation({
    name: 'sessions.idle',
    summary: 'Report the session idle (IDLE).',
    input: SessionRef,
    output: SessionSchema,
    scopes: WORKER_SCOPES,
    errors: OWNED,
    owner: { session: 'sessionId' },
    apply: (tx, input) => idleSession(tx, input.sessionId),
  }),
  mutation({
    name: 'sessions.close',
    summary: 'Terminate a session.',
    input: SessionRef.extend(Reason.shape),
    output: SessionSchema,
    scopes: WORKER_SCOPES,
    errors: OWNED,
    owner: { session: 'sessionId' },
    apply: (tx, input) => closeSession(tx, input.sessionId, input.reason),
  }),
] as const;
