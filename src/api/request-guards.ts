/**
 * Checks every request passes before auth and routing:
 * - Host: a browser tricked by DNS rebinding sends the attacker's host name; with no API keys it
 *   could otherwise drive a server bound to loopback. Accepted: ALLOWED_HOSTS when set; else IP
 *   literals and `localhost` (and any host when keys are configured, since a key is needed anyway).
 * - Origin, on state-changing requests and WebSocket upgrades: a page on another site can send a
 *   "simple" cross-site POST without a preflight, and can open a WebSocket to any origin
 *   (cross-site WebSocket hijacking). Accepted: no Origin (not a browser), the server's own origin
 *   (the dashboard), or one listed in CORS_ORIGINS.
 * - NUL bytes in the path or query: PostgreSQL text cannot hold them; refused as a 400 instead of
 *   surfacing as a database error.
 */
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { ApiError, echo as truncate } from './errors.js';

export interface GuardOptions {
  allowedHosts: string[];
  corsOrigins: string[];
  /** API keys are configured. */
  keysConfigured: boolean;
}

const stateChanging = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The host name of a Host header or URL authority, lower-case, without port or IPv6 brackets. */
export function hostName(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith('[')) return a.slice(1, a.indexOf(']') > 0 ? a.indexOf(']') : undefined);
  const colon = a.lastIndexOf(':');
  return colon >= 0 && a.indexOf(':') === colon ? a.slice(0, colon) : a;
}

export function makeRequestGuards(opts: GuardOptions) {
  const allowed = new Set(opts.allowedHosts);
  const anyOrigin = opts.corsOrigins.includes('*');
  const origins = new Set(opts.corsOrigins.map((o) => o.replace(/\/+$/, '').toLowerCase()));

  const hostAllowed = (host: string | undefined): boolean => {
    if (!host) return false;
    if (allowed.has('*')) return true;
    const name = hostName(host);
    if (allowed.size > 0) return allowed.has(name) || allowed.has(host.toLowerCase());
    return opts.keysConfigured || name === 'localhost' || isIP(name) !== 0;
  };

  return async (request: FastifyRequest) => {
    const host = request.headers.host;
    if (!hostAllowed(host)) {
      throw new ApiError(403, 'forbidden', `host ${JSON.stringify(truncate(host ?? ''))} is not allowed (ALLOWED_HOSTS)`);
    }
    const upgrade = (request.headers.upgrade ?? '').toLowerCase() === 'websocket';
    const origin = request.headers.origin;
    if (origin !== undefined && (upgrade || stateChanging.has(request.method))) {
      if (!originAllowed(origin, host!)) {
        throw new ApiError(403, 'forbidden', `origin ${JSON.stringify(truncate(origin))} is not allowed (CORS_ORIGINS)`);
      }
    }
    if (request.url.includes('\0') || /%00/i.test(request.url)) {
      throw new ApiError(400, 'validation_error', 'the URL contains a NUL byte');
    }
  };

  function originAllowed(origin: string, host: string): boolean {
    if (anyOrigin) return true;
    const o = origin.replace(/\/+$/, '').toLowerCase();
    if (origins.has(o)) return true;
    try {
      // Same origin: the page was served by this server under the Host it now talks to.
      return new URL(o).host === host.toLowerCase();
    } catch {
      return false; // "null" (sandboxed frames, file://) or garbage
    }
  }
}

/**
 * The dotted path of the first string (or object key) holding a NUL byte in a parsed JSON body,
 * or null. PostgreSQL text and json cannot store U+0000, so such input is a 400, not a 500.
 */
export function findNul(value: unknown, path: string[] = [], depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\0') ? path.join('.') || '(body)' : null;
  if (value === null || typeof value !== 'object' || depth > 64) return null;
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('\0')) return truncate([...path, k.replace(/\0/g, '\\u0000')].join('.'));
    const found = findNul(v, [...path, k], depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** preValidation: a JSON body with a NUL byte anywhere is refused, naming the field. */
export async function rejectNulInBody(request: FastifyRequest) {
  const field = findNul(request.body);
  if (field !== null) throw new ApiError(400, 'validation_error', `${truncate(field)}: must not contain NUL bytes`, truncate(field));
}
