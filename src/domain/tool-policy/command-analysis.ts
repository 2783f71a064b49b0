import {
  ALWAYS_DENIED,
  INTERPRETERS,
  NETWORK,
  OPAQUE_WRITERS,
  PRIVILEGE,
  PROGRAM_LANGUAGES,
  SHELLS,
  WRAPPERS,
  WRITERS,
} from './command-tables.ts';
import type { Refusal } from './refusal.ts';
import type { ShNode, ShParse, ShRedirect, ShWord } from './shell-ast.ts';
import type { CommandNeeds, Invocation, ParsedScripts } from './command-needs.ts';
import {
  addReads,
  assignment,
  baseName,
  family,
  git,
  inlineCode,
  installs,
  isFdWord,
  isInPlace,
  unwrap,
  unwrapEnv,
} from './command-words.ts';
import { writerTargets } from './writer-targets.ts';

export type { CommandNeeds, Invocation, ParsedScripts };

/**
 * The analysis of a command line: what it needs, or why it is refused outright — with what it found before the
 * refusal (`needs`), so that a program that runs earlier, such as a substitution, can be judged first.
 */
export type CommandAnalysis =
  { ok: true; needs: CommandNeeds } | ({ ok: false; needs: CommandNeeds } & Refusal);

const MAX_NESTING = 4;
const WRITE_OPS = new Set(['>', '>>', '&>', '&>>', '>|', '<>']);

/**
 * Analyses a parsed command line into the programs it runs and the paths it reads and writes (pure). Every simple
 * command counts — in pipelines, lists, subshells, command and process substitutions and here-documents — and
 * each redirection applies to the commands of the group it is written on. `scripts` holds the parses of `sh -c`
 * scripts; one it lacks is listed in `needs.scripts` and refused by the decision.
 */
export function analyseCommand(parse: ShParse, scripts: ParsedScripts = {}): CommandAnalysis {
  const needs: CommandNeeds = { invocations: [], reads: [], writes: [], scripts: [] };
  const refusal = analyseParse(parse, scripts, needs, 0);
  return refusal === null ? { ok: true, needs } : { ok: false, ...refusal, needs };
}

function analyseParse(
  parse: ShParse,
  scripts: ParsedScripts,
  needs: CommandNeeds,
  depth: number,
): Refusal | null {
  if (!parse.ok) return { rule: 'command.unparsable', reason: `the command cannot be read: ${parse.reason}` };
  for (const node of parse.script) {
    const r = analyseNode(node, [], scripts, needs, depth);
    if (r) return r;
  }
  return null;
}

function analyseNode(
  node: ShNode,
  outer: readonly ShRedirect[],
  scripts: ParsedScripts,
  needs: CommandNeeds,
  depth: number,
): Refusal | null {
  const redirects = [...node.redirects, ...outer];
  for (const r of node.redirects) {
    const refusal =
      redirection(r, needs) ??
      subsOf(r.target, scripts, needs, depth) ??
      subsOf(r.body, scripts, needs, depth);
    if (refusal) return refusal;
  }
  for (const w of node.words) {
    const r = subsOf(w, scripts, needs, depth);
    if (r) return r;
  }
  if (node.type === 'group') {
    for (const child of node.body) {
      const r = analyseNode(child, redirects, scripts, needs, depth);
      if (r) return r;
    }
    return null;
  }
  for (const a of node.assigns) {
    const r = assignment(a.name) ?? subsOf(a.value, scripts, needs, depth);
    if (r) return r;
  }
  if (node.words.length === 0) return null;
  return simpleCommand(node.words, false, scripts, needs, depth);
}

function subsOf(
  word: ShWord | null,
  scripts: ParsedScripts,
  needs: CommandNeeds,
  depth: number,
): Refusal | null {
  if (!word) return null;
  for (const sub of word.subs) {
    const r = analyseNode(sub, [], scripts, needs, depth);
    if (r) return r;
  }
  return null;
}

