/** Row limits as every storage adapter reads them. */

/**
 * The number of rows a `limit` option allows, or `undefined` for no limit (`undefined` or
 * `Infinity`). Fractions are truncated; negative and `NaN` limits allow nothing.
 *
 * @example
 * const limit = rowLimit(page.limit); // 2.7 → 2, -1 → 0, undefined → undefined
 */
export function rowLimit(limit: number | undefined): number | undefined {
  if (limit === undefined || limit === Infinity) return undefined;
  return Math.max(0, Math.trunc(limit) || 0);
}

/** Most changes {@link StorageAdapter.changesSince} returns when no limit is given. */
export const DEFAULT_CHANGES_LIMIT = 1000;
