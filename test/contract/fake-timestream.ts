import {
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  ValidationException as QueryValidationException,
  type Row,
  TimestreamQueryClient,
} from '@aws-sdk/client-timestream-query';
import {
  type _Record,
  type RejectedRecord,
  RejectedRecordsException,
  ResourceNotFoundException,
  TimestreamWriteClient,
  ValidationException,
  WriteRecordsCommand,
  type WriteRecordsCommandInput,
} from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';

/** A scalar as a Timestream column holds it (undefined: NULL). */
type Scalar = string | number | boolean | undefined;

/** One stored record: a single measure (`measure_value::<type>`) or a multi-measure record (named columns). */
interface StoredRecord {
  readonly dimensions: Readonly<Record<string, string>>;
  readonly measureName: string;
  readonly time: number;
  readonly version: number;
  /** Single-measure records: `{ 'measure_value::double': 1 }`; multi-measure: one entry per measure. */
  readonly measures: Readonly<Record<string, Scalar>>;
}

export interface FakeTimestreamOptions {
  readonly database: string;
  readonly pointsTable: string;
  readonly bandsTable: string;
  /** Hours the memory store keeps a record (the stack's default: 2). */
  readonly memoryRetentionHours?: number;
  /** Days the magnetic store keeps a record; Timestream's maximum by default, so fixed test dates stay valid. */
  readonly magneticRetentionDays?: number;
  /** Whether records older than the memory store's window are accepted (the stack enables it). */
  readonly magneticStoreWrites?: boolean;
  readonly now?: () => number;
}

/** Timestream's limits: records per WriteRecords call, bytes per record, how far ahead a time may be. */
const maxRecordsPerCall = 100;
const maxRecordBytes = 2048;
const maxFutureMs = 15 * 60_000;
const dayMs = 86_400_000;

/**
 * Amazon Timestream for LiveAnalytics at the AWS boundary, for the contract suites: its own SDK clients, mocked
 * with aws-sdk-client-mock, to hand to the adapters. WriteRecords is checked as the service checks it (at most
 * 100 records; measure name, type, value and time present and well formed; a record's size, its time within
 * retention; a record with the same dimensions, time and measure name but different values is refused with its
 * ExistingVersion unless the new version is higher) and fills the tables. Query is a small interpreter of
 * exactly the SQL shapes the adapters send: plain selections with WHERE (comparisons joined by AND, OR and
 * parentheses), ORDER BY and LIMIT, the earliest time of a series, and the two `bin()` downsamplings of the
 * query adapter; any other shape fails the test, and a column no record has is an error, as in Timestream.
 * Answers come in pages of two rows after an empty first page, as a running Timestream query does, so every
 * caller must follow NextToken. Rows of a query without ORDER BY come newest written first (Timestream
 * promises no order).
 */
export class FakeTimestream {
  readonly writeClient = new TimestreamWriteClient({ region: 'eu-west-1' });
  readonly queryClient = new TimestreamQueryClient({ region: 'eu-west-1' });
  readonly writeMock = mockClient(this.writeClient);
  readonly queryMock = mockClient(this.queryClient);
  readonly queries: QueryCommandInput[] = [];
  private readonly tables = new Map<string, Map<string, StoredRecord>>();
  private readonly pending = new Map<string, { queryString: string; pages: Row[][] }>();
  private tokens = 0;
  private readonly now: () => number;

  constructor(private readonly options: FakeTimestreamOptions) {
    this.tables.set(options.pointsTable, new Map());
    this.tables.set(options.bandsTable, new Map());
    this.now = options.now ?? Date.now;
    this.writeMock.on(WriteRecordsCommand).callsFake((input: WriteRecordsCommandInput) => this.write(input));
    this.queryMock.on(QueryCommand).callsFake((input: QueryCommandInput) => this.answer(input));
  }

  /** The records of a table, in the order they were first written. */
  records(table: string): StoredRecord[] {
    return [...(this.tables.get(table)?.values() ?? [])];
  }

  reset(): void {
    this.writeMock.reset();
    this.queryMock.reset();
  }

