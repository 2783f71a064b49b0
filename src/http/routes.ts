import type { AnyCommandDef } from '../api/command.ts';
import { commands } from '../api/commands.ts';
import type { HttpRoute, RouteRequest } from '../api/route-input.ts';

export type { RouteRequest };

/** One HTTP route: an adapter from a request to one command of the command table (DESIGN §2). */
export interface Route extends HttpRoute {
  command: string;
  /**
   * The query parameters the route reads besides what its command's schema checks: null when the query is the
   * command's input (its schema refuses unknown fields), else the names it takes; any other name is refused.
   */
  query: readonly string[] | null;
}

const PROBE = '__probe__';
const EMPTY = { params: { id: PROBE }, query: {}, body: {} };

/** The query parameters a route reads (see {@link Route.query}), found by calling its input builder. */
function queryOf(route: HttpRoute, command: AnyCommandDef): readonly string[] | null {
  const input = (q: Record<string, unknown>) =>
    route.input({ ...EMPTY, query: q }) as Record<string, unknown>;
  if (input({ [PROBE]: PROBE })[PROBE] === PROBE) return null;
  const fields = 'shape' in command.input ? Object.keys(command.input.shape as object) : [];
  const bare = JSON.stringify(input({}));
  return ['workspaceId', ...fields.filter((f) => JSON.stringify(input({ [f]: 'false' })) !== bare)];
}

/** The route tags in the order the document lists them, with their descriptions. */
export const ROUTE_TAGS: Readonly<Record<string, string>> = {
  supervisor: 'Supervise workers: list, inspect, pause, resume, terminate; fleet metrics.',
  resources: 'Quotas, usage, and named resources (locks and pools) of running jobs.',
  jobs: 'Submit, list, inspect and cancel jobs.',
  tasks: "The same jobs under the queue specification's names.",
  workers: 'Register workers (agents), heartbeat, report crashes, restart, deregister.',
  auth: 'Who the bearer token is.',
  events: "This workspace's journal: every state an object passed through.",
  queue: 'Claim work under a lease, complete it or fail it.',
  workstreams: 'DAGs of jobs from task definitions v2.',
  workflows: 'Versions of agent_workflow.yaml registered in the workspace (admin only).',
  workflow:
    "An agent's phase of a workflow job: transitions, the state snapshot and token refresh, with phase and check tokens.",
};

/**
 * The routes of a command table (each command's `http`), grouped by tag in {@link ROUTE_TAGS} order and, within a
 * tag, in table order. Supervisor, resources and jobs routes keep the seeds' paths; v1 the queue spec's.
 */
export function routesOf(table: readonly AnyCommandDef[]): Route[] {
  const order = Object.keys(ROUTE_TAGS);
  const all = table.flatMap((c) =>
    c.http.map((r): Route => ({ ...r, command: c.name, query: queryOf(r, c) })),
  );
  for (const r of all)
    if (!order.includes(r.tag)) throw new Error(`route ${r.method} ${r.path} has an unknown tag ${r.tag}`);
  return all.sort((a, b) => order.indexOf(a.tag) - order.indexOf(b.tag));
}

/** Every route of the specification. */
export const routes: readonly Route[] = routesOf(commands);

/** Routes anyone may call. `/metrics` needs any valid token. */
export const PUBLIC_PATHS = ['/healthz', '/readyz', '/openapi.json', '/docs'] as const;
