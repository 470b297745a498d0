/**
 * The query of a listing route of things that start and end (alerts, incidents): `state`, `from`, `to` (epoch
 * ms or ISO-8601), `limit` and `cursor` (the `nextCursor` of the previous page), each checked by name.
 */
import { describeValue, ValidationError } from '../../lib/errors.ts';
import { readTimestamp } from '../../lib/metrics/timestamp.ts';
import { decodeCursor } from '../../lib/query/cursor.ts';

/** Where a page stopped: listings are newest first by start, then by id. */
export interface ListingPosition {
  readonly startedAt: number;
  readonly id: string;
}

const isListingPosition = (value: unknown): value is ListingPosition =>
  typeof value === 'object' &&
  value !== null &&
  Number.isSafeInteger((value as ListingPosition).startedAt) &&
  typeof (value as ListingPosition).id === 'string' &&
  (value as ListingPosition).id.length > 0;

export function listingQuery<State extends string>(
  parameters: Readonly<Record<string, string | undefined>>,
  states: readonly State[],
  maxLimit: number,
) {
  const problem = (field: string, message: string): never => {
    throw new ValidationError(`query parameter "${field}" ${message}`, [{ field, message }]);
  };
  const time = (field: 'from' | 'to'): number | undefined => {
    const raw = parameters[field];
    if (raw === undefined || raw === '') return undefined;
    const parsed = readTimestamp(/^\d+$/.test(raw) ? Number(raw) : raw, Number.POSITIVE_INFINITY);
    return typeof parsed === 'string' ? problem(field, parsed) : parsed;
  };
  const state = parameters.state || undefined;
  if (state !== undefined && !(states as readonly string[]).includes(state)) {
    problem('state', `must be one of ${states.join(', ')}, got ${describeValue(state)}`);
  }
  const from = time('from');
  const to = time('to');
  if (from !== undefined && to !== undefined && from >= to) problem('from', 'must be before "to"');
  const rawLimit = parameters.limit;
  const limit = rawLimit === undefined || rawLimit === '' ? 100 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    problem('limit', `must be a whole number from 1 to ${maxLimit}`);
  }
  const after = parameters.cursor ? decodeCursor(parameters.cursor, isListingPosition) : undefined;
  return { state: state as State | undefined, from, to, limit, after };
}
