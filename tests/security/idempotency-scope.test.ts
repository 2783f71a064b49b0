/**
 * Idempotency keys are scoped by caller (the principal's subject) as well as by workspace and command: a replay
 * answers the first answer to the caller that made it, and the same key under another subject is a call of its own.
 * Before, another agent that guessed a key (and the payload) replayed a worker's registration or
 * `workers.credential` and got a fresh credential for that worker — no ownership check runs on a replay.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/contracts/scopes.ts';
import { openTestOverseer, rejection, type TestOverseer } from '../support/open.ts';

let t: TestOverseer;
beforeEach(async () => {
  t = await openTestOverseer();
});
afterEach(async () => {
  await t.cleanup();
});

const agent = (sub: string): Principal => ({ sub, workspaceId: 'acme', scopes: ['queue:work'] });

describe('idempotency keys are scoped by caller', () => {
  it("another subject's replay of a registration registers its own worker, never the first one", async () => {
    const a = t.ov.workspace('acme', { principal: agent('agent-a') });
    const b = t.ov.workspace('acme', { principal: agent('agent-b') });
    const mine = await a.workers.register({ name: 'agent-a' }, { idempotencyKey: 'register' });
    const theirs = await b.workers.register({ name: 'agent-a' }, { idempotencyKey: 'register' });
    expect(theirs.id).not.toBe(mine.id);
    expect((await t.ov.authenticate(theirs.credential.token)).workerId).toBe(theirs.id);
    // B's worker is B's; A's is still A's alone, and A's own replay answers A's worker with a credential for it.
    expect((await rejection(b.workers.deregister(mine.id))).code).toBe('NOT_YOUR_WORKER');
    const again = await a.workers.register({ name: 'agent-a' }, { idempotencyKey: 'register' });
    expect(again.id).toBe(mine.id);
    expect((await t.ov.authenticate(again.credential.token)).workerId).toBe(mine.id);
  });

  it("another subject's replay of workers.credential is refused NOT_YOUR_WORKER", async () => {
    const a = t.ov.workspace('acme', { principal: agent('agent-a') });
    const worker = await a.workers.register({ name: 'agent-a' });
    const credential = (name: string) =>
      t.ov.runtime.dispatch(
        'workers.credential',
        'acme',
        { workerId: worker.id },
        { principal: agent(name), idempotencyKey: 'credential' },
      );
    expect(await credential('agent-a')).toMatchObject({ token: expect.any(String) });
    expect((await rejection(credential('agent-b'))).code).toBe('NOT_YOUR_WORKER');
  });

  it('a worker credential replaying an unbound registration is refused INSUFFICIENT_SCOPE', async () => {
    const a = t.ov.workspace('acme', { principal: agent('agent-a') });
    const first = await a.workers.register({ name: 'agent-a' }, { idempotencyKey: 'register' });
    const asWorker = t.ov.workspace('acme', { principal: await t.ov.authenticate(first.credential.token) });
    const replay = rejection(asWorker.workers.register({ name: 'agent-a' }, { idempotencyKey: 'register' }));
    expect((await replay).code).toBe('INSUFFICIENT_SCOPE');
  });
});
