import type { Write } from '../store/store.ts';
import type { ActorHost } from './actor-host.ts';
import type { Revocations } from './revocations.ts';

/** Keys removed per batch, so the single writer never stalls. */
export const RETENTION_BATCH = 1000;

export interface RetentionOptions {
  journalRetentionMs: number;
  /** Revoked worker credentials, pruned once all have expired. */
  revocations?: Revocations;
}

/** What one retention pass removed. */
export interface RetentionReport {
  idempotencyKeys: number;
  journalRecords: number;
  revocations: number;
}

/**
 * Removes expired idempotency keys and journal records older than the retention window (DESIGN §4): only
 * below every consumer's cursor (records still in the outbox count as unconsumed), never a workspace's newest
 * record (it carries the seq counter), in batches of at most 1,000 keys.
 */
export async function runRetention(host: ActorHost, options: RetentionOptions): Promise<RetentionReport> {
  const report: RetentionReport = { idempotencyKeys: 0, journalRecords: 0, revocations: 0 };
  const now = host.clock.now();
  // Outbox entries already published are marked done first, so they do not hold the journal back.
  await host.pipeline.flushDeferred();
  for (const ws of host.workspaces()) {
    for (;;) {
      const writes = host.idempotency.expired(ws, now, RETENTION_BATCH / 2);
      if (writes.length === 0) break;
      await commit(host, writes);
      report.idempotencyKeys += writes.filter((w) => w.key[1] === 'k').length;
    }
    const cursor = consumedBelow(host, ws);
    const cutoff = now - options.journalRetentionMs;
    for (;;) {
      const writes: Write[] = [];
      for (const { key, value } of host.store.range('journal', {
        start: [ws, 0],
        end: [ws, cursor],
        limit: RETENTION_BATCH,
      })) {
        if ((value as { at: number }).at >= cutoff) break;
        writes.push({ db: 'journal', key });
      }
      if (writes.length === 0) break;
      await commit(host, writes);
      report.journalRecords += writes.length;
      if (writes.length < RETENTION_BATCH) break;
    }
  }
  for (;;) {
    const writes = options.revocations?.expired(now, RETENTION_BATCH) ?? [];
    if (writes.length === 0) break;
    await commit(host, writes);
    report.revocations += writes.length;
  }
  return report;
}

/** The lowest seq some consumer still needs: pending outbox entries, registered cursors, and the newest record. */
function consumedBelow(host: ActorHost, ws: string): number {
  let below = Number.MAX_SAFE_INTEGER;
  for (const key of host.store.keys('journal', {
    start: [ws, Number.MAX_SAFE_INTEGER],
    end: [ws, 0],
    reverse: true,
    limit: 1,
  })) {
    below = key[1] as number;
  }
  for (const key of host.store.keys('outbox', {
    start: [ws, 0],
    end: [ws, Number.MAX_SAFE_INTEGER],
    limit: 1,
  })) {
    below = Math.min(below, key[1] as number);
  }
  for (const { value } of host.store.range('meta', {
    start: ['cursor', ws],
    end: ['cursor', ws, '\uffff'],
  })) {
    below = Math.min(below, (value as number) + 1);
  }
  return below;
}

async function commit(host: ActorHost, writes: Write[]): Promise<void> {
  const batch = host.pipeline.current();
  batch.writes.push(...writes);
  await batch.durable;
}
