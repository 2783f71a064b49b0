/** The W1 job mix, shared by bench/w1.ts and bench/w1-nats.ts: the same jobs in the same order every run. */
import type { JobSubmitInput, Priority, WorkspaceClient } from '../src/index.ts';

/** mulberry32: a small seeded PRNG, so every run enqueues the same order. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` priorities, 20 % high, 60 % normal, 20 % low, shuffled (Fisher–Yates) with a seeded PRNG. */
export function priorities(n: number, seed: number): Priority[] {
  const high = Math.round(n * 0.2);
  const low = Math.round(n * 0.2);
  const out: Priority[] = [
    ...Array<Priority>(high).fill('high'),
    ...Array<Priority>(n - high - low).fill('normal'),
    ...Array<Priority>(low).fill('low'),
  ];
  const random = prng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The `i`-th W1 job. */
export const w1Input = (i: number, priority: Priority): JobSubmitInput => ({
  title: `w1 job ${i}`,
  priority,
  type: 'feature',
});

/** Enqueues `n` W1 jobs with submitMany, `batch` per call, two calls in flight; answers jobs/s. */
export async function enqueueW1(
  ws: WorkspaceClient,
  n: number,
  seed: number,
  batch: number,
): Promise<number> {
  const prios = priorities(n, seed);
  const t0 = performance.now();
  let prev: Promise<unknown> = Promise.resolve();
  for (let done = 0; done < n; done += batch) {
    const count = Math.min(batch, n - done);
    const call = ws.jobs.submitMany(
      Array.from({ length: count }, (_, i) => w1Input(done + i, prios[done + i]!)),
    );
    await prev;
    prev = call;
  }
  await prev;
  return (n / (performance.now() - t0)) * 1000;
}
