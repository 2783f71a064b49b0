import { randomBytes } from 'node:crypto';
import { agentCommandNames } from '../api/agent-commands.ts';
import { WorkspaceIdSchema } from '../contracts/common.ts';
import { WORKER_ID_PATTERN } from '../contracts/worker.ts';
import { OverseerError } from '../core/errors.ts';
import {
  dataNodePermissions,
  gatewayPermissions,
  workerPermissions,
  workspacePermissions,
  type NatsPermissions,
} from '../transport/nats-permissions.ts';
import { subjects } from '../transport/subjects.ts';

/** One user of a nats-server `authorization { users = [...] }` block. */
export interface NatsUser {
  user: string;
  password: string;
  permissions: NatsPermissions;
  /** Comment lines printed above the entry (what to hand out, what the user may do). */
  notes: readonly string[];
}

/** A list of subjects on one line, or one subject a line when that line would be long (a worker's commands). */
function list(patterns: readonly string[], indent: string): string {
  const quoted = patterns.map((s) => JSON.stringify(s));
  const line = `[${quoted.join(', ')}]`;
  if (line.length <= 80) return line;
  return [
    '[',
    ...quoted.map((q, i) => `${indent}  ${q}${i < quoted.length - 1 ? ',' : ''}`),
    `${indent}]`,
  ].join('\n');
}

/** One `{ user, password, permissions }` entry in nats-server config syntax, comments first. */
export function renderNatsUser(entry: NatsUser, indent = ''): string {
  const p = entry.permissions;
  const lines = [
    ...entry.notes.map((n) => `# ${n}`),
    '{',
    `  user: ${JSON.stringify(entry.user)}`,
    `  password: ${JSON.stringify(entry.password)}`,
    '  permissions: {',
    `    publish: { allow: ${list(p.publish.allow, `${indent}    `)} }`,
    `    subscribe: { allow: ${list(p.subscribe.allow, `${indent}    `)} }`,
    ...(p.allowResponses
      ? [
          `    allow_responses: { max: ${p.allowResponses.max}, expires: ${JSON.stringify(p.allowResponses.expires)} }`,
        ]
      : []),
    '  }',
    '}',
  ];
  return lines.map((l) => `${indent}${l}`).join('\n');
}

/** A whole `authorization { users = [...] }` block (a server config holds one; merge the entries). */
export function renderAuthorization(users: readonly NatsUser[]): string {
  return ['authorization {', '  users = [', ...users.map((u) => renderNatsUser(u, '    ')), '  ]', '}'].join(
    '\n',
  );
}

/** A password for a NATS user: 24 random bytes, base64url (32 characters). */
export const generatePassword = (): string => randomBytes(24).toString('base64url');

/** Printable ASCII without quotes, backslashes or spaces: safe inside a quoted nats-server string. */
const SAFE = /^[!#-[\]-~]+$/;
const BCRYPT = /^\$2[aby]?\$\d\d\$/;

function checkText(flag: string, value: unknown, min: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0)
    throw new OverseerError('VALIDATION_FAILED', `--${flag} needs a value.`);
  if (!SAFE.test(value) || value.length < min || value.length > 256)
    throw new OverseerError(
      'VALIDATION_FAILED',
      `--${flag} must be ${min} to 256 printable characters without spaces, quotes or backslashes.`,
      { issues: [{ path: flag, message: 'invalid' }] },
    );
  return value;
}

function workspaceOf(flags: Record<string, unknown>): string {
  const parsed = WorkspaceIdSchema.safeParse(flags['workspace']);
  if (!parsed.success)
    throw new OverseerError(
      'VALIDATION_FAILED',
      `Invalid --workspace ${JSON.stringify(flags['workspace'])}: workspace ids match ^[a-z0-9][a-z0-9_-]{0,62}$.`,
      { issues: [{ path: 'workspace', message: parsed.error.issues[0]?.message ?? 'invalid' }] },
    );
  return parsed.data;
}

function workerOf(flags: Record<string, unknown>): string {
  const id = flags['worker'];
  if (typeof id !== 'string' || !WORKER_ID_PATTERN.test(id))
    throw new OverseerError(
      'VALIDATION_FAILED',
      `Invalid --worker ${JSON.stringify(id)}: worker ids match ${WORKER_ID_PATTERN.source}.`,
      { issues: [{ path: 'worker', message: 'invalid' }] },
    );
  return id;
}

