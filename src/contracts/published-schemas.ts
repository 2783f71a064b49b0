import { z } from 'zod';
import { builtinArtifactSchemas } from './artifacts.ts';
import { WorkflowSchema } from './workflow.ts';

/** The schemas published as `schemas/<name>.schema.json`: the workflow file and the seven built-in artifacts. */
export const publishedSchemas: Record<string, z.ZodType> = {
  agent_workflow: WorkflowSchema,
  ...builtinArtifactSchemas,
};

/** The path of a published schema. */
export const publishedSchemaPath = (name: string): string => `schemas/${name}.schema.json`;

/**
 * A published schema as JSON Schema 2020-12: the input side (what a person writes, defaults optional), with an
 * `$id` (`urn:overseer:schema:<name>`) so ajv and other schemas can refer to it.
 */
export function toPublishedJsonSchema(name: string, schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  return { $id: `urn:overseer:schema:${name}`, ...json };
}
