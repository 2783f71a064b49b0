import type { Invocation } from './command-analysis.ts';

/**
 * Whether an allow pattern admits an invocation: the pattern's words (space-separated) must equal the command's
 * first words; a last word `*` admits any further words (none included), otherwise there may be none. An
 * invocation with arguments it cannot show (`xargs`, `find -exec`) needs a pattern ending in `*`.
 */
export function allowsInvocation(pattern: string, inv: Invocation): boolean {
  const p = words(pattern);
  const open = p[p.length - 1] === '*';
  const fixed = open ? p.length - 1 : p.length;
  if (inv.words.length < fixed || (!open && (inv.words.length !== fixed || inv.extraArgs))) return false;
  for (let i = 0; i < fixed; i++) if (p[i] !== inv.words[i]) return false;
  return true;
}

/** Whether a deny pattern catches an invocation: its words (a last `*` ignored) begin the command. */
export function deniesInvocation(pattern: string, inv: Invocation): boolean {
  const p = words(pattern);
  const fixed = p[p.length - 1] === '*' ? p.length - 1 : p.length;
  if (inv.words.length < fixed) return false;
  for (let i = 0; i < fixed; i++) if (p[i] !== inv.words[i]) return false;
  return true;
}

/** Patterns split once: a policy's patterns repeat on every call (bounded). */
const cache = new Map<string, readonly string[]>();

function words(pattern: string): readonly string[] {
  let w = cache.get(pattern);
  if (w === undefined) {
    w = pattern.split(' ').filter((x) => x !== '');
    if (cache.size >= 4_096) cache.clear();
    cache.set(pattern, w);
  }
  return w;
}
