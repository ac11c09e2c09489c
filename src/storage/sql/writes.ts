/**
 * The writes of the generic SQL storage, each run inside the dialect's write transaction so the
 * row, its version and its change-feed entry commit together.
 */
import { sql, type Kysely } from 'kysely';
import type { DiscoveredModel, EndpointHealthCheck, EndpointPatch, EndpointRecord, ModelSetDiff } from '../../schema.js';
import { planModelSet } from '../models-diff.js';
import type { SqlColumnTypes } from './dialect.js';
import { appendChange } from './feed.js';
import { toEndpointPatchRow, toEndpointRecord, toEndpointRow, toHealthCheckRow, toModelFacts, toModelRow } from './rows.js';
import type { LlmlbDatabase } from './tables.js';

type Db = Kysely<LlmlbDatabase>;

/** Rows per multi-row statement: far below any database's bound-parameter limit. */
const CHUNK = 200;

function* chunks<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += CHUNK) yield items.slice(i, i + CHUNK);
}

/**
 * Inserts an endpoint (its version as given) and records the change.
 *
 * @example
 * await dialect.transaction(db, (trx) => insertEndpoint(trx, record));
 */
export async function insertEndpoint(trx: Db, record: EndpointRecord): Promise<void> {
  await trx.insertInto('endpoints').values(toEndpointRow(record)).execute();
  await appendChange(trx, record.id, 'endpoint');
}

/**
 * Applies `patch` to an endpoint, raises its version and records the change. Returns the stored
 * row and its feed position, or `undefined` (writing nothing) when there is no such endpoint.
 */
export async function updateEndpoint(
  trx: Db,
  id: string,
  patch: EndpointPatch,
): Promise<{ record: EndpointRecord; seq: number } | undefined> {
  const fields = toEndpointPatchRow(patch);
  const row = await trx
    .updateTable('endpoints')
    .set({ ...fields, version: sql<number>`version + 1` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) return undefined;
  return { record: toEndpointRecord(row), seq: await appendChange(trx, id, 'endpoint') };
}

/** Deletes an endpoint with its models and history and records the change; false if missing. */
export async function deleteEndpoint(trx: Db, id: string): Promise<boolean> {
  // The foreign keys cascade too; deleting the children explicitly keeps this correct even on a
  // caller-provided connection where foreign keys were switched off again.
  await trx.deleteFrom('endpoint_models').where('endpoint_id', '=', id).execute();
  await trx.deleteFrom('endpoint_health_checks').where('endpoint_id', '=', id).execute();
  await trx.deleteFrom('nodes').where('endpoint_id', '=', id).execute();
  const result = await trx.deleteFrom('endpoints').where('id', '=', id).executeTakeFirst();
  if (result.numDeletedRows === 0n) return false;
  await appendChange(trx, id, 'deleted');
  return true;
}

/**
 * Makes `models` the endpoint's model set. Only new models and models whose capabilities or
 * metadata changed are written in full; the others get only `last_checked`. A `models` change
 * is recorded when the set, a capability or a model's metadata changed. `undefined` when the endpoint is missing.
 */
export async function replaceEndpointModels(
  trx: Db,
  columns: SqlColumnTypes,
  endpointId: string,
  models: readonly DiscoveredModel[],
  checkedAt: string,
): Promise<ModelSetDiff | undefined> {
  const endpoint = await trx.selectFrom('endpoints').select('id').where('id', '=', endpointId).executeTakeFirst();
  if (!endpoint) return undefined;
  const stored = await trx.selectFrom('endpoint_models').selectAll().where('endpoint_id', '=', endpointId).execute();
  const plan = planModelSet(new Map(stored.map((r) => [r.model_id, toModelFacts(r)])), models);
  const ofEndpoint = trx.deleteFrom('endpoint_models').where('endpoint_id', '=', endpointId);
  for (const ids of chunks(plan.diff.removed)) await ofEndpoint.where('model_id', 'in', ids).execute();
  const rows = plan.rewrite.map((m) => toModelRow(endpointId, m, checkedAt, columns));
  for (const chunk of chunks(rows)) {
    await trx
      .insertInto('endpoint_models')
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(['endpoint_id', 'model_id']).doUpdateSet((eb) => ({
          capabilities: eb.ref('excluded.capabilities'),
          last_checked: eb.ref('excluded.last_checked'),
          capabilities_source: eb.ref('excluded.capabilities_source'),
          context_length: eb.ref('excluded.context_length'),
          loaded: eb.ref('excluded.loaded'),
          size_bytes: eb.ref('excluded.size_bytes'),
          quantization: eb.ref('excluded.quantization'),
        })),
      )
      .execute();
  }
  for (const ids of chunks(plan.touch)) {
    await trx
      .updateTable('endpoint_models')
      .set({ last_checked: checkedAt })
      .where('endpoint_id', '=', endpointId)
      .where('model_id', 'in', ids)
      .execute();
  }
  if (plan.changed) await appendChange(trx, endpointId, 'models');
  return plan.diff;
}

/**
 * Applies a check's patch to the endpoint (raising its version, recording the change) and
 * appends the check to its history; `undefined` (writing nothing) when the endpoint is missing.
 */
export async function recordHealthCheck(
  trx: Db,
  columns: SqlColumnTypes,
  endpointId: string,
  patch: EndpointPatch,
  check: EndpointHealthCheck,
): Promise<EndpointRecord | undefined> {
  const updated = await updateEndpoint(trx, endpointId, patch);
  if (!updated) return undefined;
  const row = toHealthCheckRow(check, endpointId, updated.seq, columns);
  await trx.insertInto('endpoint_health_checks').values(row).execute();
  return updated.record;
}