function redirection(r: ShRedirect, needs: CommandNeeds): Refusal | null {
  if (r.op === '<<' || r.op === '<<-' || r.op === '<<<') return null;
  const t = r.target;
  if ((r.op === '>&' || r.op === '<&') && t?.value !== null && t !== null && isFdWord(t.value)) return null;
  if (!t || t.value === null || t.glob)
    return { rule: 'command.dynamic-redirect', reason: `the target of "${r.op}" is not a literal path` };
  if (WRITE_OPS.has(r.op) || r.op === '>&') needs.writes.push(t.value);
  if (r.op === '<' || r.op === '<>' || r.op === '<&') needs.reads.push(t.value);
  return null;
}

function simpleCommand(
  wordsIn: readonly ShWord[],
  extraArgs: boolean,
  scripts: ParsedScripts,
  needs: CommandNeeds,
  depth: number,
): Refusal | null {
  const first = wordsIn[0];
  if (!first) return null;
  if (first.value === null || first.glob)
    return {
      rule: 'command.dynamic-name',
      reason: 'the command word is not a literal (a variable or expansion)',
    };
  let words = wordsIn;
  // Take wrappers off: env, nice, nohup, time, timeout, stdbuf, setsid, command.
  for (;;) {
    const name = baseName(words[0]!.value ?? '');
    if (name === 'env') {
      const rest = unwrapEnv(words);
      if ('rule' in rest) return rest;
      if (rest.length === 0) break;
      words = rest;
      continue;
    }
    const wrapper = WRAPPERS.get(name);
    if (!wrapper) break;
    const rest = unwrap(words, wrapper.valued, wrapper.leading);
    if (rest === null)
      return { rule: 'command.dynamic-arg', reason: `the options of ${name} are not literal` };
    if (rest.length === 0 || (name === 'command' && words.some((w) => w.value === '-v' || w.value === '-V')))
      break;
    words = rest;
  }
  const values: string[] = [];
  for (const w of words) {
    if (w.value === null)
      return {
        rule: 'command.dynamic-arg',
        reason: 'an argument is not a literal (a variable or expansion)',
      };
    values.push(w.value);
  }
  const cmd = values[0]!;
  const name = baseName(cmd);
  if (name === '' || words[0]!.glob)
    return {
      rule: 'command.dynamic-name',
      reason: 'the command word is not a literal (a variable or expansion)',
    };
  if (ALWAYS_DENIED.has(name)) return { rule: 'command.builtin', reason: `"${name}" is never allowed` };
  if (PRIVILEGE.has(name))
    return { rule: 'command.privilege', reason: `"${name}" runs commands as another user` };
  if (SHELLS.has(name)) return shell(values, words, extraArgs, scripts, needs, depth);
  const fam = family(name);
  const interp = INTERPRETERS.get(fam);
  if (interp && inlineCode(values, interp.short, interp.long, fam))
    return { rule: 'command.inline-code', reason: `"${name}" with inline code can do anything` };
  if (PROGRAM_LANGUAGES.has(name))
    return { rule: 'command.inline-code', reason: `"${name}" runs a program given on the command line` };
  if (OPAQUE_WRITERS.has(name))
    return { rule: 'command.opaque-writer', reason: `"${name}" writes files the command line does not name` };
  if (name === 'git') {
    const r = git(values);
    if (r) return r;
  }
  if (name === 'sed' && values.some((v) => isInPlace(v)))
    return addWriter(values, words, extraArgs, needs, 'sed');
  if (name === 'rg' && values.some((v) => v === '--pre' || v.startsWith('--pre=')))
    return { rule: 'command.inline-code', reason: 'rg --pre runs a program on every file' };
  if (name === 'find') return find(words, values, scripts, needs, depth);
  if (name === 'xargs') return xargs(words, values, scripts, needs, depth);
  const network = NETWORK.has(name) || installs(fam, values);
  if (WRITERS.has(name)) return addWriter(values, words, extraArgs, needs, name);
  needs.invocations.push({ words: values, extraArgs, network });
  addReads(values, words, needs);
  return null;
}

