import { z } from 'zod';

/** What a tool check answers (DESIGN §1: the per-phase tool policy of a workflow). */
export const ToolDecision = { ALLOW: 'allow', DENY: 'deny', ASK: 'ask' } as const;
export type ToolDecision = (typeof ToolDecision)[keyof typeof ToolDecision];
export const ToolDecisionSchema = z.enum(['allow', 'deny', 'ask']).meta({ id: 'ToolDecision' });

/**
 * The kinds every tool maps onto (Claude Code's Read/Write/Edit/Bash/…, Codex's apply_patch, the node's built-in
 * tools): a policy speaks of kinds, an adapter maps a concrete tool name onto one.
 */
export const ToolKindSchema = z
  .enum(['read', 'list', 'search', 'write', 'edit', 'run_command', 'network', 'agent', 'mcp', 'ask_human'])
  .meta({ id: 'ToolKind', description: 'The kind of a tool, which the phase policy rules on.' });
export type ToolKind = z.infer<typeof ToolKindSchema>;

/** A path glob relative to the job's root (`src/**`, `tests/**`, `*.md`); `**` crosses directories. */
export const PathGlobSchema = z
  .string()
  .min(1)
  .max(512)
  .refine((g) => !g.startsWith('/') && !g.includes('\0'), { message: 'a glob is relative to the job root' });

/** Globs a path must match (`allow`) and must not match (`deny`, which wins). */
export const PathRuleSchema = z
  .object({
    allow: z.array(PathGlobSchema).max(256).default([]),
    deny: z.array(PathGlobSchema).max(256).default([]),
  })
  .meta({ id: 'PathRule' });
export type PathRule = z.output<typeof PathRuleSchema>;

/**
 * A command pattern: the command's leading words, space-separated (`npm test`, `npx vitest`, `node --test`);
 * the words must match the simple command's first words exactly. A last word `*` lets any further arguments
 * follow (arguments never redirect or chain: those are separate nodes of the parsed command).
 */
export const CommandPatternSchema = z.string().min(1).max(512);

/** Commands a phase may run: `allow` patterns, `deny` patterns (which win). */
export const CommandRuleSchema = z
  .object({
    allow: z.array(CommandPatternSchema).max(256).default([]),
    deny: z.array(CommandPatternSchema).max(256).default([]),
  })
  .meta({ id: 'CommandRule' });
export type CommandRule = z.output<typeof CommandRuleSchema>;

/** One phase's tool policy: which kinds it allows, sends to a human or forbids, and their constraints. */
export const PhaseToolPolicySchema = z
  .object({
    /** Tool kinds allowed (subject to the constraints below). */
    allow: z.array(ToolKindSchema).default([]),
    /** Tool kinds sent to a human for approval. */
    ask: z.array(ToolKindSchema).default([]),
    /** Tool kinds always denied (wins over `allow` and `ask`). */
    deny: z.array(ToolKindSchema).default([]),
    /** What is decided for a kind named nowhere above. */
    default: ToolDecisionSchema.default('deny'),
    /** Paths readable (read, list, search). */
    read: PathRuleSchema.default({ allow: ['**'], deny: [] }),
    /** Paths writable (write, edit, and every redirection or writer command). */
    write: PathRuleSchema.default({ allow: [], deny: [] }),
    /** Commands runnable (run_command). */
    commands: CommandRuleSchema.default({ allow: [], deny: [] }),
    /** MCP tool names allowed (`mcp__github__get_issue`, `mcp__github__*`); others follow the `mcp` kind. */
    mcp: z.array(z.string().min(1).max(256)).max(256).default([]),
  })
  .meta({ id: 'PhaseToolPolicy', description: "One workflow phase's tool policy." });
export type PhaseToolPolicy = z.output<typeof PhaseToolPolicySchema>;
export type PhaseToolPolicyInput = z.input<typeof PhaseToolPolicySchema>;
