import { z } from 'zod';

/** A JSON object. */
export type Json = Record<string, unknown>;

/** Whether a value is a JSON object. */
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);
/** The object with its keys sorted. */
export const sortKeys = <T>(o: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(o).sort(byKey));

/** JSON with sorted keys, to compare schemas whatever order their keys came in. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, value: unknown) => (isObject(value) ? sortKeys(value) : value));

// ── components: every zod schema with a `.meta({ id })` becomes `#/components/schemas/<id>` ──

/**
 * The document's schemas, converted with `z.toJSONSchema` one at a time; their `$defs` (the schemas with an id)
 * move to `components.schemas`. A schema whose input and output shapes differ (defaults) keeps its id for the
 * output and gets `<id>Input` for the input.
 */
export class Components {
  readonly schemas: Record<string, Json> = {};
  readonly responses: Record<string, Json> = {};

  /** The JSON Schema of `schema`: a `$ref` when it has an id, else inline (referring to components). */
  add(schema: z.ZodType, io: 'input' | 'output'): Json {
    const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
    delete out['$schema'];
    const defs = (out['$defs'] ?? {}) as Record<string, Json>;
    delete out['$defs'];
    const rootId = z.globalRegistry.get(schema)?.id;
    if (typeof rootId === 'string' && !(rootId in defs)) {
      defs[rootId] = out;
      return this.place(defs, io, rootId);
    }
    return this.place(defs, io, null, out);
  }

  /** Names the defs (renaming input variants that clash), stores them and answers the root. */
  private place(
    defs: Record<string, Json>,
    io: 'input' | 'output',
    rootId: string | null,
    root?: Json,
  ): Json {
    const names = new Map<string, string>();
    // Leaves first: whether a def clashes depends on the names of the defs it refers to.
    for (const id of leavesFirst(defs)) {
      const content = canonical(rewrite(defs[id], names));
      const existing = this.schemas[id];
      if (!existing || canonical(existing) === content) names.set(id, id);
      else {
        const alt = this.schemas[`${id}Input`];
        if (io === 'output' || (alt && canonical(alt) !== content))
          throw new Error(`two different schemas are named ${id}`);
        names.set(id, `${id}Input`);
      }
      this.schemas[names.get(id)!] = rewrite(defs[id], names) as Json;
    }
    if (rootId !== null) return { $ref: `#/components/schemas/${names.get(rootId)!}` };
    return rewrite(root, names) as Json;
  }

  /** The object schema behind a schema or its `$ref`. */
  deref(schema: Json): Json {
    const ref = schema['$ref'];
    if (typeof ref !== 'string') return schema;
    return this.deref(this.schemas[ref.slice('#/components/schemas/'.length)]!);
  }
}

/** The ids of `defs`, each after the defs it refers to. */
function leavesFirst(defs: Record<string, Json>): string[] {
  const order: string[] = [];
  const visit = (id: string, path: readonly string[]) => {
    if (order.includes(id)) return;
    if (path.includes(id)) throw new Error(`recursive schema ${[...path, id].join(' → ')}`);
    for (const ref of refsIn(defs[id])) visit(ref, [...path, id]);
    order.push(id);
  };
  for (const id of Object.keys(defs)) visit(id, []);
  return order;
}

function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([k, v]) =>
    k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')
      ? [decodeURIComponent(v.slice('#/$defs/'.length))]
      : refsIn(v),
  );
}

/** A converted schema with its `#/$defs/<id>` references pointing into components. */
function rewrite(value: unknown, names: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewrite(v, names));
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .map(([k, v]) => {
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) {
          const id = decodeURIComponent(v.slice('#/$defs/'.length));
          if (!names.has(id)) throw new Error(`unresolved reference ${v}`);
          return [k, `#/components/schemas/${names.get(id)!}`];
        }
        return [k, rewrite(v, names)];
      })
      // zod writes the safe-integer range on every `.int()`; it says nothing a reader needs.
      .filter(([k, v]) => !(k === 'minimum' && v === Number.MIN_SAFE_INTEGER))
      .filter(([k, v]) => !(k === 'maximum' && v === Number.MAX_SAFE_INTEGER)),
  );
}