function shell(
  values: readonly string[],
  words: readonly ShWord[],
  extraArgs: boolean,
  scripts: ParsedScripts,
  needs: CommandNeeds,
  depth: number,
): Refusal | null {
  let i = 1;
  let inline = false;
  for (; i < values.length; i++) {
    const v = values[i]!;
    if (v === '--' || !v.startsWith('-') || v === '-') break;
    if (!v.startsWith('--') && v.includes('c')) inline = true;
    if (v === '-o' || v === '+o' || v === '-O' || v === '+O') i++;
  }
  if (!inline) {
    // `bash file.sh` runs a file: the policy's command patterns decide.
    needs.invocations.push({ words: [...values], extraArgs, network: false });
    addReads(values, words, needs);
    return null;
  }
  const script = values[i];
  if (script === undefined) return { rule: 'command.shell-script', reason: 'the shell has -c but no script' };
  if (depth >= MAX_NESTING) return { rule: 'command.shell-script', reason: 'shells nest too deep' };
  const parsed = scripts[script];
  if (!parsed) {
    needs.scripts.push(script);
    return null;
  }
  const r = analyseParse(parsed, scripts, needs, depth + 1);
  return r ? { rule: r.rule, reason: `in the script of ${values[0]} -c: ${r.reason}` } : null;
}

function addWriter(
  values: readonly string[],
  words: readonly ShWord[],
  extraArgs: boolean,
  needs: CommandNeeds,
  name: string,
): Refusal | null {
  if (extraArgs)
    return {
      rule: 'command.writer-unknown-target',
      reason: `${name} would write paths the command line does not show`,
    };
  if (words.some((w) => w.glob))
    return { rule: 'command.writer-unknown-target', reason: `${name} is given a file-name pattern` };
  const t = writerTargets(name, values);
  if ('rule' in t) return t;
  needs.invocations.push({ words: [...values], extraArgs: false, network: false });
  needs.reads.push(...t.reads);
  needs.writes.push(...t.writes);
  return null;
}

function find(
  words: readonly ShWord[],
  values: readonly string[],
  scripts: ParsedScripts,
  needs: CommandNeeds,
  depth: number,
): Refusal | null {
  const own: ShWord[] = [words[0]!];
  for (let i = 1; i < values.length; i++) {
    const v = values[i]!;
    if (v === '-delete' || v.startsWith('-fprint') || v === '-fls')
      return {
        rule: 'command.writer-unknown-target',
        reason: `find ${v} writes or removes the files it finds`,
      };
    if (v === '-exec' || v === '-execdir' || v === '-ok' || v === '-okdir') {
      let j = i + 1;
      while (j < values.length && values[j] !== ';' && values[j] !== '+') j++;
      const inner = words.slice(i + 1, j).filter((w) => w.value !== '{}');
      if (inner.length === 0) return { rule: 'command.dynamic-arg', reason: `find ${v} has no command` };
      const r = simpleCommand(inner, true, scripts, needs, depth);
      if (r) return { rule: r.rule, reason: `in find ${v}: ${r.reason}` };
      i = j;
      continue;
    }
    own.push(words[i]!);
  }
  return pushOwn(own, needs);
}

function xargs(
  words: readonly ShWord[],
  values: readonly string[],
  scripts: ParsedScripts,
  needs: CommandNeeds,
  depth: number,
): Refusal | null {
  const valued = [
    '-I',
    '-i',
    '-n',
    '-P',
    '-L',
    '-l',
    '-s',
    '-d',
    '-E',
    '-e',
    '-a',
    '--arg-file',
    '--delimiter',
    '--max-args',
    '--max-procs',
    '--replace',
  ];
  let i = 1;
  const own: ShWord[] = [words[0]!];
  while (i < values.length && values[i]!.startsWith('-')) {
    const v = values[i]!;
    if (v === '-a' || v === '--arg-file') needs.reads.push(values[i + 1] ?? '');
    own.push(words[i]!);
    if (valued.includes(v)) own.push(...words.slice(i + 1, i + 2));
    i += valued.includes(v) ? 2 : 1;
  }
  const inner = words.slice(i);
  const r = pushOwn(own, needs);
  if (r || inner.length === 0) return r;
  const ri = simpleCommand(inner, true, scripts, needs, depth);
  return ri ? { rule: ri.rule, reason: `in xargs: ${ri.reason}` } : null;
}

function pushOwn(own: readonly ShWord[], needs: CommandNeeds): Refusal | null {
  const values = own.map((w) => w.value!);
  needs.invocations.push({ words: values, extraArgs: false, network: false });
  addReads(values, own, needs);
  return null;
}
