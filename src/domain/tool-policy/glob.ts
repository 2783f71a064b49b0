/**
 * The path globs of a tool policy, matched segment by segment against a normalised relative path
 * (`src/a/b.ts`), never by string prefix: `tests/**` matches `tests` and everything below it, not `tests-evil/x`.
 *
 * - A glob and a path are split on `/`; each glob segment matches one path segment, except `**`, which matches
 *   zero or more whole segments (`**` alone matches every path, the root included).
 * - Within a segment, `*` matches any run of characters (none included) and `?` exactly one; every other
 *   character, `[`, `{` and `\` included, matches only itself. No case folding, no Unicode normalisation: a
 *   look-alike letter is another name.
 * - `*` and `**` match names starting with a dot too (`.git`, `.env`): a policy that must keep them out says so
 *   in `deny`, which wins.
 */
export function matchGlob(glob: string, path: string): boolean {
  return matchSegments(compiled(glob), 0, splitPath(path), 0);
}

/** Whether any of `globs` matches `path`. */
export function matchAnyGlob(globs: readonly string[], path: string): boolean {
  if (globs.length === 0) return false;
  const segs = splitPath(path);
  for (const g of globs) if (matchSegments(compiled(g), 0, segs, 0)) return true;
  return false;
}

/** Globs split once: a policy's globs repeat on every call (bounded, so a hostile policy cannot grow it). */
const cache = new Map<string, readonly string[]>();
const CACHE_LIMIT = 4_096;

function compiled(glob: string): readonly string[] {
  let segs = cache.get(glob);
  if (segs === undefined) {
    segs = splitPath(glob);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(glob, segs);
  }
  return segs;
}

/** A relative path's segments (`''` → none, the root). */
export function splitPath(path: string): string[] {
  return path === '' ? [] : path.split('/');
}

function matchSegments(glob: readonly string[], gi: number, path: readonly string[], pi: number): boolean {
  while (gi < glob.length) {
    const g = glob[gi]!;
    if (g === '**') {
      // Collapse consecutive `**`, then try every split point.
      let next = gi + 1;
      while (next < glob.length && glob[next] === '**') next++;
      if (next === glob.length) return true;
      for (let k = pi; k <= path.length; k++) if (matchSegments(glob, next, path, k)) return true;
      return false;
    }
    if (pi >= path.length || !matchSegment(g, path[pi]!)) return false;
    gi++;
    pi++;
  }
  return pi === path.length;
}

/** One segment against one name: `*` any run, `?` one character, everything else literally. */
export function matchSegment(glob: string, name: string): boolean {
  // Iterative wildcard matching with one backtrack point (linear in practice, no regex built from input).
  let g = 0;
  let n = 0;
  let star = -1;
  let mark = 0;
  while (n < name.length) {
    const c = glob[g];
    if (c === '?' || (c !== undefined && c !== '*' && c === name[n])) {
      g++;
      n++;
    } else if (c === '*') {
      star = g++;
      mark = n;
    } else if (star >= 0) {
      g = star + 1;
      n = ++mark;
    } else return false;
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}
