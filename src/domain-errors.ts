/**
 * Why a service (experiments, sweeps) refuses a request, in its own terms: no HTTP status in
 * sight. The API maps each class to a status and an error code in one place (src/api/errors.ts),
 * and other callers (the sweep coordinator submitting trials) tell a refusal that retrying cannot
 * fix from one that later may. `field` is the dotted path of the offending input field.
 */
import type { ZodError } from 'zod';

export abstract class DomainError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input is wrong (a value, a reference to something the caller cannot see). */
export class InvalidInput extends DomainError {}
/** The input has a field that does not exist. */
export class UnknownField extends InvalidInput {}
/** The input is well-formed but over one of the server's limits (MAX_…). */
export class LimitExceeded extends InvalidInput {}
/** No such resource for this caller: another owner's looks exactly the same. */
export class NotFound extends DomainError {}
/** The resource's state forbids the request (e.g. it has already finished). */
export class Conflict extends DomainError {}
/** What is asked for does not exist yet (the experiment has not finished). */
export class NotReady extends DomainError {}
/** The caller's quota is used up; later it may not be. */
export class QuotaExceeded extends DomainError {}
/** The queue holds MAX_QUEUED experiments; later it may not. */
export class QueueFull extends DomainError {}
/** Something the service depends on failed (the queue could not take a job). */
export class Unavailable extends DomainError {}

/** A client-sent string echoed in a message or field: bounded, so a huge name is not echoed or logged whole. */
export const echo = (s: string, max = 64) => (s.length <= max ? s : `${s.slice(0, max)}…`);

export const notFound = (what: string, id: string) => new NotFound(`${what} ${echo(id)} not found`);

export interface ZodLikeIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
}

/** The first issue, with a path that reaches the offending field (unrecognized keys name the key). */
export function invalidInputFromIssues(issues: ZodLikeIssue[], prefix = ''): InvalidInput {
  const issue = issues[0]!;
  const segments = issue.path.map(String);
  if (issue.code === 'unrecognized_keys' && issue.keys && issue.keys.length > 0) {
    const field = echo([prefix, ...segments, issue.keys[0]].filter(Boolean).join('.'));
    return new UnknownField(`unknown field ${field}`, field);
  }
  const field = echo([prefix, ...segments].filter(Boolean).join('.'), 200);
  return new InvalidInput(field ? `${field}: ${issue.message}` : issue.message, field || undefined);
}

export function invalidInputFromZod(err: ZodError, prefix = ''): InvalidInput {
  return invalidInputFromIssues(err.issues as ZodLikeIssue[], prefix);
}
