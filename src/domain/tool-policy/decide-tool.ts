import type { PhaseToolPolicy, ToolDecision, ToolKind } from '../../contracts/tool-policy.ts';
import { analyseCommand, type CommandNeeds, type ParsedScripts } from './command-analysis.ts';
import { allowsInvocation, deniesInvocation } from './command-patterns.ts';
import { HARMLESS_DEVICES } from './command-tables.ts';
import { matchAnyGlob, matchSegment } from './glob.ts';
import { isWithin, joinPath, normaliseToolPath, relativeTo } from './path-rules.ts';
import type { Refusal } from './refusal.ts';
import type { ShParse } from './shell-ast.ts';
import { toolKind, toolTargets, type ToolTargets } from './tool-kinds.ts';

/** What the adapter found on disk about one path (`src/tools/facts.ts`). */
export interface PathFacts {
  /** Absolute real path: the deepest existing ancestor's real path, joined with the components that do not exist. */
  realPath: string;
  /** The final component as `lstat` sees it (a symlink is not followed). */
  type: 'file' | 'directory' | 'symlink' | 'other' | 'missing';
  /** Its hard-link count (0 when missing). */
  links: number;
}

/** Everything the decision knows beyond the policy and the call: gathered by an adapter, never by the decision. */
export interface ToolFacts {
  /** The job's root, absolute, as the agent names it; relative paths are relative to it. */
  root: string;
  /** The root's real path. */
  realRoot: string;
  /** Absolute real paths no phase may read or write (the data dir, the JWT secret, other credentials). */
  protectedPaths: readonly string[];
  /** Facts per path, keyed by the path as the call names it. */
  paths: Readonly<Record<string, PathFacts>>;
  /** The parsed command line of a shell tool (Bash, run_command). */
  command?: ShParse;
  /** Parses of `sh -c` scripts found in the command line, keyed by their text. */
  scripts?: ParsedScripts;
}

/** One tool call: its name as the agent's tool names it and its input (Claude Code's `tool_input` shape). */
export interface ToolCall {
  name: string;
  input: unknown;
}

/** Strict denies what the policy denies or asks; permissive allows it, warns, and records the rule. */
export type ToolMode = 'strict' | 'permissive';

/** The answer: the decision, the rule that decided, why; `wouldDeny` when permissive mode let a refusal through. */
export interface ToolVerdict {
  decision: ToolDecision;
  /** What the policy itself answered, before the mode. */
  policyDecision: ToolDecision;
  rule: string;
  reason: string;
  wouldDeny?: true;
}

/** What a call needs checked, for the adapter to gather facts for (paths) and parse (scripts). */
export interface ToolPlan {
  kind: ToolKind | null;
  reads: string[];
  writes: string[];
  scripts: string[];
}

/**
 * The paths and scripts a call touches, so the adapter can gather their facts before `decideTool` (pure). Calls
 * that are refused before any path matters answer empty lists.
 */
export function planToolCall(tool: ToolCall, command?: ShParse, scripts?: ParsedScripts): ToolPlan {
  const kind = toolKind(tool.name);
  const t = toolTargets(tool.name, tool.input);
  if ('rule' in t) return { kind, reads: [], writes: [], scripts: [] };
  const parse = commandParse(t, command);
  if (parse === null || 'rule' in parse) return { kind, reads: t.reads, writes: t.writes, scripts: [] };
  const { needs } = analyseCommand(parse, scripts);
  return {
    kind,
    reads: [...t.reads, ...needs.reads],
    writes: [...t.writes, ...needs.writes],
    scripts: needs.scripts,
  };
}

/**
 * The one tool-policy decision (pure): every interface — the HTTP route, the hook, the SDK — calls it, and
 * nothing else decides. It takes the phase policy, the mode, the call and the facts an adapter gathered.
 */
export function decideTool(args: {
  policy: PhaseToolPolicy;
  mode: ToolMode;
  tool: ToolCall;
  facts: ToolFacts;
}): ToolVerdict {
  return applyMode(args.mode, judge(args.policy, args.tool, args.facts));
}

