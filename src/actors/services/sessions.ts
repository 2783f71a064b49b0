import type { Session, SessionOpenInput } from '../../contracts/session.ts';
import type { SessionEvent, SessionInput } from '../../machines/session.ts';
import type { ActorHost } from '../actor-host.ts';
import type { Tx } from '../tx.ts';
import { sessionView } from '../views.ts';

/** Durable timers of a session: its idle limit (armed while IDLE) and its age limit (armed at open). */
export const SESSION_IDLE_TIMER = 'session-idle';
export const SESSION_AGE_TIMER = 'session-age';

function cancelAll(tx: Tx, id: string): void {
  tx.cancelTimer('session', id, SESSION_IDLE_TIMER);
  tx.cancelTimer('session', id, SESSION_AGE_TIMER);
}

export function openSession(tx: Tx, input: SessionOpenInput): Session {
  tx.get('worker', input.workerId);
  if (input.jobId !== undefined) tx.get('job', input.jobId);
  const id = tx.mint('ses');
  const sessionInput: SessionInput = {
    id,
    workspaceId: tx.ws,
    workerId: input.workerId,
    jobId: input.jobId,
    externalId: input.externalId,
    metadata: input.metadata,
    at: tx.now,
  };
  tx.create('session', id, sessionInput, { event: 'sessions.open' });
  tx.setTimer('session', id, SESSION_AGE_TIMER, tx.now + tx.env.settings.sessionMaxAgeMs, {
    type: 'MAX_AGE_REACHED',
  });
  return sessionView(tx.get('session', id));
}

/** The agent reports activity: the session is ACTIVE and its idle clock stops. */
export function touchSession(tx: Tx, id: string): Session {
  tx.send([{ kind: 'session', id, event: { type: 'ACTIVITY', at: tx.now } }]);
  tx.cancelTimer('session', id, SESSION_IDLE_TIMER);
  return sessionView(tx.get('session', id));
}

/** The agent waits for input: the session is IDLE and terminates after the idle limit. */
export function idleSession(tx: Tx, id: string): Session {
  tx.send([{ kind: 'session', id, event: { type: 'IDLE', at: tx.now } }]);
  tx.setTimer('session', id, SESSION_IDLE_TIMER, tx.now + tx.env.settings.sessionIdleTimeoutMs, {
    type: 'IDLE_TIMEOUT',
  });
  return sessionView(tx.get('session', id));
}

export function closeSession(tx: Tx, id: string, reason?: string): Session {
  const event: SessionEvent = { type: 'TERMINATE', at: tx.now, ...(reason ? { reason } : {}) };
  tx.send([{ kind: 'session', id, event }]);
  cancelAll(tx, id);
  return sessionView(tx.get('session', id));
}

/** When either limit ends a session, the other timer goes too. */
export function registerSessionTimers(host: ActorHost): void {
  for (const name of [SESSION_IDLE_TIMER, SESSION_AGE_TIMER]) {
    host.onTimer(name, (tx, entry) => {
      const event = { ...entry.event, at: tx.now } as SessionEvent;
      if (!tx.find('session', entry.id)?.can(event)) return;
      tx.send([{ kind: 'session', id: entry.id, event }]);
      cancelAll(tx, entry.id);
    });
  }
}
