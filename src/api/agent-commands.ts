import { ROLES, scopesOpen } from '../contracts/scopes.ts';
import { commands, type CommandName } from './commands.ts';

/**
 * The commands a worker's own credential may run: those the `agent` role's scopes open, except those only an
 * unbound token runs (`owner: 'unbound'`, e.g. `workers.register`). A worker's NATS user may publish these
 * commands' subjects only (`overseer nats-config --worker`).
 */
export const agentCommandNames: readonly CommandName[] = commands
  .filter((c) => c.owner !== 'unbound' && scopesOpen(ROLES.agent, c.scopes))
  .map((c) => c.name);
