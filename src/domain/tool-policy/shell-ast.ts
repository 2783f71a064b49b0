/**
 * The plain-data shell syntax tree the tool policy judges (pure data; `src/tools/shell-parser.ts` builds it from
 * tree-sitter-bash). It keeps only what a decision needs: simple commands with their words, assignments and
 * redirections, the groupings that carry redirections of their own, and the scripts nested in words
 * (command and process substitutions, here-document bodies).
 */

/** One shell word. `value` is its text after quote removal when it is fully static, else null. */
export interface ShWord {
  /** The word after quote removal, or null when the shell would expand it (variables, `~`, `$'…'`, braces). */
  value: string | null;
  /** Whether an unquoted `*`, `?` or `[` makes the shell expand it as a file-name pattern. */
  glob: boolean;
  /** Scripts that run while the word is expanded (`$(…)`, `` `…` ``, `<(…)`, `>(…)`). */
  subs: ShNode[];
}

/** A redirection: `op` is the operator (`>`, `>>`, `&>`, `&>>`, `>|`, `<`, `<>`, `>&`, `<&`, `<<`, `<<-`, `<<<`). */
export interface ShRedirect {
  op: string;
  /** The file descriptor written before the operator (`2>`), or null. */
  fd: string | null;
  /** The target word (null for a here-document, whose body is in `body`). */
  target: ShWord | null;
  /** A here-document's or here-string's body: scripts it runs while expanding. */
  body: ShWord | null;
}

/** `NAME=value` before a command or on its own. */
export interface ShAssign {
  name: string;
  value: ShWord | null;
}

/** A simple command: assignments, words (the first is the command name) and its own redirections. */
export interface ShCommand {
  type: 'command';
  assigns: ShAssign[];
  words: ShWord[];
  redirects: ShRedirect[];
}

/**
 * Any grouping — a list, pipeline, subshell, `{ …; }`, `if`, `while`, `for`, `case`, `[[ … ]]`, `!` — with the
 * redirections that apply to everything inside it and the words it expands itself (`for x in WORDS`).
 */
export interface ShGroup {
  type: 'group';
  /** The construct, for messages (`pipeline`, `subshell`, `for_statement`, …). */
  construct: string;
  body: ShNode[];
  words: ShWord[];
  redirects: ShRedirect[];
}

/** A node of the tree. */
export type ShNode = ShCommand | ShGroup;

/** What the shell parser answers: a script, or why it could not read it (which the policy denies). */
export type ShParse = { ok: true; script: ShNode[] } | { ok: false; reason: string };
