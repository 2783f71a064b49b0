import { z } from 'zod';

/** What a token may do. `admin` opens everything, in any workspace. */
export const Scope = {
  JOBS_READ: 'jobs:read',
  JOBS_WRITE: 'jobs:write',
  QUEUE_WORK: 'queue:work',
  SUPERVISOR_READ: 'supervisor:read',
  SUPERVISOR_WRITE: 'supervisor:write',
  RESOURCES_READ: 'resources:read',
  RESOURCES_WRITE: 'resources:write',
  ADMIN: 'admin',
} as const;
export type Scope = (typeof Scope)[keyof typeof Scope];
export const ScopeSchema = z.enum(Scope).meta({ id: 'Scope' });

/** Who runs a command: the token's subject, its workspace and its scopes. */
export interface Principal {
  sub: string;
  workspaceId: string;
  scopes: readonly Scope[];
}