  private write(input: WriteRecordsCommandInput): Record<string, unknown> {
    const table =
      input.DatabaseName === this.options.database ? this.tables.get(input.TableName ?? '') : undefined;
    if (!table) {
      throw new ResourceNotFoundException({
        message: `The table ${input.DatabaseName}.${input.TableName} does not exist.`,
        Message: `The table ${input.DatabaseName}.${input.TableName} does not exist.`,
        $metadata: { httpStatusCode: 404 },
      });
    }
    const records = input.Records ?? [];
    if (records.length < 1 || records.length > maxRecordsPerCall) {
      throw validation(`Records must hold 1 to ${maxRecordsPerCall} records, not ${records.length}`);
    }
    const common = input.CommonAttributes ?? {};
    const merged = records.map((record, index) => mergeRecord(common, record, index));
    const rejected: RejectedRecord[] = [];
    merged.forEach((record, index) => {
      const refusal = this.refusal(record, common, records[index] as _Record);
      if (refusal) {
        rejected.push({ RecordIndex: index, Reason: refusal });
        return;
      }
      const key = recordKey(record);
      const existing = table.get(key);
      if (existing === undefined || record.version > existing.version) {
        table.set(key, record);
      } else if (JSON.stringify(existing.measures) !== JSON.stringify(record.measures)) {
        rejected.push({
          RecordIndex: index,
          Reason:
            'A record with the same dimensions, time and measure name exists with different measure values and an equal or higher version.',
          ExistingVersion: existing.version,
        });
      }
    });
    if (rejected.length > 0) {
      throw new RejectedRecordsException({
        message: 'One or more records have been rejected. See RejectedRecords for details.',
        $metadata: { httpStatusCode: 419 },
        RejectedRecords: rejected,
      });
    }
    return { RecordsIngested: { Total: records.length }, $metadata: {} };
  }

  /** Why the service would refuse this (well formed) record, if it would. */
  private refusal(record: StoredRecord, common: _Record, raw: _Record): string | undefined {
    let bytes = record.measureName.length + String(record.time).length;
    for (const dimension of [...(common.Dimensions ?? []), ...(raw.Dimensions ?? [])]) {
      bytes += Buffer.byteLength(dimension.Name ?? '') + Buffer.byteLength(dimension.Value ?? '');
    }
    for (const measure of raw.MeasureValues ?? common.MeasureValues ?? []) {
      bytes += Buffer.byteLength(measure.Name ?? '') + Buffer.byteLength(measure.Value ?? '');
    }
    bytes += Buffer.byteLength(raw.MeasureValue ?? common.MeasureValue ?? '');
    if (bytes > maxRecordBytes) return `The record is ${bytes} bytes, over the ${maxRecordBytes}-byte limit.`;
    const now = this.now();
    const oldest =
      this.options.magneticStoreWrites === false
        ? now - (this.options.memoryRetentionHours ?? 2) * 3_600_000
        : now - (this.options.magneticRetentionDays ?? 73_000) * dayMs;
    if (record.time < oldest || record.time > now + maxFutureMs) {
      return 'The record timestamp is outside the time range of the data ingestion window.';
    }
    return undefined;
  }

  private answer(input: QueryCommandInput): QueryCommandOutput {
    this.queries.push(input);
    const queryString = input.QueryString ?? '';
    let pages: Row[][];
    if (input.NextToken) {
      const pending = this.pending.get(input.NextToken);
      if (!pending) throw new Error(`unknown NextToken ${input.NextToken}`);
      if (pending.queryString !== queryString) throw new Error('a NextToken must come with its own query');
      this.pending.delete(input.NextToken);
      pages = pending.pages;
    } else {
      const rows = this.evaluate(queryString).map((values) => ({
        Data: values.map((value) =>
          value === undefined ? { NullValue: true } : { ScalarValue: String(value) },
        ),
      }));
      pages = [[]];
      for (let offset = 0; offset < rows.length; offset += 2) pages.push(rows.slice(offset, offset + 2));
    }
    const [page = [], ...rest] = pages;
    let nextToken: string | undefined;
    if (rest.length > 0) {
      nextToken = `token-${++this.tokens}`;
      this.pending.set(nextToken, { queryString, pages: rest });
    }
    return { Rows: page, NextToken: nextToken, ColumnInfo: [], QueryId: 'q', $metadata: {} };
  }

