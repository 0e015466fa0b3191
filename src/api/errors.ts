/**
 * One error shape for every failure the API reports: `{statusCode, code, message, field?}`, where
 * `field` is the dotted path of the first offending input field. Services throw domain errors
 * (src/domain-errors.ts), mapped here; routes may throw an ApiError for what only HTTP knows.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import {
  Conflict,
  DomainError,
  echo,
  InvalidInput,
  invalidInputFromIssues,
  invalidInputFromZod,
  LimitExceeded,
  NotFound,
  notFound,
  NotReady,
  QueueFull,
  QuotaExceeded,
  Unavailable,
  UnknownField,
  type ZodLikeIssue,
} from '../domain-errors.js';

export type ErrorCode =
  | 'invalid_json'
  | 'validation_error'
  | 'unknown_field'
  | 'limit_exceeded'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'not_found'
  | 'conflict'
  | 'not_ready'
  | 'queue_full'
  | 'request_timeout'
  | 'quota_exceeded'
  | 'forbidden'
  | 'too_many_requests'
  | 'timeout'
  | 'service_unavailable'
  | 'internal_error';

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  field?: string;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return { statusCode: this.statusCode, code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) };
  }
}

export { echo, notFound };

/**
 * The one place a domain error (src/domain-errors.ts) becomes an HTTP status and error code; the
 * first class an error is an instance of wins, so subclasses come before their parents.
 */
const domainStatus: [new (...args: never[]) => DomainError, number, ErrorCode][] = [
  [UnknownField, 400, 'unknown_field'],
  [LimitExceeded, 400, 'limit_exceeded'],
  [InvalidInput, 400, 'validation_error'],
  [NotFound, 404, 'not_found'],
  [NotReady, 409, 'not_ready'],
  [Conflict, 409, 'conflict'],
  [QuotaExceeded, 429, 'quota_exceeded'],
  [QueueFull, 503, 'queue_full'],
  [Unavailable, 503, 'service_unavailable'],
];

function fromDomain(err: DomainError): ApiError {
  const mapped = domainStatus.find(([type]) => err instanceof type);
  // A domain error nobody mapped is a bug here, not the client's: reported like any other.
  if (!mapped) return new ApiError(500, 'internal_error', 'internal server error');
  return new ApiError(mapped[1], mapped[2], err.message, err.field);
}

/** A zod error as the API reports it (400 naming the first offending field). */
export function errorFromZodIssues(issues: ZodLikeIssue[], prefix = ''): ApiError {
  return fromDomain(invalidInputFromIssues(issues, prefix));
}

export function errorFromZod(err: ZodError, prefix = ''): ApiError {
  return fromDomain(invalidInputFromZod(err, prefix));
}

/** Maps fastify-type-provider-zod's validation entries back to zod-like issues. */
function issuesFromFastifyValidation(err: FastifyError): ZodLikeIssue[] {
  return (err.validation ?? []).map((v) => {
    const params = v.params as { keys?: string[] };
    return {
      code: v.keyword,
      path: v.instancePath.split('/').filter(Boolean),
      message: v.message ?? 'invalid',
      keys: params.keys,
    };
  });
}

export function toApiError(err: unknown, maxBodyBytes?: number): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof DomainError) return fromDomain(err);
  if (err instanceof ZodError) return errorFromZod(err);
  const e = err as FastifyError & { statusCode?: number };
  if (hasZodFastifySchemaValidationErrors(e)) return errorFromZodIssues(issuesFromFastifyValidation(e));
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'invalid_json', e.message);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(
        413,
        'payload_too_large',
        maxBodyBytes ? `request body exceeds the limit MAX_BODY_BYTES = ${maxBodyBytes} bytes` : e.message,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported_media_type', e.message);
  }
  if (err instanceof SyntaxError && e.statusCode === 400) return new ApiError(400, 'invalid_json', e.message);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError(e.statusCode, e.statusCode === 404 ? 'not_found' : 'validation_error', e.message);
  }
  return new ApiError(500, 'internal_error', 'internal server error');
}

export const makeErrorHandler = (maxBodyBytes: number) => (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
  const apiError = toApiError(err, maxBodyBytes);
  if (apiError.statusCode >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ code: apiError.code, field: apiError.field }, apiError.message);
  return reply.code(apiError.statusCode).type('application/json; charset=utf-8').send(apiError.toBody());
};
