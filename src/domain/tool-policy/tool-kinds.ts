import type { ToolKind } from '../../contracts/tool-policy.ts';
import { patchPaths } from './apply-patch.ts';
import type { Refusal } from './refusal.ts';

/**
 * Tool names and their kinds: Claude Code's (Write, Edit, …, `mcp__server__tool`), Codex's (`apply_patch`,
 * `shell`) and the node's built-in tools (`read_file`, …). A name not listed has no kind and is denied.
 */
export const TOOL_KINDS: Readonly<Record<string, ToolKind>> = {
  Write: 'write',
  Edit: 'edit',
  MultiEdit: 'edit',
  NotebookEdit: 'edit',
  Read: 'read',
  NotebookRead: 'read',
  LS: 'list',
  Glob: 'list',
  Grep: 'search',
  Bash: 'run_command',
  Task: 'agent',
  Agent: 'agent',
  WebFetch: 'network',
  WebSearch: 'network',
  apply_patch: 'edit',
  shell: 'run_command',
  read_file: 'read',
  write_file: 'write',
  edit_file: 'edit',
  list_files: 'list',
  search_files: 'search',
  run_command: 'run_command',
  ask_human: 'ask_human',
};

/** The kind of a tool name (`mcp__…` is `mcp`), or null for an unknown tool. */
export function toolKind(name: string): ToolKind | null {
  if (name.startsWith('mcp__')) return 'mcp';
  return Object.hasOwn(TOOL_KINDS, name) ? TOOL_KINDS[name]! : null;
}

/** What a tool call touches, read from its input: paths read and written, and a command line to run. */
export interface ToolTargets {
  reads: string[];
  writes: string[];
  /** A command line to parse (Claude Code's Bash, the built-in run_command). */
  shell: string | null;
  /** An argument vector run without a shell (Codex's `shell`). */
  argv: string[] | null;
  /** The directory a command runs in, when the tool names one (it must be the job root). */
  workdir: string | null;
}

type Input = Readonly<Record<string, unknown>>;

/** Reads a tool's input (Claude Code's `tool_input` shape, Codex's arguments) into its targets. */
export function toolTargets(name: string, input: unknown): ToolTargets | Refusal {
  const t: ToolTargets = { reads: [], writes: [], shell: null, argv: null, workdir: null };
  if (name === 'apply_patch' && typeof input === 'string') return fromPatch(input, t);
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return bad(name, 'is not an object');
  const i = input as Input;
  switch (name) {
    case 'Write':
    case 'Edit':
    case 'MultiEdit':
      return field(i, 'file_path', name, (p) => t.writes.push(p)) ?? t;
    case 'NotebookEdit':
      return field(i, 'notebook_path', name, (p) => t.writes.push(p)) ?? t;
    case 'Read':
    case 'NotebookRead':
      return field(i, name === 'Read' ? 'file_path' : 'notebook_path', name, (p) => t.reads.push(p)) ?? t;
    case 'write_file':
    case 'edit_file':
      return field(i, 'path', name, (p) => t.writes.push(p)) ?? t;
    case 'read_file':
      return field(i, 'path', name, (p) => t.reads.push(p)) ?? t;
    case 'LS':
    case 'list_files':
    case 'search_files':
    case 'Grep':
    case 'Glob': {
      const r = optional(i, 'path', name, (p) => t.reads.push(p));
      if (r) return r;
      if (t.reads.length === 0) t.reads.push('.');
      const globField = name === 'Glob' ? 'pattern' : name === 'Grep' ? 'glob' : null;
      return (globField && optional(i, globField, name, (g) => patternPrefix(g, t))) ?? t;
    }
    case 'Bash':
    case 'run_command':
      return field(i, 'command', name, (c) => (t.shell = c)) ?? t;
    case 'shell': {
      const argv = i.command;
      if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string'))
        return bad(name, 'has no command argument vector');
      const r = optional(i, 'workdir', name, (w) => (t.workdir = w));
      if (r) return r;
      t.argv = argv;
      return t;
    }
    case 'apply_patch': {
      const patch = typeof i.input === 'string' ? i.input : i.patch;
      if (typeof patch !== 'string') return bad(name, 'has no patch text');
      return fromPatch(patch, t);
    }
    default:
      return t;
  }
}

function fromPatch(patch: string, t: ToolTargets): ToolTargets | Refusal {
  const p = patchPaths(patch);
  if ('rule' in p) return p;
  t.writes.push(...p.writes);
  return t;
}

/** A search pattern (`src/**\/*.ts`) is judged by its static directory; it may not be absolute or climb. */
function patternPrefix(glob: string, t: ToolTargets): void {
  const segs = glob.split('/');
  const out: string[] = [];
  for (const s of segs) {
    if (s.includes('*') || s.includes('?') || s.includes('[') || s.includes('{')) break;
    out.push(s);
  }
  // Anything after the static part may still climb (`*/../../x`): judge the whole pattern lexically too.
  t.reads.push(out.length === 0 ? '.' : out.join('/') || '/');
  if (segs.includes('..')) t.reads.push(glob);
}

function field(i: Input, key: string, name: string, use: (v: string) => unknown): Refusal | null {
  const v = i[key];
  if (typeof v !== 'string') return bad(name, `has no string "${key}"`);
  use(v);
  return null;
}

function optional(i: Input, key: string, name: string, use: (v: string) => unknown): Refusal | null {
  const v = i[key];
  if (v === undefined || v === null) return null;
  return field(i, key, name, use);
}

function bad(name: string, what: string): Refusal {
  return { rule: 'tool.input', reason: `the input of ${name} ${what}` };
}
