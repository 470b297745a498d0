/**
 * The errors of the PromQL layer, as Prometheus's HTTP API names them (`errorType`): `bad_data` (400) for a
 * query or parameter that is wrong, `execution` (422) for a valid query Normalcy cannot evaluate (an
 * unsupported function or operator, or a query past the limits), `timeout` (503) when evaluation ran out of
 * time. The routes render them as `{"status":"error","errorType":...,"error":...}`.
 */
import { HttpError } from '../../errors.ts';

/** The query or a parameter is wrong: the client must change it (400, `bad_data`). */
export class PromqlBadDataError extends HttpError {
  override readonly name = 'PromqlBadDataError';
  constructor(message: string) {
    super(400, 'bad_data', message);
  }
}

/** A valid query Normalcy does not evaluate (what is unsupported is named), or one past a limit (422). */
export class PromqlExecutionError extends HttpError {
  override readonly name = 'PromqlExecutionError';
  constructor(message: string) {
    super(422, 'execution', message);
  }
}

/** Evaluation ran out of its time budget (503 `timeout`, as Prometheus answers; safe to retry). */
export class PromqlTimeoutError extends HttpError {
  override readonly name = 'PromqlTimeoutError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(503, 'timeout', message, options);
  }
}

/** `function "topk" is not supported ...`: the 422 for a part of PromQL Normalcy does not evaluate. */
export const unsupported = (part: string): PromqlExecutionError =>
  new PromqlExecutionError(
    `${part} is not supported by Normalcy's PromQL (see docs/api.md, "Prometheus query API", for what is)`,
  );
