/** Text-level helpers of the shell parser: quote removal and substitutions the grammar left as plain text. */
import type { ShWord } from '../domain/tool-policy/shell-ast.ts';

/** A construct the converter does not read: the whole command line is then a parse failure (denied). */
export class Unreadable extends Error {}

/** Offsets of unescaped `$(` and backquotes in raw text. */
export function substitutionOffsets(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '`' || (c === '$' && text[i + 1] === '(')) out.push(i);
  }
  return out;
}

/** Text the parser gave as plain that still holds a substitution: not read, so refused. */
export function plain(text: string): string {
  if (substitutionOffsets(text).length > 0) throw new Unreadable('a substitution the parser did not read');
  return text;
}

/** An unquoted word: backslashes removed; `~`, braces and `=~` make it dynamic; `*?[` make it a pattern. */
export function bareWord(text: string): ShWord {
  let value = '';
  let glob = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      const next = text[++i];
      if (next !== undefined && next !== '\n') value += next;
      continue;
    }
    if (c === '*' || c === '?' || c === '[') glob = true;
    value += c;
  }
  const tilde = text.startsWith('~') || text.includes('=~') || text.includes(':~');
  const brace = text.includes('{') && (text.includes(',') || text.includes('..'));
  return { value: tilde || brace ? null : value, glob, subs: [] };
}

/** Inside double quotes, a backslash escapes only `$`, `` ` ``, `"`, `\` and a newline. */
export function unescapeDouble(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '\\' && next !== undefined && '$`"\\\n'.includes(next)) {
      if (next !== '\n') out += next;
      i++;
    } else out += c;
  }
  return out;
}