  /** The rows of a query, each a list of column values. */
  private evaluate(sql: string): Scalar[][] {
    const from = `FROM "${this.options.database}"\\."(\\w+)" WHERE (.+?)`;
    const values = new RegExp(
      `^SELECT to_milliseconds\\(bin\\(t, (\\w+)\\)\\) AS bucket, avg\\(v\\), min\\(v\\), max\\(v\\), sum\\(n\\) FROM \\(` +
        `SELECT bin\\(time, (\\w+)\\) AS t, (sum|avg)\\(measure_value::double\\) AS v, count\\(\\*\\) AS n ` +
        `${from} GROUP BY bin\\(time, \\2\\)\\) GROUP BY bin\\(t, \\1\\) ORDER BY bucket$`,
    ).exec(sql);
    if (values) {
      const [, step = '', seriesStep = '', aggregate, table = '', where = ''] = values;
      const inner = groupBy(this.select(table, where), (r) => bin(r.time, seriesStep)).map(([t, rows]) => {
        const sum = rows.reduce((total, r) => total + Number(column(r, 'measure_value::double')), 0);
        return { t, v: aggregate === 'sum' ? sum : sum / rows.length, n: rows.length };
      });
      return groupBy(inner, (r) => bin(r.t, step)).map(([bucket, rows]) => [
        bucket,
        rows.reduce((total, r) => total + r.v, 0) / rows.length,
        Math.min(...rows.map((r) => r.v)),
        Math.max(...rows.map((r) => r.v)),
        rows.reduce((total, r) => total + r.n, 0),
      ]);
    }
    const bands = new RegExp(
      `^SELECT to_milliseconds\\(bin\\(time, (\\w+)\\)\\) AS bucket, avg\\(expected\\), min\\(lower\\), ` +
        `max\\(upper\\), max\\(score\\), bool_or\\(anomaly\\) ${from} GROUP BY bin\\(time, \\1\\) ORDER BY bucket$`,
    ).exec(sql);
    if (bands) {
      const [, step = '', table = '', where = ''] = bands;
      return groupBy(this.select(table, where), (r) => bin(r.time, step)).map(([bucket, rows]) => {
        const measure = (name: string) => rows.map((r) => Number(column(r, name)));
        return [
          bucket,
          measure('expected').reduce((a, b) => a + b, 0) / rows.length,
          Math.min(...measure('lower')),
          Math.max(...measure('upper')),
          Math.max(...measure('score')),
          rows.some((r) => column(r, 'anomaly') === true),
        ];
      });
    }
    const earliest = new RegExp(`^SELECT to_milliseconds\\(min\\(time\\)\\) ${from}$`).exec(sql);
    if (earliest) {
      const times = this.select(earliest[1] ?? '', earliest[2] ?? '').map((r) => r.time);
      // An aggregate over no rows is one row holding NULL, as in Timestream.
      return [[times.length === 0 ? undefined : Math.min(...times)]];
    }
    const plain = new RegExp(`^SELECT (.+?) ${from}(?: ORDER BY (.+?))?(?: LIMIT (\\d+))?$`).exec(sql);
    if (plain) {
      const [, columns = '', table = '', where = '', order, limit] = plain;
      const projection = columns.split(', ').map((expression) => {
        const name = expression.replace(/ AS \w+$/, '');
        const converted = /^to_milliseconds\((\w+)\)$/.exec(name)?.[1];
        if (converted !== undefined && converted !== 'time')
          throw new Error(`unexpected column ${expression}`);
        if (converted === undefined) this.checkColumn(table, name);
        return (r: StoredRecord) => (converted ? r.time : column(r, name));
      });
      let rows = this.select(table, where);
      if (order === undefined) rows.reverse();
      else rows.sort(comparator(order));
      if (limit !== undefined) rows = rows.slice(0, Number(limit));
      return rows.map((r) => projection.map((value) => value(r)));
    }
    throw new Error(`the fake Timestream does not know this query:\n${sql}`);
  }

  /** The records of a table that meet a WHERE clause. */
  private select(table: string, where: string): StoredRecord[] {
    const records = this.tables.get(table);
    if (!records) throw queryValidation(`Table ${table} does not exist`);
    const condition = parseCondition(where, (name) => this.checkColumn(table, name));
    return [...records.values()].filter(condition);
  }

