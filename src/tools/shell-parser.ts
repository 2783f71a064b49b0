/**
 * The shell parser of the tool policy: tree-sitter-bash (its wasm ships in the npm package) run by
 * web-tree-sitter, converted into the plain-data tree of `domain/tool-policy/shell-ast.ts`. Whatever the
 * converter does not know — a syntax error, a function definition, arithmetic commands, any node type not
 * listed here — is a parse failure, which the policy denies.
 */
import { createRequire } from 'node:module';
import { Language, Parser, type Node } from 'web-tree-sitter';
import type { ShNode, ShParse, ShRedirect, ShWord, ShAssign } from '../domain/tool-policy/shell-ast.ts';
import { bareWord, plain, substitutionOffsets, unescapeDouble, Unreadable } from './shell-text.ts';

/** Command lines longer than this are not parsed (and so denied). */
export const MAX_COMMAND_LENGTH = 64 * 1024;

/** A loaded parser: `parse` is synchronous once loaded. */
export interface ShellParser {
  parse(text: string): ShParse;
}

let loading: Promise<ShellParser> | null = null;

/** Loads the wasm parser once per process and answers it. */
export function loadShellParser(): Promise<ShellParser> {
  loading ??= (async () => {
    await Parser.init();
    const require = createRequire(import.meta.url);
    const language = await Language.load(require.resolve('tree-sitter-bash/tree-sitter-bash.wasm'));
    const parser = new Parser();
    parser.setLanguage(language);
    return { parse: (text: string) => parseWith(parser, text) };
  })();
  return loading;
}

function parseWith(parser: Parser, text: string): ShParse {
  if (text.length > MAX_COMMAND_LENGTH) return { ok: false, reason: 'the command line is too long' };
  if (text.includes('\0')) return { ok: false, reason: 'the command line contains a NUL byte' };
  const tree = parser.parse(text);
  if (!tree) return { ok: false, reason: 'the parser gave no tree' };
  try {
    const root = tree.rootNode;
    if (root.hasError) return { ok: false, reason: 'syntax error' };
    return { ok: true, script: statements(root) };
  } catch (err) {
    if (err instanceof Unreadable) return { ok: false, reason: err.message };
    throw err;
  } finally {
    tree.delete();
  }
}

const GROUPS = new Set([
  'program',
  'list',
  'pipeline',
  'subshell',
  'compound_statement',
  'do_group',
  'if_statement',
  'elif_clause',
  'else_clause',
  'while_statement',
  'for_statement',
  'case_statement',
  'case_item',
  'negated_command',
  'test_command',
]);

const WORDS = new Set([
  'word',
  'string',
  'raw_string',
  'concatenation',
  'number',
  'simple_expansion',
  'expansion',
  'command_substitution',
  'process_substitution',
  'arithmetic_expansion',
  'ansi_c_string',
  'translated_string',
  'brace_expression',
]);

/** Expression nodes inside `[[ … ]]`: walked for the words (and substitutions) they hold. */
const EXPRESSIONS = new Set([
  'unary_expression',
  'binary_expression',
  'parenthesized_expression',
  'postfix_expression',
  'ternary_expression',
]);

const SKIP = new Set([
  'comment',
  'variable_name',
  'test_operator',
  'regex',
  'extglob_pattern',
  'heredoc_body',
]);

function statements(node: Node): ShNode[] {
  return [convert(node)].flatMap((n) => (n.type === 'group' && n.construct === 'program' ? n.body : [n]));
}

function convert(node: Node): ShNode {
  switch (node.type) {
    case 'command':
      return command(node);
    case 'variable_assignment':
      return { type: 'command', assigns: [assign(node)], words: [], redirects: [] };
    case 'variable_assignments':
      return { type: 'command', assigns: node.namedChildren.map(assign), words: [], redirects: [] };
    case 'declaration_command':
    case 'unset_command':
      return declaration(node);
    case 'redirected_statement': {
      const body = node.childForFieldName('body');
      const out: ShNode = { type: 'group', construct: node.type, body: [], words: [], redirects: [] };
      if (body) out.body.push(convert(body));
      for (const r of node.childrenForFieldName('redirect')) redirect(r, out);
      return out;
    }
    default:
      if (GROUPS.has(node.type)) return group(node);
      throw new Unreadable(`"${node.type}" is not supported`);
  }
}

