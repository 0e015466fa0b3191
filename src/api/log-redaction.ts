/**
 * What the request log may say about a request. Browsers pass the API key as `?api_key=` on
 * WebSocket URLs (they cannot set headers there), so the URL is logged with that parameter's
 * value replaced; the Authorization header is never logged (Fastify's default serializer leaves
 * headers out, and so does this one).
 */
import type { FastifyRequest } from 'fastify';

/** `api_key=…` in a query string, whatever its position and case, percent-encoded name included. */
const apiKeyParam = /([?&](?:api_key|api%5fkey)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(apiKeyParam, '$1[REDACTED]');
}

export const requestSerializers = {
  req(request: FastifyRequest) {
    return {
      method: request.method,
      url: redactUrl(request.url),
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort,
    };
  },
};