interface Judgement {
  decision: ToolDecision;
  rule: string;
  reason: string;
}

function judge(policy: PhaseToolPolicy, tool: ToolCall, facts: ToolFacts): Judgement {
  const kind = toolKind(tool.name);
  if (kind === null) return deny('tool.unknown', `"${tool.name}" is not a known tool`);
  const listed = kind === 'mcp' && policy.mcp.some((p) => matchSegment(p, tool.name));
  const base =
    listed && !policy.deny.includes('mcp')
      ? allowed('mcp.listed', `${tool.name} is listed`)
      : ruleFor(policy, kind);
  if (base.decision === 'deny') return base;
  const t = toolTargets(tool.name, tool.input);
  if ('rule' in t) return deny(t.rule, t.reason);
  if (t.workdir !== null) {
    const w = normaliseToolPath(t.workdir, facts.root);
    if (!w.ok || w.relative !== '')
      return deny('command.workdir', 'a command runs in the job root, not elsewhere');
  }
  const reads = t.reads;
  const writes = t.writes;
  const needs = commandNeeds(policy, t, facts.command, facts.scripts ?? {});
  if (needs !== null) {
    if ('rule' in needs) return deny(needs.rule, needs.reason);
    for (const p of needs.reads) if (!HARMLESS_DEVICES.has(p)) reads.push(p);
    for (const p of needs.writes) if (!HARMLESS_DEVICES.has(p)) writes.push(p);
  }
  for (const p of reads) {
    const r = checkPath(policy, facts, p, 'read');
    if (r) return deny(r.rule, r.reason);
  }
  for (const p of writes) {
    const r = checkPath(policy, facts, p, 'write');
    if (r) return deny(r.rule, r.reason);
  }
  return base;
}

function ruleFor(policy: PhaseToolPolicy, kind: ToolKind): Judgement {
  if (policy.deny.includes(kind)) return deny('kind.denied', `this phase forbids ${kind} tools`);
  if (policy.allow.includes(kind)) return allowed('kind.allowed', `this phase allows ${kind} tools`);
  if (policy.ask.includes(kind))
    return { decision: 'ask', rule: 'kind.ask', reason: `${kind} tools need a human's approval` };
  if (policy.default === 'deny') return deny('kind.default', `this phase does not allow ${kind} tools`);
  return { decision: policy.default, rule: 'kind.default', reason: `the phase's default for ${kind} tools` };
}

/** The command line a tool runs (null when it runs none). */
function commandParse(t: ToolTargets, command: ShParse | undefined): ShParse | Refusal | null {
  if (t.argv !== null) return argvParse(t.argv);
  if (t.shell === null) return null;
  return command ?? { rule: 'command.unparsable', reason: 'the command line was not parsed' };
}

/** The command line's needs (null when the tool runs no command), or the first refusal in the order it runs. */
function commandNeeds(
  policy: PhaseToolPolicy,
  t: ToolTargets,
  command: ShParse | undefined,
  scripts: ParsedScripts,
): CommandNeeds | Refusal | null {
  const parse = commandParse(t, command);
  if (parse === null || 'rule' in parse) return parse;
  const a = analyseCommand(parse, scripts);
  // Programs found before a refusal run before it (substitutions, earlier commands of a list): judged first.
  const earlier = judgeInvocations(policy, a.needs);
  if (earlier) return earlier;
  if (!a.ok) return a;
  if (a.needs.scripts.length > 0)
    return { rule: 'command.shell-script', reason: 'a shell script in the command line was not parsed' };
  return a.needs;
}

function argvParse(argv: readonly string[]): ShParse {
  const words = argv.map((value) => ({ value, glob: false, subs: [] }));
  return { ok: true, script: [{ type: 'command', assigns: [], words, redirects: [] }] };
}

