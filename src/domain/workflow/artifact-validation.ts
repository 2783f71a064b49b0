import { Ajv, type ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { builtinArtifactSchemas, isBuiltinArtifact } from '../../contracts/artifacts.ts';
import { formatPath } from './format-path.ts';

/** Why an artifact is invalid: the offending field (`plan.acceptance_criteria[0]`) and what is wrong with it. */
export interface ArtifactProblem {
  field: string;
  message: string;
}

/** Checks one artifact value: its problems, none when it is valid. */
export type ArtifactValidator = (value: unknown) => ArtifactProblem[];

/** `/issues/0/severity` (ajv's instancePath) → `[issues, 0, severity]`. */
const pointerPath = (pointer: string): (string | number)[] =>
  pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));

function ajvProblem(name: string, e: ErrorObject): ArtifactProblem {
  const path = pointerPath(e.instancePath);
  const missing =
    e.keyword === 'required' ? (e.params as { missingProperty?: string }).missingProperty : undefined;
  if (missing !== undefined) path.push(missing);
  return { field: formatPath([name, ...path]), message: e.message ?? e.keyword };
}

/**
 * Compiles a workflow's own artifact schema (a JSON Schema, draft-07 or 2020-12 by its `$schema`) with ajv.
 * Throws when the schema itself is invalid (the workflow check reports that as a problem of the file).
 */
export function compileArtifactSchema(name: string, schema: object): ArtifactValidator {
  const draft = (schema as { $schema?: unknown }).$schema;
  const ajv =
    typeof draft === 'string' && draft.includes('2020-12')
      ? new Ajv2020({ allErrors: true, strict: false })
      : new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map((e) => ajvProblem(name, e)));
}

/** Why a workflow's own artifact schema document is unusable (not an object, not a valid JSON Schema), or null. */
export function schemaDocumentProblem(file: string, document: unknown): string | null {
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    return 'a JSON Schema is an object';
  try {
    compileArtifactSchema(file, document);
    return null;
  } catch (err) {
    return `not a valid JSON Schema: ${(err as Error).message}`;
  }
}

/** The validator of a built-in artifact (its zod schema). */
export function builtinValidator(name: string): ArtifactValidator | null {
  if (!isBuiltinArtifact(name)) return null;
  const schema = builtinArtifactSchemas[name];
  return (value) => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return [];
    return parsed.error.issues.map((i) => ({
      field: formatPath([name, ...i.path.filter((s): s is string | number => typeof s !== 'symbol')]),
      message: i.message,
    }));
  };
}
