import type { Refusal } from './refusal.ts';

const HEADERS = ['*** Add File: ', '*** Update File: ', '*** Delete File: ', '*** Move to: '];

/**
 * The paths a Codex `apply_patch` patch writes, from its headers (`*** Add File: p`, `*** Update File: p`,
 * `*** Delete File: p`, `*** Move to: p`). A patch without `*** Begin Patch` / `*** End Patch`, or naming no file,
 * is refused: what cannot be read is denied.
 */
export function patchPaths(patch: string): { writes: string[] } | Refusal {
  const lines = patch.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const first = lines.findIndex((l) => l.trim() !== '');
  if (
    first < 0 ||
    lines[first]!.trim() !== '*** Begin Patch' ||
    !lines.some((l) => l.trim() === '*** End Patch')
  )
    return { rule: 'patch.unreadable', reason: 'the patch has no *** Begin Patch / *** End Patch envelope' };
  const writes: string[] = [];
  for (const line of lines) {
    const h = HEADERS.find((p) => line.startsWith(p));
    if (h !== undefined) writes.push(line.slice(h.length));
  }
  if (writes.length === 0) return { rule: 'patch.unreadable', reason: 'the patch names no file' };
  return { writes };
}