  /**
   * Timestream derives a table's columns from what was written: naming any other column is an error. On a
   * table with no record yet the fake accepts any column (and finds no rows), so a fresh store can be asked
   * for its earliest point; the service itself may refuse a column it has not yet seen.
   */
  private checkColumn(table: string, name: string): void {
    if (name === 'time' || name === 'measure_name') return;
    const records = this.tables.get(table);
    if (!records || records.size === 0) return;
    for (const record of records.values()) {
      if (name in record.dimensions || name in record.measures) return;
    }
    throw queryValidation(`Column '${name}' does not exist`);
  }
}

const validation = (message: string) =>
  new ValidationException({ message, Message: message, $metadata: { httpStatusCode: 400 } });

const queryValidation = (message: string) =>
  new QueryValidationException({ message, $metadata: { httpStatusCode: 400 } });

/** A record with its call's CommonAttributes applied, checked for what the service refuses outright. */
function mergeRecord(common: _Record, record: _Record, index: number): StoredRecord {
  const where = `Records[${index}]`;
  const dimensions: Record<string, string> = {};
  for (const dimension of [...(common.Dimensions ?? []), ...(record.Dimensions ?? [])]) {
    if (!dimension.Name || !dimension.Value)
      throw validation(`${where}: a dimension needs a name and a value`);
    if (dimension.Name in dimensions) throw validation(`${where}: dimension ${dimension.Name} appears twice`);
    dimensions[dimension.Name] = dimension.Value;
  }
  const measureName = record.MeasureName ?? common.MeasureName;
  if (!measureName) throw validation(`${where}: MeasureName is required`);
  const type = record.MeasureValueType ?? common.MeasureValueType ?? 'DOUBLE';
  const timeText = record.Time ?? common.Time;
  if (timeText === undefined || !/^\d+$/.test(timeText))
    throw validation(`${where}: Time must be an integer`);
  const unit = record.TimeUnit ?? common.TimeUnit ?? 'MILLISECONDS';
  const perMs: Record<string, number> = { MILLISECONDS: 1, SECONDS: 1_000 };
  const scale = perMs[unit];
  if (scale === undefined) throw validation(`${where}: the fake knows no TimeUnit ${unit}`);
  const version = record.Version ?? common.Version ?? 1;
  if (!Number.isSafeInteger(version)) throw validation(`${where}: Version must be an integer`);
  const measures: Record<string, Scalar> = {};
  if (type === 'MULTI') {
    const list = record.MeasureValues ?? common.MeasureValues ?? [];
    if (list.length === 0 || (record.MeasureValue ?? common.MeasureValue) !== undefined) {
      throw validation(`${where}: a MULTI record needs MeasureValues and no MeasureValue`);
    }
    for (const measure of list) {
      if (!measure.Name || measure.Name in measures || measure.Name in dimensions) {
        throw validation(
          `${where}: measure names must be present and distinct from each other and the dimensions`,
        );
      }
      measures[measure.Name] = scalar(measure.Type ?? '', measure.Value, `${where}.${measure.Name}`);
    }
  } else {
    if ((record.MeasureValues ?? common.MeasureValues) !== undefined) {
      throw validation(`${where}: MeasureValues need MeasureValueType MULTI`);
    }
    measures[`measure_value::${type.toLowerCase()}`] = scalar(
      type,
      record.MeasureValue ?? common.MeasureValue,
      where,
    );
  }
  return { dimensions, measureName, time: Number(timeText) * scale, version, measures };
}

/** A measure's value read as its type; a value that is not of its type is refused. */
function scalar(type: string, value: string | undefined, where: string): Scalar {
  if (value === undefined) throw validation(`${where}: a measure value is required`);
  if (type === 'DOUBLE' || type === 'BIGINT') {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number))
      throw validation(`${where}: ${value} is not a ${type}`);
    return number;
  }
  if (type === 'BOOLEAN') {
    if (value !== 'true' && value !== 'false') throw validation(`${where}: ${value} is not a BOOLEAN`);
    return value === 'true';
  }
  if (type === 'VARCHAR') return value;
  throw validation(`${where}: the fake knows no MeasureValueType ${type}`);
}

