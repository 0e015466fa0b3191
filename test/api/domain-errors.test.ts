/**
 * The services' domain errors reach clients through the one mapping in src/api/errors.ts: each
 * class its status and code, the message and field unchanged. (Every route's statuses are
 * checked over HTTP by the other API tests; this pins the table itself.)
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toApiError } from '../../src/api/errors.js';
import {
  Conflict,
  InvalidInput,
  invalidInputFromZod,
  LimitExceeded,
  NotFound,
  NotReady,
  QueueFull,
  QuotaExceeded,
  Unavailable,
  UnknownField,
} from '../../src/domain-errors.js';

describe('domain errors as HTTP errors', () => {
  it('maps every class to its status and code, keeping message and field', () => {
    const cases: [Error, number, string][] = [
      [new InvalidInput('dataset.id: dataset x not found', 'dataset.id'), 400, 'validation_error'],
      [new UnknownField('unknown field nope', 'nope'), 400, 'unknown_field'],
      [new LimitExceeded('neurons = 9 is over the limit MAX_NEURONS = 8', 'neurons'), 400, 'limit_exceeded'],
      [new NotFound('experiment e not found'), 404, 'not_found'],
      [new NotReady('experiment e has no weights yet'), 409, 'not_ready'],
      [new Conflict('experiment e is already completed'), 409, 'conflict'],
      [new QuotaExceeded('alice already has 3 experiments queued'), 429, 'quota_exceeded'],
      [new QueueFull('the queue holds the limit MAX_QUEUED = 1 experiments'), 503, 'queue_full'],
      [new Unavailable('could not queue the experiment: down'), 503, 'service_unavailable'],
    ];
    for (const [err, statusCode, code] of cases) {
      const field = (err as InvalidInput).field;
      expect(toApiError(err).toBody()).toEqual({ statusCode, code, message: err.message, ...(field ? { field } : {}) });
    }
  });

  it('names the first offending field of a zod error, an unknown key by its name', () => {
    const schema = z.object({ a: z.object({ b: z.number() }).strict() }).strict();
    const wrongType = invalidInputFromZod(schema.safeParse({ a: { b: 'x' } }).error!);
    expect(wrongType).toBeInstanceOf(InvalidInput);
    expect(wrongType.field).toBe('a.b');
    const unknown = invalidInputFromZod(schema.safeParse({ a: { b: 1, c: 2 } }).error!, 'base');
    expect(unknown).toBeInstanceOf(UnknownField);
    expect(toApiError(unknown).toBody()).toEqual({ statusCode: 400, code: 'unknown_field', message: 'unknown field base.a.c', field: 'base.a.c' });
  });
});
