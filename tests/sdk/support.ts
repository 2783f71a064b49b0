/** Test kit of the agent SDK: a supervisor that drives the data node over plain HTTP (no SDK code). */
import { expect } from 'vitest';

/** A supervisor of one workspace: an admin token over the node's REST API. */
export interface Supervisor {
  submit(title: string, extra?: Record<string, unknown>): Promise<{ id: string; status: string }>;
  job(id: string): Promise<{ id: string; status: string; result?: unknown }>;
  jobs(): Promise<{ id: string; title: string; status: string }[]>;
  worker(id: string): Promise<{ id: string; status: string }>;
  /** The workspace's journal, oldest first (up to 500 records). */
  events(): Promise<{ kind: string; id: string; to: string; principal: string }[]>;
  post(path: string, body?: unknown): Promise<unknown>;
}

export function supervisor(baseUrl: string, workspaceId: string, adminToken: string): Supervisor {
  const request = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const sep = path.includes('?') ? '&' : '?';
    const res = await fetch(`${baseUrl}${path}${sep}workspaceId=${workspaceId}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json: unknown = await res.json();
    expect(res.ok, `${method} ${path}: ${JSON.stringify(json)}`).toBe(true);
    return json;
  };
  return {
    submit: (title, extra = {}) =>
      request('POST', '/api/jobs', { title, ...extra }) as Promise<{ id: string; status: string }>,
    job: (id) => request('GET', `/api/jobs/${id}`) as Promise<{ id: string; status: string }>,
    jobs: async () =>
      (
        (await request('GET', '/api/jobs?limit=500')) as {
          jobs: { id: string; title: string; status: string }[];
        }
      ).jobs,
    worker: (id) => request('GET', `/api/v1/workers/${id}`) as Promise<{ id: string; status: string }>,
    events: async () =>
      (
        (await request('GET', '/api/v1/events?afterSeq=0&limit=500')) as {
          events: { kind: string; id: string; to: string; principal: string }[];
        }
      ).events,
    post: (path, body = {}) => request('POST', path, body),
  };
}

/** `GET /api/v1/whoami` with `token`: the HTTP status and the answer (or error envelope). */
export async function whoami(baseUrl: string, token: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${baseUrl}/api/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
