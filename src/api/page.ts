/** Room left in a NATS message for the subject, reply subject and headers of an answer. */
export const PAGE_HEADROOM_BYTES = 8 * 1024;
/** NATS's default `max_payload` (1 MiB): the page budget when no NATS server says otherwise. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** The byte budget of an answer for a transport whose messages hold at most `maxPayload` bytes. */
export function pageBudget(maxPayload: number | undefined): number {
  return Math.max(1024, (maxPayload ?? DEFAULT_MAX_PAYLOAD) - PAGE_HEADROOM_BYTES);
}

/** The list answers and how to name the cursor of their last item. */
const PAGES: Readonly<Record<string, (item: Record<string, unknown>) => unknown>> = {
  jobs: (job) => job['id'],
  workers: (worker) => worker['id'],
  events: (record) => record['seq'],
};

/** The array key of a list answer (`{ <key>: [...], nextCursor }`), if it is one. */
function pageKey(answer: unknown): string | undefined {
  if (!answer || typeof answer !== 'object' || !('nextCursor' in answer)) return undefined;
  const keys = Object.keys(answer);
  if (keys.length !== 2) return undefined;
  const key = keys.find((k) => k !== 'nextCursor');
  return key !== undefined && key in PAGES && Array.isArray((answer as Record<string, unknown>)[key])
    ? key
    : undefined;
}

/**
 * The JSON text of an answer for an adapter (HTTP, NATS), serialized once. A list page whose JSON would exceed
 * `budget` bytes ends early instead: it keeps the longest prefix that fits (at least one item, so paging always
 * advances) and its `nextCursor` names the last item kept. Any other answer is returned whole.
 */
export function encodeAnswer(answer: unknown, budget: number): string {
  // A shared read (read-cache.ts) answers the same object until it changes: encode it once per budget.
  const page = typeof answer === 'object' && answer !== null && 'nextCursor' in answer ? answer : undefined;
  const memo = page && encoded.get(page);
  if (memo?.budget === budget) return memo.text;
  const text = encodeWithin(answer, budget);
  if (page) encoded.set(page, { budget, text });
  return text;
}

const encoded = new WeakMap<object, { budget: number; text: string }>();

function encodeWithin(answer: unknown, budget: number): string {
  const text = JSON.stringify(answer) ?? '';
  if (text.length <= budget / 3 || Buffer.byteLength(text) <= budget) return text;
  const key = pageKey(answer);
  if (key === undefined) return text;
  const items = (answer as Record<string, Record<string, unknown>[]>)[key]!;
  // `{"<key>":[…],"nextCursor":…}`: the key names, brackets and a cursor of at most 128 characters.
  let used = 200;
  let n = 0;
  for (const item of items) {
    used += Buffer.byteLength(JSON.stringify(item)) + 1;
    if (used > budget && n > 0) break;
    n++;
  }
  if (n === items.length) return text;
  const kept = items.slice(0, n);
  return JSON.stringify({ [key]: kept, nextCursor: PAGES[key]!(kept[kept.length - 1]!) });
}
