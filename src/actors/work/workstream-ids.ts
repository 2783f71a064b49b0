import type { Store } from '../../store/store.ts';
import type { StoredActor } from '../actor-reads.ts';

/**
 * A workspace's workstreams by the `workstream_id` of their definition, so a second submit of the same definition
 * id is refused. Loaded from the stored workstreams on first use; changed in memory inside the unit of work (which
 * undoes its change when it fails) and dropped whole with the work state when memory is rebuilt.
 */
export class WorkstreamIds {
  private byDefinition: Map<string, string> | undefined;

  constructor(
    private readonly store: Store,
    private readonly ws: string,
  ) {}

  /** The workstream made from this definition id, if any. */
  get(definitionId: string): string | undefined {
    return this.loaded().get(definitionId);
  }

  /** Records a new workstream; answers the undo. */
  add(definitionId: string, workstreamId: string): () => void {
    const map = this.loaded();
    map.set(definitionId, workstreamId);
    return () => map.delete(definitionId);
  }

  private loaded(): Map<string, string> {
    if (this.byDefinition) return this.byDefinition;
    const map = new Map<string, string>();
    const range = { start: [this.ws, 'workstream'], end: [this.ws, 'workstream', '\uffff'] };
    for (const { key, value } of this.store.range('actors', range)) {
      const context = ((value as StoredActor).s as { context?: { definitionId?: unknown } }).context;
      if (typeof context?.definitionId === 'string') map.set(context.definitionId, key[2] as string);
    }
    this.byDefinition = map;
    return map;
  }
}