function group(node: Node): ShNode {
  const out: ShNode & { type: 'group' } = {
    type: 'group',
    construct: node.type,
    body: [],
    words: [],
    redirects: [],
  };
  collect(node, out);
  return out;
}

/** Sorts a grouping's children into statements, words and redirections. */
function collect(node: Node, out: ShNode & { type: 'group' }): void {
  for (const c of node.namedChildren) {
    if (SKIP.has(c.type)) continue;
    if (WORDS.has(c.type)) out.words.push(word(c));
    else if (c.type === 'file_redirect' || c.type === 'heredoc_redirect' || c.type === 'herestring_redirect')
      redirect(c, out);
    else if (EXPRESSIONS.has(c.type)) collect(c, out);
    else out.body.push(convert(c));
  }
}

function command(node: Node): ShNode {
  const out: ShNode & { type: 'command' } = { type: 'command', assigns: [], words: [], redirects: [] };
  const holder: ShNode & { type: 'group' } = {
    type: 'group',
    construct: 'command',
    body: [],
    words: [],
    redirects: [],
  };
  for (const c of node.namedChildren) {
    if (c.type === 'variable_assignment') out.assigns.push(assign(c));
    else if (c.type === 'command_name') {
      const inner = c.namedChildren[0];
      if (!inner || c.namedChildren.length !== 1) throw new Unreadable('an unreadable command name');
      out.words.push(word(inner));
    } else if (
      c.type === 'file_redirect' ||
      c.type === 'herestring_redirect' ||
      c.type === 'heredoc_redirect'
    )
      redirect(c, holder);
    else if (WORDS.has(c.type)) out.words.push(word(c));
    else if (c.type === 'comment') continue;
    else throw new Unreadable(`"${c.type}" in a command is not supported`);
  }
  out.redirects.push(...holder.redirects);
  if (holder.body.length === 0) return out;
  return { type: 'group', construct: 'command', body: [out, ...holder.body], words: [], redirects: [] };
}

function declaration(node: Node): ShNode {
  const keyword = node.children[0];
  if (!keyword) throw new Unreadable('an empty declaration');
  const out: ShNode & { type: 'command' } = {
    type: 'command',
    assigns: [],
    words: [{ value: keyword.text, glob: false, subs: [] }],
    redirects: [],
  };
  for (const c of node.namedChildren) {
    if (c.type === 'variable_assignment') out.assigns.push(assign(c));
    else if (c.type === 'variable_name') out.words.push({ value: c.text, glob: false, subs: [] });
    else if (WORDS.has(c.type)) out.words.push(word(c));
    else throw new Unreadable(`"${c.type}" in a declaration is not supported`);
  }
  return out;
}

function assign(node: Node): ShAssign {
  const name = node.childForFieldName('name');
  const value = node.childForFieldName('value');
  if (!name) throw new Unreadable('an assignment without a name');
  if (!value) return { name: name.text, value: null };
  if (value.type === 'array') {
    const subs = value.namedChildren.flatMap((c) => word(c).subs);
    return { name: name.text, value: { value: null, glob: false, subs } };
  }
  if (!WORDS.has(value.type)) throw new Unreadable(`"${value.type}" as a value is not supported`);
  return { name: name.text, value: word(value) };
}

const OPERATORS = new Set([
  '>',
  '>>',
  '<',
  '&>',
  '&>>',
  '>&',
  '<&',
  '>|',
  '<>',
  '>&-',
  '<&-',
  '<<',
  '<<-',
  '<<<',
]);

