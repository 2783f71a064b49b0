/** The word-level rules of the command analysis: wrappers, interpreters, git, assignments, operands (pure). */
import { PACKAGE_INSTALLS, RISKY_PREFIXES, RISKY_VARIABLES, GIT_WRITERS } from './command-tables.ts';
import type { CommandNeeds } from './command-needs.ts';
import type { Refusal } from './refusal.ts';
import type { ShWord } from './shell-ast.ts';

/** Whether a `>&`/`<&` target is a file descriptor (or `-`, which closes one) rather than a file. */
export function isFdWord(v: string): boolean {
  if (v === '-') return true;
  if (v.length === 0) return false;
  for (const c of v) if (c < '0' || c > '9') return false;
  return true;
}

/** Refuses assigning a variable that changes what commands run or load. */
export function assignment(name: string): Refusal | null {
  if (RISKY_VARIABLES.has(name) || RISKY_PREFIXES.some((p) => name.startsWith(p)))
    return { rule: 'command.risky-variable', reason: `assigning ${name} changes what commands run or load` };
  return null;
}

/** The last segment of a command word (`/usr/bin/rm` → `rm`). */
export function baseName(word: string): string {
  const i = word.lastIndexOf('/');
  return i < 0 ? word : word.slice(i + 1);
}

/** `python3.12` → `python`, `pip3` → `pip`: the family a versioned name belongs to. */
export function family(name: string): string {
  let end = name.length;
  while (end > 1 && ((name[end - 1]! >= '0' && name[end - 1]! <= '9') || name[end - 1] === '.')) end--;
  return name.slice(0, end);
}

/** The command `env` runs (its options and `NAME=value` words taken off), or why it is refused. */
export function unwrapEnv(words: readonly ShWord[]): readonly ShWord[] | Refusal {
  let i = 1;
  for (; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) return { rule: 'command.dynamic-arg', reason: 'an argument of env is not a literal' };
    if (v === '-i' || v === '--ignore-environment' || v === '-' || v === '-0' || v === '--null') continue;
    if (v === '--') {
      i++;
      break;
    }
    if (v === '-u' || v === '--unset') {
      i++;
      continue;
    }
    if (v.startsWith('-'))
      return { rule: 'command.env-option', reason: `env ${v} changes how the command is found or split` };
    const eq = v.indexOf('=');
    if (eq > 0) {
      const r = assignment(v.slice(0, eq));
      if (r) return r;
      continue;
    }
    break;
  }
  // Leading NAME=VALUE words after `--` are assignments too.
  while (i < words.length && (words[i]!.value?.indexOf('=') ?? -1) > 0) {
    const r = assignment(words[i]!.value!.slice(0, words[i]!.value!.indexOf('=')));
    if (r) return r;
    i++;
  }
  return words.slice(i);
}

/** The command a wrapper runs: its options (and `leading` operands, as `timeout`'s duration) taken off. */
export function unwrap(
  words: readonly ShWord[],
  valued: readonly string[],
  leading: number,
): readonly ShWord[] | null {
  let i = 1;
  while (i < words.length) {
    const v = words[i]!.value;
    if (v === null) return null;
    if (v === '--') {
      i++;
      break;
    }
    if (!v.startsWith('-') || v === '-') break;
    i += valued.includes(v) ? 2 : 1;
  }
  return words.slice(Math.min(words.length, i + leading));
}

/** Whether an interpreter is given code on its command line (`-c`, `-e`, `--eval`, in-place `-i`). */
export function inlineCode(
  values: readonly string[],
  short: string,
  long: readonly string[],
  fam: string,
): boolean {
  if (fam === 'deno' || fam === 'tclsh') return values[1] === 'eval' || values[1] === 'repl';
  for (let i = 1; i < values.length; i++) {
    const v = values[i]!;
    if (v === '--') return false;
    if (long.some((l) => v === l || v.startsWith(`${l}=`))) return true;
    if (v.startsWith('-') && !v.startsWith('--')) {
      for (const c of v.slice(1)) if (short.includes(c)) return true;
      continue;
    }
    if (!v.startsWith('-')) return false;
  }
  return false;
}

