/**
 * The roles a caller can have, defined once: the route table (`http/routes.ts`) says what each
 * may call, stored API keys (`storage/key-types.ts`) carry one.
 */

/**
 * Every role a key can have; which routes each may call is declared in the route table
 * (`routes.ts`). `node` keys are registration tokens of self-registering inference nodes.
 */
export const ROLES = ['admin', 'viewer', 'client', 'node'] as const;
/** A caller's role. */
export type Role = (typeof ROLES)[number];

/** Who is calling, as established by authentication. */
export interface Principal {
  role: Role;
  /** Optional label for logs (never the key). */
  name?: string;
  /**
   * Id of the caller's key (never the key): a runtime key's id, or `cfg_…` for a key from the
   * `auth` option. Usage and limits are kept per key id.
   */
  keyId?: string;
}
