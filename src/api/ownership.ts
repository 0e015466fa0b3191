/**
 * Who may see what. Every resource created through the API stores the principal id of the key
 * that created it (`owner`, null when no keys are configured); other keys get a 404 for it, as if
 * it did not exist, so ids cannot be probed. An admin key sees everything. Used by every route
 * that reads or changes an owned resource (experiments, and later datasets, sweeps).
 */

/** The authenticated caller of a request; null when the server runs without API keys. */
export interface RequestPrincipal {
  id: string;
  name: string;
  admin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook: the caller, or null when no API keys are configured (or not presented outside /v1). */
    principal: RequestPrincipal | null;
  }
}

/** True when the principal may see a resource of this owner. */
export function canSee(principal: RequestPrincipal | null, owner: string | null): boolean {
  return principal === null || principal.admin || owner === principal.id;
}

/** The owner filter of a listing: undefined (everything) for no keys or an admin. */
export function ownerFilter(principal: RequestPrincipal | null): string | undefined {
  return principal === null || principal.admin ? undefined : principal.id;
}
