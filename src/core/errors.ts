/** Every error a user can cause: HTTP status, whether a retry may help, and what to do (DESIGN §7). */
export const ErrorCodes = {
  VALIDATION_FAILED: {
    status: 400,
    retryable: false,
    message: 'The request is invalid; fix the fields named in details.',
  },
  DEPENDENCY_CYCLE: {
    status: 400,
    retryable: false,
    message: 'The dependencies form a cycle; remove one edge of the cycle in details.',
  },
  MAX_DEPTH_EXCEEDED: {
    status: 400,
    retryable: false,
    message: 'Jobs nest at most 5 levels below the root; submit under a shallower parent.',
  },
  UNAUTHENTICATED: { status: 401, retryable: false, message: 'A valid bearer token is required.' },
  TOKEN_EXPIRED: { status: 401, retryable: false, message: 'The token has expired; create a new one.' },
  PHASE_TOKEN_INVALID: {
    status: 401,
    retryable: false,
    message:
      'This is not a valid phase or check token for this job; use the token your claim or last transition answered.',
  },
  PHASE_TOKEN_STALE: {
    status: 401,
    retryable: false,
    message:
      "The token's phase has passed or its lease has ended; use the token of the last transition, refresh it, or claim again.",
  },
  INSUFFICIENT_SCOPE: {
    status: 403,
    retryable: false,
    message: 'The token lacks the scope this operation needs.',
  },
  NOT_YOUR_WORKER: {
    status: 403,
    retryable: false,
    message:
      "This credential acts only on its own worker and that worker's jobs, leases and sessions; use the credential of the worker named in details.",
  },
  NOT_FOUND: { status: 404, retryable: false, message: 'No such object in this workspace.' },
  WORKFLOW_NOT_FOUND: {
    status: 404,
    retryable: false,
    message:
      'No such workflow (or version) is registered in this workspace; put it with workflows.put, or name one workflows.list shows.',
  },
  METHOD_NOT_ALLOWED: { status: 405, retryable: false, message: 'This path does not accept that method.' },
  INVALID_STATE_TRANSITION: {
    status: 409,
    retryable: false,
    message: 'The object is not in a state that accepts this command; see details for its state.',
  },
  LEASE_LOST: {
    status: 409,
    retryable: false,
    message: 'The lease is no longer held by this caller; claim again.',
  },
  ALREADY_EXISTS: {
    status: 409,
    retryable: false,
    message:
      'An object with this name exists already; use another name, or replay with the same idempotency key.',
  },
  WORKFLOW_INCOMPLETE: {
    status: 409,
    retryable: false,
    message:
      'The job follows a workflow that has not reached its final phase; move it there with workflow.transition.',
  },
  DEADLOCK_DETECTED: {
    status: 409,
    retryable: false,
    message: 'Waiting would close a cycle of waits; release what you hold or give up.',
  },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, message: 'The body exceeds the 512 KiB limit.' },
  HEADERS_TOO_LARGE: {
    status: 431,
    retryable: false,
    message: 'The request headers exceed the size limit (a bearer token is at most 16 KiB).',
  },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, message: 'Send application/json.' },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    retryable: false,
    message: 'This idempotency key was already used with another payload; use a new key.',
  },
  QUOTA_EXCEEDED: {
    status: 429,
    retryable: true,
    message: 'A quota or resource is exhausted; retry later or ask for less.',
  },
  RATE_LIMITED: { status: 429, retryable: true, message: 'Too many requests; retry after the delay given.' },
  STORAGE_UNAVAILABLE: {
    status: 503,
    retryable: true,
    message: 'The store could not commit; retry with the same idempotency key.',
  },
  INTERNAL: { status: 500, retryable: false, message: 'An internal error occurred; it has been logged.' },
  SNAPSHOT_VERSION_UNSUPPORTED: {
    status: 500,
    retryable: false,
    message: 'A stored snapshot has a machine version with no registered migration.',
  },
  DATA_DIR_LOCKED: {
    status: 503,
    retryable: false,
    message: 'Another live runtime holds this data directory; stop it or choose another dataDir.',
  },
} as const satisfies Record<string, { status: number; retryable: boolean; message: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

/** The standard error envelope on every transport. */
export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; details: Record<string, unknown> };
}

/** The one error type of Overseer: a stable code, its HTTP status, its retryable flag, and details. */
export class OverseerError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message?: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message ?? ErrorCodes[code].message, options);
    this.name = 'OverseerError';
    this.code = code;
    this.status = ErrorCodes[code].status;
    // `details.never` marks a request that can never succeed as sent (more than a pool holds): no retry helps.
    this.retryable = ErrorCodes[code].retryable && details['never'] !== true;
    this.details = details;
  }

  /** The envelope a client sees. Never carries a stack. */
  toEnvelope(): ErrorEnvelope {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }

  /** Rebuilds an error from an envelope received over a transport. */
  static fromEnvelope(envelope: ErrorEnvelope): OverseerError {
    const { code, message, details } = envelope.error;
    return new OverseerError(code in ErrorCodes ? code : 'INTERNAL', message, details);
  }
}

/** Whether a value is an OverseerError with the given code. */
export function isOverseerError(value: unknown, code?: ErrorCode): value is OverseerError {
  return value instanceof OverseerError && (code === undefined || value.code === code);
}
