import { z } from 'zod';
import type { CheckTokenClaims, PhaseTokenClaims } from './phase-tokens.ts';

/** What a token may do. `admin` opens everything, in any workspace. */
export const Scope = {
  JOBS_READ: 'jobs:read',
  JOBS_WRITE: 'jobs:write',
  QUEUE_WORK: 'queue:work',
  SUPERVISOR_READ: 'supervisor:read',
  SUPERVISOR_WRITE: 'supervisor:write',
  RESOURCES_READ: 'resources:read',
  RESOURCES_WRITE: 'resources:write',
  /** Register workers (and, with agent identity, mint their credentials). */
  WORKERS_REGISTER: 'workers:register',
  /** Answer an agent's question (human oversight). */
  CHAT_ANSWER: 'chat:answer',
  /** Decide approvals and a workflow's last review round (human oversight). */
  APPROVALS_DECIDE: 'approvals:decide',
  /** Read the tool audit. */
  AUDIT_READ: 'audit:read',
  /** Register and version workflows. */
  WORKFLOWS_ADMIN: 'workflows:admin',
  /** Send verified evidence for a workflow gate (the trusted executor). */
  EVIDENCE_WRITE: 'evidence:write',
  ADMIN: 'admin',
} as const;
export type Scope = (typeof Scope)[keyof typeof Scope];
export const ScopeSchema = z.enum(Scope).meta({ id: 'Scope' });

/**
 * The roles, each an exact set of scopes: humans get `viewer`, `operator` or `admin`; machines get `runner` (it
 * registers workers) and `agent` (what a worker's own credential may do). The rights of human oversight
 * (`chat:answer`, `approvals:decide`), `audit:read`, `workflows:admin` and `evidence:write` are never an agent's.
 */
export const ROLES = {
  viewer: ['jobs:read', 'supervisor:read', 'resources:read'],
  operator: [
    'jobs:read',
    'jobs:write',
    'supervisor:read',
    'supervisor:write',
    'resources:read',
    'chat:answer',
    'approvals:decide',
  ],
  admin: ['admin'],
  runner: ['workers:register', 'evidence:write'],
  agent: ['queue:work', 'resources:write'],
} as const satisfies Record<string, readonly Scope[]>;
export type Role = keyof typeof ROLES;
export const RoleSchema = z.enum(Object.keys(ROLES) as [Role, ...Role[]]).meta({ id: 'Role' });

/**
 * Whether scopes `granted` open a command that needs any one of `required`: `admin` opens everything, and a command
 * that lists no scopes is open to any valid token.
 */
export function scopesOpen(granted: readonly Scope[], required: readonly Scope[]): boolean {
  return granted.includes('admin') || required.length === 0 || required.some((s) => granted.includes(s));
}

/** Who runs a command: the token's subject, its workspace and its scopes. */
export interface Principal {
  sub: string;
  workspaceId: string;
  scopes: readonly Scope[];
  /** Set for a worker's own credential: the one worker (and its jobs, leases and sessions) it may act on. */
  workerId?: string;
  /** When the credential lapses (ms since the epoch), when it came from a token. */
  expiresAt?: number;
  /** Set for a phase token: its verified claims (it opens only the commands that take phase tokens). */
  phase?: PhaseTokenClaims;
  /** Set for a check token: its verified claims (it opens only the commands that take check tokens). */
  check?: CheckTokenClaims;
  /** A phase token past its `exp`: only `tokens.refresh` takes it. */
  expired?: boolean;
}

/** The principal of the embedded library when none is given: an admin of the workspace it opens. */
export const embeddedAdmin = (workspaceId: string): Principal => ({
  sub: 'library',
  workspaceId,
  scopes: ['admin'],
});