function judgeInvocations(policy: PhaseToolPolicy, needs: CommandNeeds): Judgement | null {
  for (const inv of needs.invocations) {
    const shown = inv.words.join(' ');
    if (inv.network) {
      const n = ruleFor(policy, 'network');
      if (n.decision !== 'allow')
        return deny('command.network', `"${shown}" reaches the network, which this phase does not allow`);
    }
    if (policy.commands.deny.some((p) => deniesInvocation(p, inv)))
      return deny('command.denied', `"${shown}" is forbidden in this phase`);
    if (!policy.commands.allow.some((p) => allowsInvocation(p, inv)))
      return deny('command.not-allowed', `"${shown}" is not a command this phase allows`);
  }
  return null;
}

/** The path rules: lexical (NUL, `~`, escape), protected paths, globs on the named and the real path, link facts. */
function checkPath(
  policy: PhaseToolPolicy,
  facts: ToolFacts,
  raw: string,
  access: 'read' | 'write',
): Refusal | null {
  const n = normaliseToolPath(raw, facts.root);
  if (!n.ok) return n;
  const lexical = joinPath(facts.root, n.relative);
  const hit = protectedHit(facts.protectedPaths, lexical, access);
  if (hit) return hit;
  const rule = access === 'read' ? policy.read : policy.write;
  const g = globs(rule, n.relative, access, raw);
  if (g) return g;
  const f = Object.hasOwn(facts.paths, raw) ? facts.paths[raw] : undefined;
  if (!f) return { rule: 'path.no-facts', reason: `nothing is known about "${raw}" on disk` };
  const real = relativeTo(facts.realRoot, f.realPath);
  if (real === null) return { rule: 'path.link-escape', reason: `"${raw}" resolves outside the job's root` };
  const realHit = protectedHit(facts.protectedPaths, f.realPath, access);
  if (realHit) return realHit;
  if (real !== n.relative) {
    const rg = globs(rule, real, access, raw);
    if (rg) return { rule: rg.rule, reason: `${rg.reason} (it resolves to "${real}")` };
  }
  if (access === 'write') {
    if (f.type === 'symlink')
      return {
        rule: 'path.final-symlink',
        reason: `"${raw}" is a symbolic link; a write does not follow it`,
      };
    if (f.type === 'file' && f.links > 1)
      return { rule: 'path.hard-link', reason: `"${raw}" has ${f.links} hard links` };
    if (f.type === 'other') return { rule: 'path.special-file', reason: `"${raw}" is not a regular file` };
  }
  return null;
}

function globs(rule: PhaseToolPolicy['read'], rel: string, access: string, raw: string): Refusal | null {
  if (matchAnyGlob(rule.deny, rel))
    return { rule: `path.${access}-denied`, reason: `this phase forbids ${access}ing "${raw}"` };
  if (!matchAnyGlob(rule.allow, rel))
    return { rule: `path.${access}-not-allowed`, reason: `this phase does not allow ${access}ing "${raw}"` };
  return null;
}

function protectedHit(
  protectedPaths: readonly string[],
  abs: string,
  access: 'read' | 'write',
): Refusal | null {
  for (const p of protectedPaths)
    if (isWithin(p, abs) || (access === 'write' && isWithin(abs, p)))
      return { rule: 'path.protected', reason: `"${abs}" is a protected path of the node` };
  return null;
}

function deny(rule: string, reason: string): Judgement {
  return { decision: 'deny', rule, reason };
}

function allowed(rule: string, reason: string): Judgement {
  return { decision: 'allow', rule, reason };
}

function applyMode(mode: ToolMode, j: Judgement): ToolVerdict {
  const v: ToolVerdict = { decision: j.decision, policyDecision: j.decision, rule: j.rule, reason: j.reason };
  if (j.decision === 'ask') {
    // Until human approvals exist, an `ask` is denied in strict mode and allowed with a warning otherwise.
    v.reason = `${j.reason}; no human approval is available`;
    if (mode === 'strict') v.decision = 'deny';
    else {
      v.decision = 'allow';
      v.wouldDeny = true;
    }
  } else if (j.decision === 'deny' && mode === 'permissive') {
    v.decision = 'allow';
    v.wouldDeny = true;
  }
  return v;
}
