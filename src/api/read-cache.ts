import type { ActorHost } from '../actors/actor-host.ts';

interface Entry {
  version: number;
  answer: unknown;
}

/** Answers kept per host (LRU): first pages of a few queries per workspace, what dashboards poll. */
const MAX_ENTRIES = 256;
const caches = new WeakMap<ActorHost, Map<string, Entry>>();

/**
 * A read answered from the last identical read while nothing in its workspace has become durable since
 * (`host.durableVersion`). Dashboards and supervisors poll the same lists; each poll otherwise decodes every
 * snapshot of the page from LMDB. Only for callers that merely serialize the answer (`sharedReads`): the object is
 * shared between them.
 */
export async function cachedRead<T>(
  ctx: { host: ActorHost; ws: string; sharedReads?: boolean },
  /** Whether this read may be kept (first pages only: later pages are read once each). */
  keep: boolean,
  key: string,
  read: () => Promise<T>,
): Promise<T> {
  const { host, ws } = ctx;
  if (!ctx.sharedReads || !keep) return read();
  await host.settled();
  const version = host.durableVersion(ws);
  let cache = caches.get(host);
  if (!cache) caches.set(host, (cache = new Map<string, Entry>()));
  const id = `${ws}\u0000${key}`;
  const hit = cache.get(id);
  if (hit) {
    cache.delete(id);
    if (hit.version === version) {
      cache.set(id, hit);
      return hit.answer as T;
    }
  }
  // What `read` sees after the settle above includes every batch counted in `version`.
  const answer = await read();
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(id, { version, answer });
  return answer;
}
