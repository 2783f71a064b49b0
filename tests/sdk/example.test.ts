import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../../src/contracts/scopes.ts';
import { startNatsServer, type NatsServer } from '../../src/testing.ts';
import { startDataNode, tokenFor, type Node } from '../nats/support.ts';
import { supervisor } from './support.ts';

let ns: NatsServer;
let node: Node;
let admin: string;
/** A child process starting tsx on a busy machine. */
const STARTUP = { timeout: 15_000 };

beforeAll(async () => {
  ns = await startNatsServer();
  node = await startDataNode(ns.url);
  admin = await tokenFor('example', ['admin'], 'supervisor');
});
afterAll(async () => {
  await node?.close();
  await ns?.stop();
});

/** `node --import tsx examples/02-nats-client.ts` with the env it reads; its output so far, and its exit. */
async function runExample(workspaceId: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/02-nats-client.ts'], {
    env: {
      ...process.env,
      NATS_URL: ns.url,
      OVERSEER_TOKEN: await tokenFor(workspaceId, ROLES.runner, 'example-runner'),
      OVERSEER_WORKSPACE: workspaceId,
      ...env,
    },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { lines: () => out.trim().split('\n'), stderr: () => err, exit, kill: () => child.kill() };
}

describe('examples/02-nats-client.ts', () => {
  it('is printed in docs/sdk.md exactly', () => {
    const doc = readFileSync('docs/sdk.md', 'utf8');
    const block = /## The example[\s\S]*?```ts\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBe(readFileSync('examples/02-nats-client.ts', 'utf8'));
  });

  it('completes the jobs submitted, MAX_JOBS of them, and leaves cleanly', async () => {
    const sup = supervisor(node.server.url, 'example-n', admin);
    const jobs = [await sup.submit('Add login page'), await sup.submit('Fix the flaky test')];
    const run = await runExample('example-n', { MAX_JOBS: '3' });
    try {
      await expect.poll(() => run.lines().filter((l) => l.startsWith('completed')).length, STARTUP).toBe(2);
      // One more, submitted while the worker waits in its claim.
      jobs.push(await sup.submit('Write the docs'));
      expect(await run.exit, run.stderr()).toBe(0);
    } finally {
      run.kill();
    }
    const lines = run.lines();
    const workerId = /^registered (wrk_\S+)$/.exec(lines[0]!)?.[1];
    expect(workerId).toBeDefined();
    expect(lines.slice(1)).toEqual([
      `completed ${jobs[0]!.id} Add login page`,
      `completed ${jobs[1]!.id} Fix the flaky test`,
      `completed ${jobs[2]!.id} Write the docs`,
      'done 3',
    ]);
    for (const job of jobs) expect(await sup.job(job.id)).toMatchObject({ status: 'COMPLETED' });
    expect(await sup.job(jobs[1]!.id)).toMatchObject({ result: { words: 4 } });
    expect((await sup.worker(workerId!)).status).toBe('COMPLETED');
    // The runner's token registered the worker; the worker's own credential claimed and completed each job.
    const records = await sup.events();
    expect(records.find((r) => r.id === workerId)?.principal).toBe('example-runner');
    for (const job of jobs)
      expect(records.filter((r) => r.id === job.id && r.to === 'COMPLETED').map((r) => r.principal)).toEqual([
        workerId,
      ]);
  });

  it('stops on a terminate directive', async () => {
    const sup = supervisor(node.server.url, 'example-t', admin);
    const run = await runExample('example-t');
    try {
      await expect.poll(() => run.lines()[0] ?? '', STARTUP).toMatch(/^registered wrk_/);
      const job = await sup.submit('One job');
      await expect.poll(() => run.lines(), STARTUP).toContain(`completed ${job.id} One job`);
      const workerId = run.lines()[0]!.split(' ')[1]!;
      await sup.post(`/api/supervisor/workers/${workerId}/terminate`, { reason: 'end of test' });
      // The worker sees the directive once its parked claim (10 s) ends.
      expect(await run.exit, run.stderr()).toBe(0);
      expect(run.lines().at(-1)).toBe('done 1');
      expect((await sup.worker(workerId)).status).toBe('TERMINATED');
    } finally {
      run.kill();
    }
  }, 30_000);
});