/**
 * The user `overseer nats-config` prints for its flags: `--workspace ID` (with `--worker ID`: that worker alone),
 * `--data-node` or `--gateway`, with `--user NAME` (default: the worker id, the workspace id, `overseer-data-node`,
 * `overseer-gateway`) and `--password PASS` (default: generated; a bcrypt hash from `nats-server --mkpasswd`-style
 * tools is kept as is).
 */
export function natsUserFor(flags: Record<string, unknown>): NatsUser {
  const roles = (['workspace', 'dataNode', 'gateway'] as const).filter((r) => flags[r] !== undefined);
  if (flags['worker'] !== undefined && flags['workspace'] === undefined)
    throw new OverseerError(
      'VALIDATION_FAILED',
      "--worker needs --workspace ID too: a worker's subjects and inboxes live in its workspace.",
    );
  if (roles.length !== 1)
    throw new OverseerError(
      'VALIDATION_FAILED',
      'Give exactly one of --workspace ID (optionally with --worker ID), --data-node or --gateway.',
    );
  const user = checkText('user', flags['user'], 1);
  const given = checkText('password', flags['password'], 12);
  const password = given ?? generatePassword();
  const handOut = given
    ? BCRYPT.test(given)
      ? 'password: the plain one this bcrypt hash was made from'
      : `password ${JSON.stringify(given)}`
    : `password ${JSON.stringify(password)} (generated, kept nowhere but here)`;

  if (roles[0] === 'workspace' && flags['worker'] !== undefined) {
    const ws = workspaceOf(flags);
    const worker = workerOf(flags);
    const name = user ?? worker;
    return {
      user: name,
      password,
      permissions: workerPermissions(ws, worker, agentCommandNames),
      notes: [
        `Overseer worker '${worker}' of workspace '${ws}': its own commands only, its own events on ${subjects.workerEvents(ws, worker)}.`,
        `Hand out to that worker alone: user ${JSON.stringify(name)}, ${handOut}.`,
        `Clients must connect with inboxPrefix "${subjects.workerInbox(ws, worker)}" (replies arrive nowhere else).`,
      ],
    };
  }
  if (roles[0] === 'workspace') {
    const ws = workspaceOf(flags);
    const name = user ?? ws;
    return {
      user: name,
      password,
      permissions: workspacePermissions(ws),
      notes: [
        `Overseer workspace '${ws}': commands on overseer.cmd.${ws}.>, events on overseer.evt.${ws}.>.`,
        `Hand out: user ${JSON.stringify(name)}, ${handOut}.`,
        `Clients must connect with inboxPrefix "${subjects.workspaceInbox(ws)}" (replies arrive nowhere else).`,
      ],
    };
  }
  if (roles[0] === 'dataNode') {
    const name = user ?? 'overseer-data-node';
    return {
      user: name,
      password,
      permissions: dataNodePermissions(),
      notes: [
        'Overseer data node (serve --nats): serves every workspace, publishes events, answers each request once.',
        `Credentials: user ${JSON.stringify(name)}, ${handOut}.`,
      ],
    };
  }
  const name = user ?? 'overseer-gateway';
  return {
    user: name,
    password,
    permissions: gatewayPermissions(),
    notes: [
      'Overseer gateway (serve --gateway --nats): forwards commands of any workspace to the data node.',
      `Credentials: user ${JSON.stringify(name)}, ${handOut}.`,
    ],
  };
}

/** The text `overseer nats-config` prints: the whole block, or with `--entry` the user entry alone. */
export function natsConfig(flags: Record<string, unknown>): string {
  const user = natsUserFor(flags);
  return flags['entry'] ? renderNatsUser(user) : renderAuthorization([user]);
}

/** Runs `overseer nats-config`: prints the block and answers 0, or prints why not and answers 2. */
export function runNatsConfig(
  flags: Record<string, unknown>,
  out: (text: string) => void,
  err: (text: string) => void,
): number {
  try {
    out(`${natsConfig(flags)}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof OverseerError)) throw e;
    err(`overseer nats-config: ${e.message}\n`);
    return 2;
  }
}
