import type { ResourceConfig } from '../../contracts/resources.ts';
import type { Store } from '../../store/store.ts';
import { Ledger } from './ledger.ts';
import { wakeEveryWaiter, type Waiters } from './parking.ts';
import { QueueIndex } from './queue-index.ts';
import { WorkstreamIds } from './workstream-ids.ts';

/** The in-memory work state of one workspace: queue, ledger, fencing counter, parked claimers and allocators. */
export interface WorkspaceWork extends Waiters {
  readonly ws: string;
  readonly queue: QueueIndex;
  readonly ledger: Ledger;
  /** The last fencing token handed out (monotonic per workspace, persisted in meta). */
  fence: number;
  /** Workstreams by their definition's `workstream_id`. */
  readonly workstreamIds: WorkstreamIds;
}

/** Loads each workspace's work state from the store on first use; dropped whole when memory is rebuilt. */
export class WorkRegistry {
  private readonly store: Store;
  readonly config: ResourceConfig;
  private readonly byWs = new Map<string, WorkspaceWork>();
  /** Set by `endWaits`: the runtime is closing, so no caller parks any more. */
  private ending = false;

  constructor(store: Store, config: ResourceConfig) {
    this.store = store;
    this.config = config;
  }

  get(ws: string): WorkspaceWork {
    let work = this.byWs.get(ws);
    if (!work) {
      work = {
        ws,
        queue: QueueIndex.open(this.store, ws),
        ledger: Ledger.load(this.store, ws, this.config),
        fence: (this.store.get('meta', ['fence', ws]) as number | undefined) ?? 0,
        workstreamIds: new WorkstreamIds(this.store, ws),
        claimWaiters: [],
        resourceWaiters: [],
      };
      this.byWs.set(ws, work);
    }
    return work;
  }

  /** Workspaces loaded so far. */
  loaded(): IterableIterator<WorkspaceWork> {
    return this.byWs.values();
  }

  /** Whether parked waits have been ended for good (the runtime is closing). */
  get closing(): boolean {
    return this.ending;
  }

  /** Wakes every parked claim and allocate for good: they answer at once and nobody parks from now on. */
  endWaits(): void {
    this.ending = true;
    for (const work of this.byWs.values()) wakeEveryWaiter(work);
  }

  /** Forgets memory (after a failed commit); parked callers are woken to retry against the reloaded state. */
  reset(): void {
    const all = [...this.byWs.values()];
    this.byWs.clear();
    for (const work of all) wakeEveryWaiter(work);
  }
}
