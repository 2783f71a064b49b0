/** The W1 job mix, shared by bench/w1.ts and bench/w1-nats.ts: the same jobs in the same order every run. */
import type { JobSubmitInput, Priority, WorkspaceClient } from '../src/index.ts';
import { mulberry32 as prng } from '../tests/support/prng.ts';
import { progress } from './lib.ts';

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

/** Every acknowledged complete, per job: what the consumers saw. */
export class CompletionLedger {
  readonly completes = new Map<string, number>();
  count = 0;
  errors = 0;
  record(...jobIds: string[]): void {
    for (const id of jobIds) this.completes.set(id, (this.completes.get(id) ?? 0) + 1);
    this.count += jobIds.length;
  }
  get duplicates(): number {
    let d = 0;
    for (const c of this.completes.values()) if (c > 1) d += c - 1;
    return d;
  }
}

/**
 * Whether every job submitted ended COMPLETED and was completed exactly once, with nothing left queued; prints
 * what differs when not.
 */
export async function everyJobOnce(
  ws: WorkspaceClient,
  submitted: number,
  ledger: CompletionLedger,
  label: string,
): Promise<boolean> {
  const stats = await ws.queue.stats();
  const depth = Object.values(stats.depth).reduce((a, b) => a + b, 0);
  const others = Object.entries(stats.jobs).filter(([k, v]) => k !== 'COMPLETED' && v > 0);
  const ok =
    stats.jobs['COMPLETED'] === submitted &&
    others.length === 0 &&
    depth === 0 &&
    ledger.count === submitted &&
    ledger.completes.size === submitted &&
    ledger.duplicates === 0;
  if (!ok)
    progress(
      `${label}: CHECK FAILED: submitted ${submitted}, stats ${JSON.stringify(stats)}, ` +
        `completes ${ledger.count} of ${ledger.completes.size} jobs, duplicates ${ledger.duplicates}`,
    );
  return ok;
}
