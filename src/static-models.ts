/**
 * Static model lists, for endpoints that cannot list their models: the admin gives the model set
 * at registration (`models`), checks then only test that the server answers, and model sync
 * stores the given list instead of a discovered one.
 */
import { z } from 'zod';
import { modelNameSchema } from './alias-schema.js';
import type { ReportedModel } from './backends/types.js';
import type { Capability } from './schema.js';

/** Most models one static list may hold. */
export const MAX_STATIC_MODELS = 1000;

/** One model of a static list; without `capabilities`, they are detected from the id. */
export interface StaticModel {
  model_id: string;
  capabilities?: Capability[];
}

/** A capability name: lower-case letters, digits, `_`, `-` or `.`, 1–64 characters. */
const capabilitySchema = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'must be a capability name such as "chat" or "embeddings"');

/** An entry as given: a model id, or `{ model_id, capabilities? }`. */
const staticModelEntrySchema = z.union([
  modelNameSchema.transform((model_id): StaticModel => ({ model_id })),
  z.strictObject({
    model_id: modelNameSchema,
    capabilities: z
      .array(capabilitySchema)
      .min(1, 'must name at least one capability')
      .max(16, 'must name at most 16 capabilities')
      .refine((list) => new Set(list).size === list.length, 'must not name a capability twice')
      .optional(),
  }),
]);

/**
 * A static model list as an input field: 1–1000 distinct entries, normalised to
 * {@link StaticModel}s; `null` (in an update) goes back to discovery.
 */
export const staticModelsSchema = z
  .array(staticModelEntrySchema)
  .min(1, 'must name at least one model (or be null to discover the models)')
  .max(MAX_STATIC_MODELS, `must name at most ${MAX_STATIC_MODELS} models`)
  .refine((models) => new Set(models.map((m) => m.model_id)).size === models.length, 'must not name a model twice')
  .nullable();

/** A static list entry as an input accepts it: the model id alone, or with its capabilities. */
export type StaticModelInput = string | StaticModel;

/**
 * A static list as a backend's report: given capabilities stand (as if the server had told
 * them), the others are left to the name rules.
 *
 * @example
 * staticReport([{ model_id: 'my-embedder', capabilities: ['embeddings'] }, { model_id: 'my-chat' }]);
 * // [{ model_id: 'my-embedder', capabilities: ['embeddings'] }, { model_id: 'my-chat', capabilities: null }]
 */
export function staticReport(models: readonly StaticModel[]): ReportedModel[] {
  return models.map((m) => ({ model_id: m.model_id, capabilities: m.capabilities ? [...m.capabilities] : null }));
}

/** The JSON text stored for a static list (or null), and back. */
export const staticModelsColumn = {
  write(models: readonly StaticModel[] | null): string | null {
    return models === null ? null : JSON.stringify(models);
  },
  read(text: string | null): StaticModel[] | null {
    if (text === null) return null;
    const parsed = z.array(staticModelEntrySchema).safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error('endpoints.static_models is not a list of models');
    return parsed.data;
  },
};
