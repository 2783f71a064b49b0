/**
 * Heap bytes per live actor. Each variant runs in its own child process: warm up, gc, read heapUsed, create
 * `HEAP_N` actors and keep them live, gc, read heapUsed again; the figure is the delta / N.
 *
 * - `bare`: `createActor(createMachine({})).start()`, the floor XState sets.
 * - `job-machine`: the job machine alone (`createActor(jobMachine, { input }).start()` + ENQUEUE), no host.
 * - `overseer`: jobs submitted through `jobs.submitMany` and kept live by the host (`host.liveCount`), i.e.
 *   everything a live job costs: actor, context, host entry and map keys.
 */
import { createActor, createMachine, type AnyActorRef } from 'xstate';
import { JobSubmitSchema } from '../src/contracts/job.ts';
import { jobMachine, type JobInput } from '../src/machines/job.ts';
import {
  benchArgs,
  fullGc,
  jobInput,
  open,
  progress,
  report,
  round,
  runChild,
  size,
  sleep,
  spread,
  tempDir,
} from './lib.ts';

const { mode, phase } = benchArgs();
const N = size('HEAP_N', 20_000, 5_000);
const WARMUP = 1_000;
const REPEATS = size('HEAP_REPEATS', 3, 1);

/** heapUsed delta per item of `create(n)`, after a warm-up of the same kind. */
async function perItem(create: (n: number, offset: number) => Promise<void>): Promise<number> {
  await create(WARMUP, 0);
  await fullGc();
  const before = process.memoryUsage().heapUsed;
  await create(N, WARMUP);
  await fullGc();
  return (process.memoryUsage().heapUsed - before) / N;
}

const held: AnyActorRef[] = [];

if (phase === 'bare') {
  const machine = createMachine({});
  const bytes = await perItem((n) => {
    for (let i = 0; i < n; i++) held.push(createActor(machine).start());
    return Promise.resolve();
  });
  report({ bytes, held: held.length });
} else if (phase === 'job-machine') {
  const now = Date.now();
  const bytes = await perItem((n, offset) => {
    for (let i = offset; i < offset + n; i++) {
      const { hold: _hold, ...spec } = JobSubmitSchema.parse(jobInput(i));
      const id = `job_01KB${String(i).padStart(22, '0')}`;
      const input: JobInput = { id, workspaceId: 'bench', spec, depth: 0, at: now };
      const actor = createActor(jobMachine, { input });
      actor.subscribe({ error: () => undefined });
      actor.start();
      actor.send({ type: 'ENQUEUE', at: now, unmetDependencies: 0 });
      held.push(actor);
    }
    return Promise.resolve();
  });
  report({ bytes, held: held.length });
} else if (phase === 'overseer') {
  const dir = tempDir();
  const ov = await open(dir.path, mode, 3_600_000);
  const host = ov.runtime.host;
  const jobs = ov.workspace('bench').jobs;
  try {
    const bytes = await perItem(async (n, offset) => {
      for (let done = 0; done < n; done += 1_000) {
        const count = Math.min(1_000, n - done);
        await jobs.submitMany(Array.from({ length: count }, (_, i) => jobInput(offset + done + i)));
      }
      await host.pipeline.idle();
      await sleep(100); // the outbox-done marks are deferred by 50 ms
      await host.pipeline.idle();
    });
    const live = host.liveCount;
    if (live !== N + WARMUP) throw new Error(`expected ${N + WARMUP} live actors, found ${live}`);
    // What stays after every actor leaves memory (a leak would show here).
    const beforeDrop = process.memoryUsage().heapUsed;
    host.passivate(Infinity);
    await fullGc();
    const freedPerActor = (beforeDrop - process.memoryUsage().heapUsed) / live;
    report({ bytes, live, freedPerActor });
  } finally {
    await ov.close();
    dir.remove();
  }
} else {
  const runs: Record<string, number[]> = { bare: [], 'job-machine': [], overseer: [] };
  let live = 0;
  let freed: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    for (const variant of Object.keys(runs)) {
      const out = (await runChild('heap', ['--phase', variant, '--mode', mode])) as {
        bytes: number;
        live?: number;
        freedPerActor?: number;
      };
      runs[variant]!.push(out.bytes);
      if (out.live !== undefined) live = out.live;
      if (out.freedPerActor !== undefined) freed = [...freed, out.freedPerActor];
      progress(`heap ${mode} ${variant} ${r + 1}/${REPEATS}: ${Math.round(out.bytes)} B/actor`);
    }
  }
  const s = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, spread(v)]));
  report({
    bench: 'heap',
    mode,
    actors: N,
    repeats: REPEATS,
    liveCountChecked: live,
    overseerBytesPerActor: round(s.overseer!.median, 0),
    bareXStateBytesPerActor: round(s.bare!.median, 0),
    jobMachineBytesPerActor: round(s['job-machine']!.median, 0),
    freedOnPassivatePerActor: round(spread(freed).median, 0),
    spread: s,
  });
}
