/**
 * The tool check as an adapter: parses the command line, gathers the file-system facts and asks the one pure
 * decision (`decideTool`). The HTTP route, the Claude Code hook and the SDK all come through here.
 */
import { resolve } from 'node:path';
import type { PhaseToolPolicy } from '../contracts/tool-policy.ts';
import type { ParsedScripts } from '../domain/tool-policy/command-analysis.ts';
import {
  decideTool,
  planToolCall,
  type PathFacts,
  type ToolCall,
  type ToolMode,
  type ToolVerdict,
} from '../domain/tool-policy/decide-tool.ts';
import { normaliseToolPath } from '../domain/tool-policy/path-rules.ts';
import type { ShParse } from '../domain/tool-policy/shell-ast.ts';
import { toolTargets } from '../domain/tool-policy/tool-kinds.ts';
import { pathFacts, realPathOf } from './facts.ts';
import { loadShellParser } from './shell-parser.ts';

/** Where and how a call is judged. */
export interface CheckToolOptions {
  /** The phase's policy (already parsed by `PhaseToolPolicySchema`). */
  policy: PhaseToolPolicy;
  mode: ToolMode;
  /** The job's root: the directory the agent works in. */
  root: string;
  /** Paths of the node no phase may touch: its data dir, the JWT secret file, other credentials. */
  protectedPaths: readonly string[];
}

/** `sh -c` scripts nest at most this deep; deeper ones stay unparsed, and so denied. */
const MAX_SCRIPT_ROUNDS = 5;

/** Judges one tool call: parse, gather facts, decide. */
export async function checkTool(tool: ToolCall, options: CheckToolOptions): Promise<ToolVerdict> {
  const root = resolve(options.root);
  const targets = toolTargets(tool.name, tool.input);
  let command: ShParse | undefined;
  const scripts: Record<string, ShParse> = {};
  // A parser that cannot load reads nothing: every command line is then unparsable, and so denied.
  const parse = async (text: string): Promise<ShParse> => {
    try {
      return (await loadShellParser()).parse(text);
    } catch (err) {
      return { ok: false, reason: `the shell parser is unavailable: ${String(err)}` };
    }
  };
  if (!('rule' in targets) && targets.shell !== null) command = await parse(targets.shell);
  let plan = planToolCall(tool, command, scripts);
  for (let round = 0; round < MAX_SCRIPT_ROUNDS && plan.scripts.length > 0; round++) {
    for (const s of plan.scripts) scripts[s] ??= await parse(s);
    plan = planToolCall(tool, command, scripts);
  }
  const paths: Record<string, PathFacts> = {};
  for (const raw of [...plan.reads, ...plan.writes]) {
    if (Object.hasOwn(paths, raw) || !normaliseToolPath(raw, root).ok) continue;
    const f = pathFacts(root, raw);
    if (f) paths[raw] = f;
  }
  const facts = {
    root,
    realRoot: realPathOf(root),
    protectedPaths: options.protectedPaths.map(realPathOf),
    paths,
    scripts: scripts as ParsedScripts,
    ...(command ? { command } : {}),
  };
  return decideTool({ policy: options.policy, mode: options.mode, tool, facts });
}
