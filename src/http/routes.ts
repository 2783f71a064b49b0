/** One HTTP route: an adapter from a request to one command of the command table (DESIGN §2). */
export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Fastify path syntax (`/api/jobs/:id`). */
  path: string;
  command: string;
  /** Status of a successful answer. */
  status?: number;
  summary?: string;
  tag: string;
  /** Builds the command's input from the request. */
  input: (req: RouteRequest) => unknown;
}

export interface RouteRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
}

const body = (req: RouteRequest): Record<string, unknown> =>
  req.body && typeof req.body === 'object' && !Array.isArray(req.body)
    ? (req.body as Record<string, unknown>)
    : {};
/** Query parameters without the admin's workspace selector. */
const query = (req: RouteRequest): Record<string, unknown> => {
  const { workspaceId: _ws, ...rest } = req.query;
  return rest;
};
const withId = (key: string) => (req: RouteRequest) => ({ ...body(req), [key]: req.params['id'] });
const idOnly = (key: string) => (req: RouteRequest) => ({ [key]: req.params['id'] });

/** Every route of the specification. Supervisor, resources and jobs routes keep the seeds' paths; v1 the queue spec's. */
export const routes: readonly Route[] = [
  // Supervisor
  {
    method: 'GET',
    path: '/api/supervisor/workers',
    command: 'workers.list',
    tag: 'supervisor',
    input: query,
  },
  {
    method: 'GET',
    path: '/api/supervisor/workers/:id',
    command: 'workers.get',
    tag: 'supervisor',
    input: idOnly('workerId'),
  },
  {
    method: 'POST',
    path: '/api/supervisor/workers/:id/pause',
    command: 'workers.pause',
    tag: 'supervisor',
    input: idOnly('workerId'),
  },
  {
    method: 'POST',
    path: '/api/supervisor/workers/:id/resume',
    command: 'workers.resume',
    tag: 'supervisor',
    input: idOnly('workerId'),
  },
  {
    method: 'POST',
    path: '/api/supervisor/workers/:id/terminate',
    command: 'workers.terminate',
    tag: 'supervisor',
    input: withId('workerId'),
  },
  {
    method: 'GET',
    path: '/api/supervisor/metrics',
    command: 'supervisor.metrics',
    tag: 'supervisor',
    input: () => ({}),
  },
  // Resources
  {
    method: 'GET',
    path: '/api/resources/quotas',
    command: 'resources.quotas',
    tag: 'resources',
    input: () => ({}),
  },
  {
    method: 'POST',
    path: '/api/resources/allocate',
    command: 'resources.allocate',
    tag: 'resources',
    input: body,
  },
  {
    method: 'POST',
    path: '/api/resources/release',
    command: 'resources.release',
    tag: 'resources',
    input: body,
  },
  {
    method: 'GET',
    path: '/api/resources/usage',
    command: 'resources.usage',
    tag: 'resources',
    input: () => ({}),
  },
  // Jobs
  { method: 'POST', path: '/api/jobs', command: 'jobs.submit', status: 201, tag: 'jobs', input: body },
  { method: 'POST', path: '/api/jobs/submit', command: 'jobs.submit', status: 201, tag: 'jobs', input: body },
  { method: 'GET', path: '/api/jobs', command: 'jobs.list', tag: 'jobs', input: query },
  { method: 'GET', path: '/api/jobs/:id', command: 'jobs.get', tag: 'jobs', input: idOnly('jobId') },
  {
    method: 'POST',
    path: '/api/jobs/:id/cancel',
    command: 'jobs.cancel',
    tag: 'jobs',
    input: withId('jobId'),
  },
  // Tasks: the same jobs under the queue specification's names
  { method: 'POST', path: '/api/v1/tasks', command: 'jobs.submit', status: 201, tag: 'tasks', input: body },
  { method: 'GET', path: '/api/v1/tasks', command: 'jobs.list', tag: 'tasks', input: query },
  { method: 'GET', path: '/api/v1/tasks/:id', command: 'jobs.get', tag: 'tasks', input: idOnly('jobId') },
  {
    method: 'PATCH',
    path: '/api/v1/tasks/:id',
    command: 'jobs.update',
    tag: 'tasks',
    input: withId('jobId'),
  },
  // Workers
  {
    method: 'POST',
    path: '/api/v1/workers',
    command: 'workers.register',
    status: 201,
    tag: 'workers',
    input: body,
  },
  { method: 'GET', path: '/api/v1/workers', command: 'workers.list', tag: 'workers', input: query },
  {
    method: 'GET',
    path: '/api/v1/workers/:id',
    command: 'workers.get',
    tag: 'workers',
    input: idOnly('workerId'),
  },
  {
    method: 'POST',
    path: '/api/v1/workers/:id/heartbeat',
    command: 'workers.heartbeat',
    tag: 'workers',
    input: withId('workerId'),
  },
  {
    method: 'POST',
    path: '/api/v1/workers/:id/crash',
    command: 'workers.reportCrash',
    tag: 'workers',
    input: withId('workerId'),
  },
  {
    method: 'POST',
    path: '/api/v1/workers/:id/restart',
    command: 'workers.restart',
    tag: 'workers',
    input: idOnly('workerId'),
  },
  {
    method: 'DELETE',
    path: '/api/v1/workers/:id',
    command: 'workers.deregister',
    tag: 'workers',
    input: idOnly('workerId'),
  },
  // Auth
  { method: 'GET', path: '/api/v1/whoami', command: 'auth.whoami', tag: 'auth', input: () => ({}) },
  // Events
  { method: 'GET', path: '/api/v1/events', command: 'events.list', tag: 'events', input: query },
  // Queue
  { method: 'POST', path: '/api/v1/queue/enqueue', command: 'queue.enqueue', tag: 'queue', input: body },
  { method: 'POST', path: '/api/v1/queue/claim', command: 'queue.claim', tag: 'queue', input: body },
  { method: 'POST', path: '/api/v1/queue/complete', command: 'queue.complete', tag: 'queue', input: body },
  { method: 'POST', path: '/api/v1/queue/fail', command: 'queue.fail', tag: 'queue', input: body },
  { method: 'GET', path: '/api/v1/queue/status', command: 'queue.stats', tag: 'queue', input: () => ({}) },
  // Workstreams
  {
    method: 'POST',
    path: '/api/v1/workstreams',
    command: 'workstreams.submit',
    status: 201,
    tag: 'workstreams',
    // The body is the definition; `?start=false` keeps its jobs SUBMITTED.
    input: (req) => ({ definition: req.body, ...(req.query['start'] === 'false' ? { start: false } : {}) }),
  },
  {
    method: 'GET',
    path: '/api/v1/workstreams/:id',
    command: 'workstreams.get',
    tag: 'workstreams',
    input: idOnly('workstreamId'),
  },
  {
    method: 'GET',
    path: '/api/v1/workstreams/:id/plan',
    command: 'workstreams.plan',
    tag: 'workstreams',
    input: idOnly('workstreamId'),
  },
  {
    method: 'POST',
    path: '/api/v1/workstreams/:id/start',
    command: 'workstreams.start',
    tag: 'workstreams',
    input: idOnly('workstreamId'),
  },
  {
    method: 'POST',
    path: '/api/v1/workstreams/:id/cancel',
    command: 'workstreams.cancel',
    tag: 'workstreams',
    input: withId('workstreamId'),
  },
];

/** Routes anyone may call. `/metrics` needs any valid token. */
export const PUBLIC_PATHS = ['/healthz', '/readyz', '/openapi.json', '/docs'] as const;
