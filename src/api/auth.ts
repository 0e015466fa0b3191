/**
 * Optional bearer API keys. When keys are configured every /v1 route (the stream included)
 * requires one, as `Authorization: Bearer <key>` or, for browsers that cannot set headers on a
 * WebSocket, as the `api_key` query parameter.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function makeAuthHook(keys: string[]) {
  const digests = keys.map(digest);
  return async (request: FastifyRequest) => {
    // The matched route, not the raw URL: a percent-encoded path (`/%761/…`) routes to /v1 too.
    if (digests.length === 0 || !isV1(request.routeOptions.url ?? '')) return;
    const presented = presentedKey(request);
    if (presented === undefined) {
      throw new ApiError(401, 'unauthorized', 'an API key is required: Authorization: Bearer <key> or ?api_key=<key>');
    }
    const d = digest(presented);
    // Compare digests in constant time so response timing does not reveal key prefixes.
    if (!digests.some((k) => timingSafeEqual(k, d))) throw new ApiError(401, 'unauthorized', 'invalid API key');
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