/** Whether a package manager's subcommand downloads packages. */
export function installs(fam: string, values: readonly string[]): boolean {
  if ((fam === 'python' || fam === 'py') && values.includes('-m')) {
    const mod = values[values.indexOf('-m') + 1];
    return mod === 'pip' || mod === 'ensurepip';
  }
  const subs = PACKAGE_INSTALLS.get(fam);
  if (!subs) return false;
  const sub = values.slice(1).find((v) => !v.startsWith('-')) ?? '';
  return subs.has(sub);
}

/** Whether a `sed` option edits files in place (`-i`, `-i.bak`, `-ni`, `--in-place`). */
export function isInPlace(v: string): boolean {
  if (v === '--in-place' || v.startsWith('--in-place=')) return true;
  return v.startsWith('-') && !v.startsWith('--') && v.slice(1).includes('i');
}

/** Refuses git subcommands that rewrite files and options that point git elsewhere. */
export function git(values: readonly string[]): Refusal | null {
  let i = 1;
  while (i < values.length && values[i]!.startsWith('-')) {
    const v = values[i]!;
    if (
      v === '-C' ||
      v === '-c' ||
      v.startsWith('--git-dir') ||
      v.startsWith('--work-tree') ||
      v === '--exec-path' ||
      v.startsWith('--exec-path=') ||
      v.startsWith('--config-env') ||
      v === '--namespace'
    )
      return {
        rule: 'command.git-option',
        reason: `git ${v} points git at another repository or configuration`,
      };
    i++;
  }
  const sub = values[i];
  if (sub !== undefined && GIT_WRITERS.has(sub))
    return { rule: 'command.git-writer', reason: `git ${sub} rewrites files without naming them` };
  return null;
}

/**
 * Every literal operand, `--opt=value` value and attached short-option value with a `/` (`-c/etc/x`) is a
 * path the command may read; the value of an output option (`--output`, `--outputFile`, `--log-file`,
 * `sort -o`) is a path it writes.
 */
export function addReads(values: readonly string[], words: readonly ShWord[], needs: CommandNeeds): void {
  const sort = baseName(values[0] ?? '') === 'sort';
  for (let i = 1; i < values.length; i++) {
    const v = values[i]!;
    if (v.startsWith('-')) {
      const eq = v.indexOf('=');
      const opt = eq > 0 ? v.slice(0, eq) : v;
      if (isOutputOption(opt) || (sort && opt === '-o')) {
        const target = eq > 0 ? v.slice(eq + 1) : values[++i];
        needs.writes.push(target ?? '');
      } else if (v.startsWith('--') && eq > 0) needs.reads.push(v.slice(eq + 1));
      else if (!v.startsWith('--') && v.length > 2 && (v.includes('/') || v.includes('~')))
        needs.reads.push(v.slice(2));
      continue;
    }
    needs.reads.push(words[i]!.glob ? globPrefix(v) : v);
  }
}

/** Whether a long option names an output file (`--output`, `--outputFile`, `--log-file`). */
export function isOutputOption(opt: string): boolean {
  if (!opt.startsWith('--')) return false;
  const o = opt.toLowerCase();
  return o.includes('output') || o.includes('outfile') || o.includes('out-file') || o.includes('log-file');
}

/** The static directory of a file-name pattern (`src/*.ts` → `src`); a `.`-pattern segment stays (and is judged). */
export function globPrefix(v: string): string {
  const segs = v.split('/');
  const out: string[] = [];
  for (const s of segs) {
    if (s.includes('*') || s.includes('?') || s.includes('[')) {
      if (s.startsWith('.')) out.push('..');
      break;
    }
    out.push(s);
  }
  return out.length === 0 ? '.' : (v.startsWith('/') && out[0] !== '' ? '/' : '') + out.join('/');
}
