/** One thing wrong with a request: which item (when the body is a list), which field, and what is wrong. */
export interface Problem {
  readonly index?: number;
  readonly field: string;
  readonly message: string;
}

/**
 * How much of what is wrong a reply carries. A body of 5 MB can hold millions of bad items: a reply listing
 * them all would run to hundreds of MB (past Lambda's 6 MB response limit, and the memory of the function),
 * so replies list the first problems and count the rest. With these figures every error reply stays well
 * under 64 KB.
 */
export const problemLimits = {
  /** Problems a reply lists; the others are only counted (`problemCount`, or `rejected` in ingest answers). */
  listed: 100,
  /** Characters of a problem's field and message; longer ones are cut, with "…". */
  fieldLength: 200,
  messageLength: 300,
  /** Bytes of UTF-8 JSON the listed problems take at most together (fewer are listed when they are long). */
  listedBytes: 32 * 1024,
  /** Characters of a reply's one-line message. */
  replyMessageLength: 1_000,
} as const;

/**
 * Characters that are invisible or change how text around them reads: controls (C0, DEL, C1), format
 * characters (Unicode category Cf: bidirectional overrides such as U+202E, zero-width spaces and joiners,
 * the byte-order mark), lone surrogates, and the line and paragraph separators. In a metric name or a
 * dimension they let two series look alike, or an alert say something else than it does.
 */
export const hiddenCharacter = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const hiddenCharacters = new RegExp(hiddenCharacter.source, 'gu');

/** `U+202E`: how a reply names a character. */
export const codePointName = (codePoint: number): string =>
  `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;

/** Text safe to show in a reply: hidden characters written as `<U+202E>`, and at most `maxLength` characters. */
export function printable(text: string, maxLength: number): string {
  const shown = hiddenCharacter.test(text)
    ? text.replace(hiddenCharacters, (character) => `<${codePointName(character.codePointAt(0) ?? 0)}>`)
    : text;
  if (shown.length <= maxLength) return shown;
  // Cut before a surrogate pair's second half rather than through it.
  const cut = /[\uD800-\uDBFF]/.test(shown.charAt(maxLength - 2)) ? maxLength - 2 : maxLength - 1;
  return `${shown.slice(0, cut)}…`;
}

/**
 * Collects a request's problems: keeps the first ones, shortened and made printable (see
 * {@link problemLimits}), and counts every one. Pushing past the limit costs a counter increment, so a parser
 * can report millions of bad items in constant memory.
 */
export class ProblemList {
  /** The problems a reply lists, in the order they were found. */
  readonly listed: Problem[] = [];
  /** Every problem found, listed or not. */
  count = 0;
  private bytes = 0;
  private closed = false;

  constructor(problems: Iterable<Problem> = []) {
    for (const problem of problems) this.push(problem);
  }

  /** Whether further problems are only counted (callers may then skip building them). */
  get full(): boolean {
    return this.closed;
  }

  push(problem: Problem): void {
    this.add(problem.index, problem.field, problem.message);
  }

  /** Records a problem; its parts are kept only while the list still has room. */
  add(index: number | undefined, field: string, message: string): void {
    this.count += 1;
    if (this.closed) return;
    const bounded: Problem = {
      ...(index !== undefined && { index }),
      field: printable(field, problemLimits.fieldLength),
      message: printable(message, problemLimits.messageLength),
    };
    const size = Buffer.byteLength(JSON.stringify(bounded), 'utf8') + 1;
    if (this.bytes + size > problemLimits.listedBytes) {
      this.closed = true;
      return;
    }
    this.bytes += size;
    this.listed.push(bounded);
    if (this.listed.length === problemLimits.listed) this.closed = true;
  }

  /** Counts problems that were not looked at one by one (they are not listed). */
  addUnlisted(count: number): void {
    this.count += count;
    this.closed = true;
  }

  /** Adds another list's problems: its listed ones while there is room, and its count. */
  addAll(other: ProblemList): void {
    for (const problem of other.listed) this.push(problem);
    const unlisted = other.count - other.listed.length;
    if (unlisted > 0) this.addUnlisted(unlisted);
  }
}

/**
 * An error a client caused or must know about. The one error-mapping middleware turns it into a response
 * with this status and a JSON body `{ error: { code, message, problems?, problemCount? } }`; any other error
 * is a 500 whose details stay in the logs. However many problems it is given, it keeps the first ones (see
 * {@link problemLimits}) and their count.
 */
export class HttpError extends Error {
  override readonly name: string = 'HttpError';
  private readonly problemList: ProblemList | undefined;

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly options: {
      cause?: unknown;
      problems?: readonly Problem[] | ProblemList;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message, { cause: options.cause });
    const { problems } = options;
    this.problemList =
      problems === undefined || problems instanceof ProblemList ? problems : new ProblemList(problems);
  }

  /** The problems a reply lists (the first ones). */
  get problems(): readonly Problem[] | undefined {
    return this.problemList?.listed;
  }

  /** How many problems were found in all, listed or not. */
  get problemCount(): number {
    return this.problemList?.count ?? 0;
  }
}

export class ValidationError extends HttpError {
  override readonly name = 'ValidationError';
  constructor(message: string, problems: readonly Problem[] | ProblemList = []) {
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
