/**
 * No secret is stored or written in plain text (issue 15): lease secrets and worker credentials handed out by
 * register, claim (fresh and replayed), complete with claimNext, credential minting and heartbeat renewal appear
 * nowhere in the LMDB files, the published events or the logs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { simulatedClock } from '../../src/testing.ts';
import { openTestOverseer, rejection, type TestOverseer } from '../support/open.ts';

let t: TestOverseer | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

/** Every byte under a directory, as one latin1 string (msgpack keeps strings as their UTF-8 bytes). */
function bytesUnder(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name)).toString('latin1'))
    .join('\n');
}

describe('secrets at rest and in transit', () => {
  it('appear in no LMDB file, event or log line', async () => {
    const logs: string[] = [];
    const logger = pino(
      { level: 'trace' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          logs.push(chunk.toString());
          done();
        },
      }),
    );
    const clock = simulatedClock(Date.UTC(2026, 0, 1));
    t = await openTestOverseer({ logger, clock, durability: 'commit', heartbeatTimeoutSeconds: 3600 });
    const events: string[] = [];
    t.ov.events.subscribe((r) => events.push(JSON.stringify(r)));
    const admin = t.ov.workspace('acme');
    const runner = t.ov.workspace('acme', {
      principal: { sub: 'runner-1', workspaceId: 'acme', scopes: ['queue:work'] },
    });
    const secrets: string[] = [];

    const worker = await runner.workers.register({ name: 'a' }, { idempotencyKey: 'reg-1' });
    secrets.push(worker.credential.token);
    const replayedRegistration = await runner.workers.register({ name: 'a' }, { idempotencyKey: 'reg-1' });
    secrets.push(replayedRegistration.credential.token);
    const agent = t.ov.workspace('acme', { principal: await t.ov.authenticate(worker.credential.token) });

    await admin.jobs.submit({ title: 'one', leaseSeconds: 3600 });
    await admin.jobs.submit({ title: 'two', leaseSeconds: 3600 });
    const claim = await agent.queue.claim({ workerId: worker.id }, { idempotencyKey: 'claim-1' });
    secrets.push(claim.lease!.token);
    const replayed = await agent.queue.claim({ workerId: worker.id }, { idempotencyKey: 'claim-1' });
    secrets.push(replayed.lease!.token);
    expect(replayed.lease!.fence).toBe(claim.lease!.fence);
    expect(replayed.lease!.token).not.toBe(claim.lease!.token);
    // The replaced secret is refused like any stale one; the wrong guess leaves no trace either.
    expect(
      (await rejection(agent.queue.heartbeat({ workerId: worker.id, leaseToken: claim.lease!.token }))).code,
    ).toBe('LEASE_LOST');
    clock.increment(31 * 60_000);
    const beat = await agent.workers.heartbeat(worker.id, { leaseToken: replayed.lease!.token });
    expect(beat.credential).toBeDefined();
    secrets.push(beat.credential!.token);
    const minted = await runner.workers.credential(worker.id);
    secrets.push(minted.token);
    const done = await agent.queue.complete(
      { jobId: replayed.job!.id, leaseToken: replayed.lease!.token, claimNext: true },
      { idempotencyKey: 'done-1' },
    );
    secrets.push(done.next!.lease!.token);
    const doneAgain = await agent.queue.complete(
      { jobId: replayed.job!.id, leaseToken: replayed.lease!.token, claimNext: true },
      { idempotencyKey: 'done-1' },
    );
    secrets.push(doneAgain.next!.lease!.token);
    await agent.queue.fail({
      jobId: done.next!.job!.id,
      leaseToken: doneAgain.next!.lease!.token,
      reason: 'no',
    });
    await admin.workers.terminate(worker.id);
    await t.ov.runtime.host.pipeline.idle();
    await t.ov.close();

    expect(new Set(secrets).size).toBe(secrets.length);
    const stored = bytesUnder(t.dir.path);
    const written = [...events, ...logs].join('\n');
    expect(events.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      expect(stored.includes(secret), `a secret is stored: ${secret.slice(0, 6)}…`).toBe(false);
      expect(written.includes(secret), `a secret is written: ${secret.slice(0, 6)}…`).toBe(false);
    }
    // What is stored is the digest: the worker's credential tokens are JWTs, of which no segment is stored either.
    const signature = worker.credential.token.split('.')[2]!;
    expect(stored.includes(signature)).toBe(false);
  });
});