/** What makes two records the same data point: dimensions, time and measure name. */
const recordKey = (record: StoredRecord): string =>
  JSON.stringify([Object.entries(record.dimensions).sort(), record.time, record.measureName]);

/** A column of a record: a dimension, `measure_name`, `time` (ms) or a measure; undefined is NULL. */
function column(record: StoredRecord, name: string): Scalar {
  if (name === 'time') return record.time;
  if (name === 'measure_name') return record.measureName;
  return record.dimensions[name] ?? record.measures[name];
}

/** ORDER BY `time [DESC]` and further columns, ascending. */
function comparator(order: string): (a: StoredRecord, b: StoredRecord) => number {
  const keys = order.split(', ').map((term) => {
    const [name = '', direction] = term.split(' ');
    return { name, sign: direction === 'DESC' ? -1 : 1 };
  });
  return (a, b) => {
    for (const { name, sign } of keys) {
      const x = column(a, name);
      const y = column(b, name);
      if (x !== y) return (x === undefined || (y !== undefined && x < y) ? -1 : 1) * sign;
    }
    return 0;
  };
}

/**
 * A WHERE clause of comparisons (`column op literal`, the literal a quoted string, `from_milliseconds(n)`,
 * `true` or `false`) joined by AND and OR, with parentheses. NULL never compares true.
 */
function parseCondition(
  where: string,
  checkColumn: (name: string) => void,
): (record: StoredRecord) => boolean {
  const tokens = where.match(/'[^']*'|from_milliseconds\(\d+\)|<=|>=|[()=<>]|[\w:]+/g) ?? [];
  let position = 0;
  const next = () => tokens[position++] ?? '';
  const disjunction = (): ((r: StoredRecord) => boolean) => {
    const terms = [conjunction()];
    while (tokens[position] === 'OR') {
      position++;
      terms.push(conjunction());
    }
    return (r) => terms.some((term) => term(r));
  };
  const conjunction = (): ((r: StoredRecord) => boolean) => {
    const terms = [comparison()];
    while (tokens[position] === 'AND') {
      position++;
      terms.push(comparison());
    }
    return (r) => terms.every((term) => term(r));
  };
  const comparison = (): ((r: StoredRecord) => boolean) => {
    if (tokens[position] === '(') {
      position++;
      const inner = disjunction();
      if (next() !== ')') throw new Error(`unbalanced parentheses in: ${where}`);
      return inner;
    }
    const name = next();
    const operator = next();
    const literal = next();
    if (!/^\w+(?:::\w+)?$/.test(name) || !['=', '<', '<=', '>', '>='].includes(operator)) {
      throw new Error(`the fake Timestream cannot read the condition at "${name} ${operator}" in: ${where}`);
    }
    checkColumn(name);
    const value = literalValue(literal, where);
    return (r) => {
      const actual = column(r, name);
      if (actual === undefined) return false;
      if (typeof actual !== typeof value) throw queryValidation(`cannot compare ${name} with ${literal}`);
      if (operator === '=') return actual === value;
      if (operator === '<') return actual < value;
      if (operator === '<=') return actual <= value;
      if (operator === '>') return actual > value;
      return actual >= value;
    };
  };
  const condition = disjunction();
  if (position !== tokens.length) throw new Error(`the fake Timestream cannot read the rest of: ${where}`);
  return condition;
}

function literalValue(literal: string, where: string): string | number | boolean {
  if (literal.startsWith("'")) return literal.slice(1, -1);
  const milliseconds = /^from_milliseconds\((\d+)\)$/.exec(literal)?.[1];
  if (milliseconds !== undefined) return Number(milliseconds);
  if (literal === 'true' || literal === 'false') return literal === 'true';
  throw new Error(`the fake Timestream knows no literal ${literal} in: ${where}`);
}

const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Timestream's bin(): the time rounded down to a multiple of the interval literal. */
function bin(time: number, literal: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(literal);
  if (!match) throw new Error(`not an interval literal: ${literal}`);
  const size = Number(match[1]) * (units[match[2] ?? ''] ?? Number.NaN);
  return Math.floor(time / size) * size;
}

function groupBy<T>(items: readonly T[], key: (item: T) => number): [number, T[]][] {
  const groups = new Map<number, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.entries()].sort(([a], [b]) => a - b);
}