function redirect(node: Node, out: { body: ShNode[]; redirects: ShRedirect[] }): void {
  let op: string | null = null;
  let fd: string | null = null;
  let target: ShWord | null = null;
  let body: ShWord | null = null;
  let quotedDelimiter = false;
  for (const c of node.children) {
    if (!c.isNamed) {
      if (OPERATORS.has(c.type)) op = c.type;
      continue;
    }
    switch (c.type) {
      case 'file_descriptor':
        fd = c.text;
        break;
      case 'heredoc_start':
        quotedDelimiter = c.text.includes("'") || c.text.includes('"') || c.text.includes('\\');
        break;
      case 'heredoc_body':
        body = quotedDelimiter ? { value: '', glob: false, subs: [] } : heredocBody(c);
        break;
      case 'heredoc_end':
        break;
      case 'file_redirect':
      case 'herestring_redirect':
      case 'heredoc_redirect':
        redirect(c, out);
        break;
      default:
        if (WORDS.has(c.type)) {
          if (node.type === 'herestring_redirect') body = word(c);
          else if (target) throw new Unreadable('a redirection with two targets');
          else target = word(c);
        } else out.body.push(convert(c));
    }
  }
  if (op === null)
    op = node.type === 'herestring_redirect' ? '<<<' : node.type === 'heredoc_redirect' ? '<<' : null;
  if (op === null) throw new Unreadable('an unreadable redirection');
  if (op === '>&-' || op === '<&-') {
    out.redirects.push({ op: op.slice(0, 2), fd, target: { value: '-', glob: false, subs: [] }, body: null });
    return;
  }
  if (node.type === 'file_redirect' && !target) throw new Unreadable('a redirection without a target');
  out.redirects.push({ op, fd, target, body });
}

function heredocBody(node: Node): ShWord {
  const subs: ShNode[] = [];
  const covered: [number, number][] = [];
  let dynamic = false;
  for (const c of node.namedChildren) {
    if (c.type === 'heredoc_content') continue;
    dynamic = true;
    covered.push([c.startIndex - node.startIndex, c.endIndex - node.startIndex]);
    subs.push(...word(c).subs);
  }
  // tree-sitter-bash leaves some bodies unparsed (`<<-` with tab-indented lines): every `$(` and backquote of an
  // unquoted body must lie inside a node it did parse, or the body is not read at all.
  for (const at of substitutionOffsets(node.text))
    if (!covered.some(([from, to]) => at >= from && at < to))
      throw new Unreadable('a here-document substitution the parser did not read');
  return { value: dynamic ? null : node.text, glob: false, subs };
}

/** A word after quote removal, or null when the shell would expand it. */
function word(node: Node): ShWord {
  switch (node.type) {
    case 'word':
      return bareWord(plain(node.text));
    case 'number':
      return { value: node.text, glob: false, subs: [] };
    case 'raw_string':
      return { value: node.text.slice(1, -1), glob: false, subs: [] };
    case 'string': {
      const parts = node.namedChildren;
      if (parts.every((p) => p.type === 'string_content'))
        return { value: unescapeDouble(plain(node.text.slice(1, -1))), glob: false, subs: [] };
      const subs = parts.flatMap((p) => (p.type === 'string_content' ? (plain(p.text), []) : word(p).subs));
      return { value: null, glob: false, subs };
    }
    case 'concatenation': {
      const parts = node.namedChildren.map(word);
      const text = node.text;
      const brace = (text.includes('{') || text.includes('}')) && (text.includes(',') || text.includes('..'));
      const dynamic = brace || parts.some((p) => p.value === null);
      return {
        value: dynamic ? null : parts.map((p) => p.value).join(''),
        glob: parts.some((p) => p.glob),
        subs: parts.flatMap((p) => p.subs),
      };
    }
    case 'command_substitution':
    case 'process_substitution':
      return { value: null, glob: false, subs: [group(node)] };
    case 'simple_expansion':
    case 'expansion':
    case 'arithmetic_expansion':
    case 'ansi_c_string':
    case 'translated_string':
    case 'brace_expression':
      return { value: null, glob: false, subs: nestedSubs(node) };
    default:
      if (EXPRESSIONS.has(node.type) || node.type === 'string_content' || node.type === 'variable_name')
        return { value: null, glob: false, subs: nestedSubs(node) };
      throw new Unreadable(`"${node.type}" in a word is not supported`);
  }
}

/** Substitutions anywhere inside an expansion (`${x:-$(cmd)}`). */
function nestedSubs(node: Node): ShNode[] {
  const out: ShNode[] = [];
  for (const c of node.namedChildren) {
    if (c.type === 'command_substitution' || c.type === 'process_substitution') out.push(group(c));
    else out.push(...nestedSubs(c));
  }
  return out;
}
