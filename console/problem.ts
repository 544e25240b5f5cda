/**
 * RFC 9457 problem documents: every error the console's API answers is `application/problem+json`
 * with a type, a title, the status and one clear sentence in `detail`.
 */

/** The problems the API answers with, each with its HTTP status and title, defined once. */
export const PROBLEMS = {
  'bad-request': { status: 400, title: 'The request is not valid' },
  unauthenticated: { status: 401, title: 'Sign in first' },
  forbidden: { status: 403, title: 'Your role does not allow this' },
  'csrf-rejected': { status: 403, title: 'The request carries no valid CSRF token' },
  'not-found': { status: 404, title: 'No such resource' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  'unsupported-media-type': { status: 415, title: 'Send JSON' },
  'too-many-requests': { status: 429, title: 'Too many attempts' },
  'not-implemented': { status: 501, title: 'Not available in this version' },
  unavailable: { status: 503, title: 'A service the console depends on is unavailable' },
  internal: { status: 500, title: 'Internal error' },
} as const;
export type ProblemKind = keyof typeof PROBLEMS;

export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
}

/** Thrown by a route; the error handler turns it into its problem document. */
export class Problem extends Error {
  override readonly name = 'Problem';
  constructor(
    readonly kind: ProblemKind,
    detail: string,
  ) {
    super(detail);
  }

  get status(): number {
    return PROBLEMS[this.kind].status;
  }

  document(instance?: string): ProblemDocument {
    return { type: `/problems/${this.kind}`, title: PROBLEMS[this.kind].title, status: this.status, detail: this.message, instance };
  }
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
