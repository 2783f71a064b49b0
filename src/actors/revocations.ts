import { FINAL_WORKER_STATUSES } from '../contracts/worker.ts';
import type { Store, Write } from '../store/store.ts';
import type { PendingRecord } from './tx.ts';

const PREFIX = 'revoked';

/**
 * The revoked worker credentials: a worker's credentials are revoked when it reaches COMPLETED or TERMINATED.
 * Kept in LMDB (`meta`, `['revoked', ws, workerId]` → when the entry may go) and mirrored in a map, so the
 * verified-token cache checks a credential with one lookup. An entry is pruned once every credential minted
 * before it has expired (`keepMs`, the longest a worker credential lives).
 */
export class Revocations {
  private readonly until = new Map<string, number>();
  private readonly store: Store;
  private readonly keepMs: number;

  constructor(store: Store, keepMs: number) {
    this.store = store;
    this.keepMs = keepMs;
    this.reload();
  }

  /** Rebuilds the map from LMDB (at open, and when memory is rebuilt after a failed commit). */
  reload(): void {
    this.until.clear();
    for (const { key, value } of this.store.range('meta', { start: [PREFIX], end: [PREFIX, '\uffff'] })) {
      this.until.set(`${String(key[1])}\u0000${String(key[2])}`, value as number);
    }
  }

  /** Whether the credentials of this worker are revoked. */
  readonly has = (workspaceId: string, workerId: string): boolean =>
    this.until.has(`${workspaceId}\u0000${workerId}`);

  /** The writes that revoke the credentials of every worker these records end (a transition observer). */
  readonly observe = (ws: string, records: readonly PendingRecord[], now: number): Write[] => {
    const writes: Write[] = [];
    for (const r of records) {
      if (r.kind !== 'worker' || !FINAL_WORKER_STATUSES.includes(r.to as never)) continue;
      const id = `${ws}\u0000${r.id}`;
      if (this.until.has(id)) continue;
      this.until.set(id, now + this.keepMs);
      writes.push({ db: 'meta', key: [PREFIX, ws, r.id], value: now + this.keepMs });
    }
    return writes;
  };

  /** Up to `limit` removals of entries whose credentials have all expired by `now`. */
  expired(now: number, limit: number): Write[] {
    const writes: Write[] = [];
    for (const [id, until] of this.until) {
      if (writes.length >= limit) break;
      if (until > now) continue;
      const [ws, workerId] = id.split('\u0000') as [string, string];
      this.until.delete(id);
      writes.push({ db: 'meta', key: [PREFIX, ws, workerId] });
    }
    return writes;
  }

  /** Number of revoked workers held. */
  get size(): number {
    return this.until.size;
  }
}
