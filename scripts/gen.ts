// Generated files: `npm run gen` writes them, `npm run drift` (gen --check) fails when the disk differs.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { machines } from '../src/machines/registry.ts';
import { buildOpenApi } from '../src/http/openapi.ts';
import {
  publishedSchemaPath,
  publishedSchemas,
  toPublishedJsonSchema,
} from '../src/contracts/published-schemas.ts';

/** The repository root (this file lives in `scripts/`). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** One generated file: its path relative to the repository root and how to render its content. */
export interface Generated {
  path: string;
  render(): string;
}

/** Pretty JSON exactly as the drift check compares it: 2-space indent and a trailing newline. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The path of a machine's exported statechart. */
export const statechartPath = (name: string): string => `statecharts/${name}.json`;

/** A machine's statechart as XState serialises it (`machine.toJSON()`, keys in its order). */
export function renderMachine(machine: AnyStateMachine): string {
  return renderJson(machine.toJSON());
}

/** One entry per machine in the registry: `statecharts/<name>.json`. */
export function machineEntries(): Generated[] {
  return Object.entries(machines).map(([name, { machine }]) => ({
    path: statechartPath(name),
    render: () => renderMachine(machine),
  }));
}

/** Where the OpenAPI document and the Postman collection are written. */
export const OPENAPI_PATH = 'docs/openapi.json';
export const POSTMAN_PATH = 'docs/overseer.postman_collection.json';

/** The Postman collection's variables. */
export const POSTMAN_BASE_URL = 'http://127.0.0.1:8080';

type Json = Record<string, unknown>;
interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  description?: string;
}
interface OpenApiOperation {
  tags: string[];
  summary: string;
  description?: string;
  security: Json[];
  parameters?: OpenApiParameter[];
  requestBody?: { content: Record<string, { example?: unknown }> };
}
interface OpenApiDocument {
  info: { title: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
}

/**
 * A Postman collection v2.1 of an OpenAPI document: one folder per tag, one request per operation (path
 * parameters as `:name` variables, query parameters disabled until filled), the document's example bodies,
 * and bearer auth with `{{token}}` (none on public operations). Variables: `baseUrl` and `token`.
 */
export function buildPostman(doc: OpenApiDocument): Json {
  const folders = new Map<string, Json[]>(doc.tags.map((t) => [t.name, []]));
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = op.parameters ?? [];
      const segments = path
        .split('/')
        .filter(Boolean)
        .map((s) => s.replace(/^\{(.+)\}$/, ':$1'));
      const query = params
        .filter((p) => p.in === 'query')
        .map((p) => ({ key: p.name, value: '', disabled: true, description: p.description ?? '' }));
      const example = op.requestBody?.content['application/json']?.example;
      const header = [
        ...(op.requestBody ? [{ key: 'Content-Type', value: 'application/json' }] : []),
        ...params
          .filter((p) => p.in === 'header')
          .map((p) => ({
            key: p.name,
            value: '{{$guid}}',
            disabled: true,
            description: p.description ?? '',
          })),
      ];
      const request: Json = {
        method: method.toUpperCase(),
        header,
        url: {
          raw: `{{baseUrl}}/${segments.join('/')}`,
          host: ['{{baseUrl}}'],
          path: segments,
          ...(query.length ? { query } : {}),
          ...(params.some((p) => p.in === 'path')
            ? {
                variable: params
                  .filter((p) => p.in === 'path')
                  .map((p) => ({ key: p.name, value: '', description: p.description ?? '' })),
              }
            : {}),
        },
        ...(op.requestBody
          ? {
              body: {
                mode: 'raw',
                raw: JSON.stringify(example ?? {}, null, 2),
                options: { raw: { language: 'json' } },
              },
            }
          : {}),
        ...(op.security.length === 0 ? { auth: { type: 'noauth' } } : {}),
        description: [op.summary, op.description].filter(Boolean).join('\n\n'),
      };
      const tag = op.tags[0]!;
      folders.get(tag)!.push({ name: `${method.toUpperCase()} ${path}`, request, response: [] });
    }
  }
  return {
    info: {
      name: doc.info.title,
      description: `${doc.info.description}\n\nGenerated from the OpenAPI document by \`npm run gen\`.`,
      schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    },
    item: doc.tags.map((t) => ({ name: t.name, description: t.description, item: folders.get(t.name) })),
    auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] },
    variable: [
      { key: 'baseUrl', value: POSTMAN_BASE_URL, type: 'string' },
      { key: 'token', value: '', type: 'string' },
    ],
  };
}

/** `docs/openapi.json` and `docs/overseer.postman_collection.json`. */
export function apiEntries(): Generated[] {
  return [
    { path: OPENAPI_PATH, render: () => renderJson(buildOpenApi()) },
    {
      path: POSTMAN_PATH,
      render: () => renderJson(buildPostman(buildOpenApi() as unknown as OpenApiDocument)),
    },
  ];
}

/** `schemas/<name>.schema.json`: the workflow file's and the artifacts' JSON Schemas, from their zod schemas. */
export function schemaEntries(): Generated[] {
  return Object.entries(publishedSchemas).map(([name, schema]) => ({
    path: publishedSchemaPath(name),
    render: () => renderJson(toPublishedJsonSchema(name, schema)),
  }));
}

/** Every generator. Add further `{ path, render }` entries here. */
export function generators(): Generated[] {
  return [...machineEntries(), ...apiEntries(), ...schemaEntries()];
}

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** One file that is not what the generators produce. */
export interface Drift {
  path: string;
  reason: 'missing' | 'differs' | 'orphan';
}

/**
 * The generated files whose content on disk differs from what the generators render, plus any
 * `statecharts/*.json` that no generator produces (left behind by a removed machine).
 */
export async function findDrift(entries: Generated[] = generators(), root: string = ROOT): Promise<Drift[]> {
  const drift: Drift[] = [];
  for (const entry of entries) {
    const onDisk = await readOrNull(join(root, entry.path));
    if (onDisk === null) drift.push({ path: entry.path, reason: 'missing' });
    else if (onDisk !== entry.render()) drift.push({ path: entry.path, reason: 'differs' });
  }
  const expected = new Set(entries.map((e) => e.path));
  const present = await readdir(join(root, 'statecharts')).catch(() => [] as string[]);
  for (const file of present.filter((f) => f.endsWith('.json')).sort()) {
    const path = statechartPath(file.slice(0, -'.json'.length));
    if (!expected.has(path)) drift.push({ path, reason: 'orphan' });
  }
  return drift;
}

/** Writes every generated file; returns the paths written. */
export async function writeAll(entries: Generated[] = generators(), root: string = ROOT): Promise<string[]> {
  const written: string[] = [];
  for (const entry of entries) {
    const file = join(root, entry.path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, entry.render());
    written.push(relative(root, file));
  }
  return written;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--check')) {
    const drift = await findDrift();
    if (drift.length === 0) {
      console.log('generated files are up to date');
      return 0;
    }
    console.error('generated files drifted from their sources (run `npm run gen`; delete orphans by hand):');
    for (const d of drift) console.error(`  ${d.path} (${d.reason})`);
    return 1;
  }
  for (const path of await writeAll()) console.log(`wrote ${path}`);
  return 0;
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2));
}
