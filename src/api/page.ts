/** Room left in a NATS message for the subject, reply subject and headers of an answer. */
export const PAGE_HEADROOM_BYTES = 8 * 1024;
/** NATS's default `max_payload` (1 MiB): the page budget when no NATS server says otherwise. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** The byte budget of one list page for a transport whose messages hold at most `maxPayload` bytes. */
export function pageBudget(maxPayload: number | undefined): number {
  return Math.max(1024, (maxPayload ?? DEFAULT_MAX_PAYLOAD) - PAGE_HEADROOM_BYTES);
}

/**
 * The longest prefix of `items` whose JSON fits in `budget` bytes, with whether it had to stop early (at least
 * one item is kept, so paging always advances; an item larger than the budget fails later as PAYLOAD_TOO_LARGE).
 */
export function fitPage<T>(items: readonly T[], budget: number): { items: readonly T[]; cut: boolean } {
  if (items.length === 0) return { items, cut: false };
  const whole = Buffer.byteLength(JSON.stringify(items));
  if (whole <= budget) return { items, cut: false };
  // `{"jobs":[…],"nextCursor":"…"}`: the key names, brackets and a cursor of at most 128 characters.
  let used = 200;
  let n = 0;
  for (const item of items) {
    used += Buffer.byteLength(JSON.stringify(item)) + 1;
    if (used > budget && n > 0) break;
    n++;
  }
  return { items: items.slice(0, n), cut: n < items.length };
}
