/**
 * Optional bearer API keys. When keys are configured every /v1 route (the stream included)
 * requires one, as `Authorization: Bearer <key>` or, for browsers that cannot set headers on a
 * WebSocket, as the `api_key` query parameter. The key identifies a principal
 * (`request.principal`), which owns what it creates. Outside /v1 (health, metrics) a key is
 * optional; when valid it still identifies the caller (an admin sees per-experiment metrics).
 * Keys are never logged: the request serializer redacts `api_key` (see log-redaction.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../config.js';
import { ApiError } from './errors.js';
import type { RequestPrincipal } from './ownership.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function makeAuthHook(principals: Principal[]) {
  const known = principals.map((p) => ({ digest: digest(p.key), principal: { id: p.id, name: p.name, admin: p.admin } as RequestPrincipal }));
  return async (request: FastifyRequest) => {
    request.principal = null;
    if (known.length === 0) return;
    // The matched route, not the raw URL: a percent-encoded path (`/%761/…`) routes to /v1 too.
    const required = isV1(request.routeOptions.url ?? '');
    const presented = presentedKey(request);
    if (presented === undefined) {
      if (!required) return;
      throw new ApiError(401, 'unauthorized', 'an API key is required: Authorization: Bearer <key> or ?api_key=<key>');
    }
    const d = digest(presented);
    // Compare digests in constant time (and every one of them) so timing does not reveal which key matched.
    let match: RequestPrincipal | null = null;
    for (const k of known) if (timingSafeEqual(k.digest, d)) match = k.principal;
    if (!match) {
      if (!required) return;
      throw new ApiError(401, 'unauthorized', 'invalid API key');
    }
    request.principal = match;
  };
}

const isV1 = (route: string) => route === '/v1' || route.startsWith('/v1/');

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (m) return m[1]!.trim();
  }
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.api_key;
  return typeof fromQuery === 'string' && fromQuery.length > 0 ? fromQuery : undefined;
}
