import { afterEach, describe, expect, it } from 'vitest';
import { createToken } from '../../src/api/auth.ts';
import { serve, type RunningServer } from '../../src/cli/serve.ts';
import type { Runtime } from '../../src/runtime.ts';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';

const SECRET_TEXT = 'overseer-close-test-secret-of-at-least-32-bytes';

let server: RunningServer | undefined;
let dir: TempDataDir | undefined;
afterEach(async () => {
  await server?.close();
  dir?.remove();
  server = dir = undefined;
});

/** Serves HTTP on a fresh data dir and parks one long-poll claim (30 s) over a keep-alive connection. */
async function parkedClaim(): Promise<{ claim: Promise<Response>; runtime: Runtime }> {
  dir = tempDataDir('overseer-close-');
  process.env['OVERSEER_JWT_SECRET'] = SECRET_TEXT;
  server = await serve(
    { host: '127.0.0.1', port: 0, dataDir: dir.path, logLevel: 'silent' },
    () => undefined,
  );
  const token = await createToken(
    { secret: new TextEncoder().encode(SECRET_TEXT) },
    { sub: 'agent', workspaceId: 'acme', scopes: ['queue:work'], ttlSeconds: 600 },
  );
  const post = (path: string, body: unknown) =>
    fetch(`${server!.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const worker = (await (await post('/api/v1/workers', { name: 'w' })).json()) as { id: string };
  const claim = post('/api/v1/queue/claim', { workerId: worker.id, waitMs: 30_000 });
  const runtime = server.ov!.runtime;
  while (runtime.env.work.get('acme').claimWaiters.length === 0) await new Promise((r) => setTimeout(r, 10));
  return { claim, runtime };
}

/** Closes the server (the test's afterEach has nothing left to close). */
function closeServer(): Promise<void> {
  const closing = server!.close();
  server = undefined;
  return closing;
}

describe('closing a server', () => {
  // Without ending the waits, closing HTTP would wait out the 30 s long-poll and this test would time out.
  it('answers a parked long-poll with { job: null } at once and closes', { timeout: 15_000 }, async () => {
    const { claim } = await parkedClaim();
    const closing = closeServer();
    const answer = await claim;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ job: null });
    await closing;
  });

  // Closing waits for in-flight requests; a keep-alive connection whose answer is sent after closing began must
  // not keep the server open until its keep-alive timeout (72 s).
  it(
    'closes a keep-alive connection whose answer comes after closing began',
    { timeout: 15_000 },
    async () => {
      const { claim, runtime } = await parkedClaim();
      // Hold the wake back so that the answer is sent only once HTTP is closing.
      const endWaits = runtime.endWaits.bind(runtime);
      runtime.endWaits = () => undefined;
      const closing = closeServer();
      await new Promise((r) => setTimeout(r, 100));
      endWaits();
      const answer = await claim;
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ job: null });
      await closing;
    },
  );
});
