/**
 * Self-registered nodes' details in SQL (`nodes`, migration `0008_nodes`), shared by every
 * dialect. Writes run inside the dialect's write transaction, with their change-feed entries.
 */
import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import { RUNTIME_TYPES, type NodeGpu, type NodePatch, type NodeRecord, type RuntimeType } from '../../nodes/schema.js';
import type { EndpointPatch, EndpointRecord } from '../../schema.js';
import { type NodeWrite, nodePatchFields } from '../nodes.js';
import type { SqlColumnTypes } from './dialect.js';
import { appendChange } from './feed.js';
import { toEndpointRecord } from './rows.js';
import type { LlmlbDatabase, NodesTable } from './tables.js';
import { insertEndpoint, updateEndpoint } from './writes.js';

type Db = Kysely<LlmlbDatabase>;

/** A boolean as the dialect stores it. */
function bool(value: boolean, columns: SqlColumnTypes): number | boolean {
  return columns.boolean === 'integer' ? Number(value) : value;
}

/** The row of a node. */
function toNodeRow(node: NodeRecord, columns: SqlColumnTypes): Insertable<NodesTable> {
  return { ...node, gpus: JSON.stringify(node.gpus), labels: JSON.stringify(node.labels), rotate_token: bool(node.rotate_token, columns) };
}

/** The columns a node patch sets. */
function toNodeUpdate(patch: NodePatch, columns: SqlColumnTypes): Updateable<NodesTable> {
  const { gpus, labels, rotate_token, ...rest } = nodePatchFields(patch);
  return {
    ...rest,
    ...(gpus === undefined ? {} : { gpus: JSON.stringify(gpus) }),
    ...(labels === undefined ? {} : { labels: JSON.stringify(labels) }),
    ...(rotate_token === undefined ? {} : { rotate_token: bool(rotate_token, columns) }),
  };
}

/** The node of a row. */
export function toNodeRecord(row: Selectable<NodesTable>): NodeRecord {
  const runtime = (RUNTIME_TYPES as readonly string[]).includes(row.runtime_type) ? row.runtime_type : 'openai-compatible';
  return {
    endpoint_id: row.endpoint_id,
    runtime_type: runtime as RuntimeType,
    runtime_version: row.runtime_version,
    gpus: JSON.parse(row.gpus) as NodeGpu[],
    labels: JSON.parse(row.labels) as Record<string, string>,
    token_sha256: row.token_sha256,
    previous_token_sha256: row.previous_token_sha256,
    rotate_token: row.rotate_token === true || Number(row.rotate_token) === 1,
    registered_at: row.registered_at,
    updated_at: row.updated_at,
  };
}

/**
 * Inserts a node's endpoint and its details, recording both changes.
 *
 * @example
 * await dialect.transaction(db, (trx) => insertNode(trx, columns, endpoint, node));
 */
export async function insertNode(trx: Db, columns: SqlColumnTypes, endpoint: EndpointRecord, node: NodeRecord): Promise<void> {
  await insertEndpoint(trx, endpoint);
  await trx.insertInto('nodes').values(toNodeRow(node, columns)).execute();
  await appendChange(trx, node.endpoint_id, 'node');
}

/**
 * Applies a node patch (and an endpoint patch, when given) and records the changes; `undefined`
 * (writing nothing) when there is no such node.
 */
export async function updateNode(
  trx: Db,
  columns: SqlColumnTypes,
  endpointId: string,
  patch: NodePatch,
  endpointPatch: EndpointPatch | undefined,
): Promise<NodeWrite | undefined> {
  const row = await trx.updateTable('nodes').set(toNodeUpdate(patch, columns)).where('endpoint_id', '=', endpointId).returningAll().executeTakeFirst();
  if (!row) return undefined;
  let endpoint: EndpointRecord | undefined;
  if (endpointPatch === undefined) {
    const current = await trx.selectFrom('endpoints').selectAll().where('id', '=', endpointId).executeTakeFirst();
    endpoint = current && toEndpointRecord(current);
  } else {
    endpoint = (await updateEndpoint(trx, endpointId, endpointPatch))?.record;
  }
  // A node row without its endpoint cannot be (the delete removes both); refuse rather than guess.
  if (!endpoint) throw new Error(`node ${endpointId} has no endpoint`);
  await appendChange(trx, endpointId, 'node');
  return { endpoint, node: toNodeRecord(row) };
}

/** One node, or undefined. */
export async function getNode(db: Db, endpointId: string): Promise<NodeRecord | undefined> {
  const row = await db.selectFrom('nodes').selectAll().where('endpoint_id', '=', endpointId).executeTakeFirst();
  return row && toNodeRecord(row);
}

/** Every node, by endpoint id (JavaScript's string order, whatever the collation). */
export async function listNodes(db: Db): Promise<NodeRecord[]> {
  const rows = await db.selectFrom('nodes').selectAll().execute();
  return rows.map(toNodeRecord).sort((a, b) => (a.endpoint_id < b.endpoint_id ? -1 : a.endpoint_id > b.endpoint_id ? 1 : 0));
}
