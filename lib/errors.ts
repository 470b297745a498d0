/** One thing wrong with a request: which item (when the body is a list), which field, and what is wrong. */
export interface Problem {
  readonly index?: number;
  readonly field: string;
  readonly message: string;
}

/**
 * An error a client caused or must know about. The one error-mapping middleware turns it into a response
 * with this status and a JSON body `{ error: { code, message, problems? } }`; any other error is a 500 whose
 * details stay in the logs.
 */
export class HttpError extends Error {
  override readonly name: string = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly options: {
      cause?: unknown;
      problems?: readonly Problem[];
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message, { cause: options.cause });
  }

  get problems(): readonly Problem[] | undefined {
    return this.options.problems;
  }
}

export class ValidationError extends HttpError {
  override readonly name = 'ValidationError';
  constructor(message: string, problems: readonly Problem[] = []) {
    super(400, 'invalid_request', message, { problems });
  }
}

export class UnauthorizedError extends HttpError {
  override readonly name = 'UnauthorizedError';
  constructor(message = 'an API key is required: send "Authorization: Bearer KEY" or "x-api-key: KEY"') {
    super(401, 'unauthorized', message, { headers: { 'www-authenticate': 'Bearer realm="normalcy"' } });
  }
}

export class ForbiddenError extends HttpError {
  override readonly name = 'ForbiddenError';
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

export class NotFoundError extends HttpError {
  override readonly name = 'NotFoundError';
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

export class PayloadTooLargeError extends HttpError {
  override readonly name = 'PayloadTooLargeError';
  constructor(limitBytes: number) {
    super(413, 'payload_too_large', `the request body is larger than the limit of ${limitBytes} bytes`);
  }
}

/** A describable, short rendering of a value for error messages (never the whole value). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
