/**
 * Lexical path rules of the tool policy (pure): a path an agent names is judged relative to the job's root,
 * without percent-decoding or case folding. Absolute paths are accepted only when they lie inside the root.
 */

/** Why a path was refused before any glob was consulted. */
export type PathRefusal = 'path.empty' | 'path.nul' | 'path.home' | 'path.escape';

/** The outcome of normalising a path an agent named. */
export type NormalisedPath =
  { ok: true; relative: string } | { ok: false; rule: PathRefusal; reason: string };

/**
 * Normalises `raw` against `root` (an absolute POSIX path): drops `.` and empty segments, resolves `..`
 * lexically, and answers the path relative to the root (`''` is the root itself). Refuses NUL bytes, a leading
 * `~` (the shell's home), and anything that leaves the root.
 */
export function normaliseToolPath(raw: string, root: string): NormalisedPath {
  if (raw === '') return { ok: false, rule: 'path.empty', reason: 'the path is empty' };
  if (raw.includes('\0')) return { ok: false, rule: 'path.nul', reason: 'the path contains a NUL byte' };
  if (raw.startsWith('~')) return { ok: false, rule: 'path.home', reason: `"${raw}" names a home directory` };
  const rootSegs = areaSegments(root);
  const stack = raw.startsWith('/') ? [] : [...rootSegs];
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (stack.length === 0) return escape(raw);
      stack.pop();
    } else stack.push(seg);
  }
  const rel = relativeSegments(rootSegs, stack);
  return rel === null ? escape(raw) : { ok: true, relative: rel.join('/') };
}

/** `child` relative to `parent` (both absolute), or null when `child` is not `parent` or below it. */
export function relativeTo(parent: string, child: string): string | null {
  if (isNormal(parent) && isNormal(child)) {
    // Both already normal: compare on a segment boundary without splitting (the common, fast case).
    if (child === parent) return '';
    const base = parent === '/' ? '/' : `${parent}/`;
    return child.startsWith(base) ? child.slice(base.length) : null;
  }
  const rel = relativeSegments(areaSegments(parent), segments(child));
  return rel === null ? null : rel.join('/');
}

/** An absolute path with no empty, `.` or `..` segment and no trailing slash (`/` itself included). */
function isNormal(p: string): boolean {
  if (p === '/') return true;
  if (!p.startsWith('/') || p.endsWith('/')) return false;
  if (p.includes('//') || p.includes('/./') || p.includes('/../')) return false;
  return !p.endsWith('/.') && !p.endsWith('/..');
}

/** Whether the absolute path `path` is `area` or lies below it (segment-wise, never by string prefix). */
export function isWithin(area: string, path: string): boolean {
  return relativeTo(area, path) !== null;
}

/** Joins an absolute base and a relative path (already normalised). */
export function joinPath(base: string, relative: string): string {
  if (relative === '') return base;
  return base.endsWith('/') ? base + relative : `${base}/${relative}`;
}

/** Segments of a root or protected path: the same few on every call, so kept (bounded). */
const areas = new Map<string, readonly string[]>();

function areaSegments(p: string): readonly string[] {
  let segs = areas.get(p);
  if (segs === undefined) {
    segs = segments(p);
    if (areas.size >= 1_024) areas.clear();
    areas.set(p, segs);
  }
  return segs;
}

function segments(p: string): string[] {
  const out: string[] = [];
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return out;
}

function relativeSegments(parent: readonly string[], child: readonly string[]): string[] | null {
  if (child.length < parent.length) return null;
  for (let i = 0; i < parent.length; i++) if (parent[i] !== child[i]) return null;
  return child.slice(parent.length);
}

function escape(raw: string): NormalisedPath {
  return { ok: false, rule: 'path.escape', reason: `"${raw}" leaves the job's root` };
}
