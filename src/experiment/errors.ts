/** Turning validation failures into messages that name the offending field. */
import type { ZodError } from 'zod';

/** Dotted path of a zod issue ("layers.1.size"), or "(root)". */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.length > 0 ? path.map(String).join('.') : '(root)';
}

/** "field.path: message" of the first issue. */
export function formatZodIssue(err: ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid input';
  return `${issuePath(issue.path)}: ${issue.message}`;
}
