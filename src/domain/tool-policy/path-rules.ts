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
  const base = raw.startsWith('/') ? [] : segments(root);
  const stack = raw.startsWith('/') ? [] : [...base];
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (stack.length === 0) return escape(raw);
      stack.pop();
    } else stack.push(seg);
  }
  const rootSegs = segments(root);
  const rel = relativeSegments(rootSegs, stack);
  return rel === null ? escape(raw) : { ok: true, relative: rel.join('/') };
}

/** `child` relative to `parent` (both absolute), or null when `child` is not `parent` or below it. */
export function relativeTo(parent: string, child: string): string | null {
  const rel = relativeSegments(segments(parent), segments(child));
  return rel === null ? null : rel.join('/');
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
