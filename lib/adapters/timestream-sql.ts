/**
 * The SQL both Timestream adapters write: Timestream's query API takes no bound parameters, so every value
 * spliced into a query is checked here first (a series id is 16 hex digits, a time or a limit a safe
 * integer), and every number read back comes through one place. Imports the query SDK's types only, so the
 * ingest function, which never reads, does not load it.
 */
import type { Row } from '@aws-sdk/client-timestream-query';

const seriesIdPattern = /^[0-9a-f]{16}$/;

/** A series id, safe to splice between quotes; throws on anything but 16 hex digits. */
export function checkedId(seriesId: string): string {
  if (!seriesIdPattern.test(seriesId)) throw new Error(`not a series id: ${seriesId.slice(0, 40)}`);
  return seriesId;
}

/** A number safe to splice into a query; throws on anything but a safe integer. */
export function integer(value: number): number {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return value;
}

/** The condition `from <= time < to` (epoch ms). */
export const timeBetween = (from: number, to: number): string =>
  `time >= from_milliseconds(${integer(from)}) AND time < from_milliseconds(${integer(to)})`;

/** A table's full name, quoted: `"database"."table"`. */
export const quotedTable = (database: string, table: string): string => `"${database}"."${table}"`;

/** The number in a row's column (NaN when the column is missing or null). */
export const numberAt = (row: Row, column: number): number => Number(row.Data?.[column]?.ScalarValue);
