import {
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  type Row,
  TimestreamQueryClient,
} from '@aws-sdk/client-timestream-query';
import { type _Record, TimestreamWriteClient, WriteRecordsCommand } from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * Timestream at the AWS boundary, for the contract suite: WriteRecords calls fill two in-memory tables and
 * Query calls are answered by evaluating the few query shapes the query adapter sends (recognised by their
 * exact SQL text; anything else fails the test). Answers come in pages of two rows after an empty first page,
 * as a running Timestream query does, so every caller must follow NextToken.
 */
export class FakeTimestream {
  readonly writeMock = mockClient(TimestreamWriteClient);
  readonly queryMock = mockClient(TimestreamQueryClient);
  readonly points: { seriesId: string; time: number; value: number }[] = [];
  readonly bands: {
    seriesId: string;
    time: number;
    measures: Record<string, number | boolean>;
  }[] = [];
  readonly queries: QueryCommandInput[] = [];
  private readonly pending = new Map<string, { queryString: string; pages: Row[][] }>();
  private tokens = 0;

  constructor(private readonly table: { points: string; bands: string }) {
    this.writeMock.on(WriteRecordsCommand).callsFake((input: { TableName?: string; Records?: _Record[] }) => {
      for (const record of input.Records ?? []) this.store(input.TableName ?? '', record);
      return {};
    });
    this.queryMock.on(QueryCommand).callsFake((input: QueryCommandInput) => this.answer(input));
  }

  reset(): void {
    this.writeMock.reset();
    this.queryMock.reset();
  }

  private store(table: string, record: _Record): void {
    const seriesId = record.Dimensions?.find((dimension) => dimension.Name === 'series_id')?.Value ?? '';
    const time = Number(record.Time);
    if (table === this.table.points) {
      this.points.push({ seriesId, time, value: Number(record.MeasureValue) });
    } else {
      const measures: Record<string, number | boolean> = {};
      for (const measure of record.MeasureValues ?? []) {
        measures[measure.Name ?? ''] =
          measure.Type === 'BOOLEAN' ? measure.Value === 'true' : Number(measure.Value);
      }
      this.bands.push({ seriesId, time, measures });
    }
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
      const rows = this.evaluate(queryString);
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

  private evaluate(sql: string): Row[] {
    const table = (name: string) => `"normalcy"\\."${name}"`;
    const range = 'time >= from_milliseconds\\((\\d+)\\) AND time < from_milliseconds\\((\\d+)\\)';
    const values = new RegExp(
      `^SELECT to_milliseconds\\(bin\\(t, (\\w+)\\)\\) AS bucket, avg\\(v\\), min\\(v\\), max\\(v\\), sum\\(n\\) FROM \\(` +
        `SELECT bin\\(time, (\\w+)\\) AS t, (sum|avg)\\(measure_value::double\\) AS v, count\\(\\*\\) AS n ` +
        `FROM ${table(this.table.points)} WHERE series_id = '(\\w+)' AND measure_name = 'value' AND ${range} ` +
        `GROUP BY bin\\(time, \\2\\)\\) GROUP BY bin\\(t, \\1\\) ORDER BY bucket$`,
    ).exec(sql);
    if (values) {
      const [, step = '', seriesStep = '', aggregate, seriesId, from, to] = values;
      const inner = groupBy(
        this.points.filter((p) => p.seriesId === seriesId && p.time >= Number(from) && p.time < Number(to)),
        (p) => bin(p.time, seriesStep),
      ).map(([t, points]) => {
        const sum = points.reduce((total, p) => total + p.value, 0);
        return { t, v: aggregate === 'sum' ? sum : sum / points.length, n: points.length };
      });
      return groupBy(inner, (row) => bin(row.t, step)).map(([bucket, rows]) =>
        row([
          bucket,
          rows.reduce((total, r) => total + r.v, 0) / rows.length,
          Math.min(...rows.map((r) => r.v)),
          Math.max(...rows.map((r) => r.v)),
          rows.reduce((total, r) => total + r.n, 0),
        ]),
      );
    }
    const bands = new RegExp(
      `^SELECT to_milliseconds\\(bin\\(time, (\\w+)\\)\\) AS bucket, avg\\(expected\\), min\\(lower\\), ` +
        `max\\(upper\\), max\\(score\\), bool_or\\(anomaly\\) FROM ${table(this.table.bands)} ` +
        `WHERE series_id = '(\\w+)' AND measure_name = 'band' AND ${range} GROUP BY bin\\(time, \\1\\) ORDER BY bucket$`,
    ).exec(sql);
    if (bands) {
      const [, step = '', seriesId, from, to] = bands;
      const selected = this.bands.filter(
        (b) => b.seriesId === seriesId && b.time >= Number(from) && b.time < Number(to),
      );
      return groupBy(selected, (b) => bin(b.time, step)).map(([bucket, rows]) => {
        const measure = (name: string) => rows.map((r) => Number(r.measures[name]));
        return row([
          bucket,
          measure('expected').reduce((a, b) => a + b, 0) / rows.length,
          Math.min(...measure('lower')),
          Math.max(...measure('upper')),
          Math.max(...measure('score')),
          rows.some((r) => r.measures.anomaly === true),
        ]);
      });
    }
    const latest = new RegExp(
      `^SELECT series_id, measure_value::double FROM ${table(this.table.points)} WHERE measure_name = 'value' ` +
        `AND time >= from_milliseconds\\((\\d+)\\) AND time <= from_milliseconds\\((\\d+)\\) AND \\((.+)\\)$`,
    ).exec(sql);
    if (latest) {
      const pairs = [
        ...(latest[3] ?? '').matchAll(/\(series_id = '(\w+)' AND time = from_milliseconds\((\d+)\)\)/g),
      ].map(([, id, time]) => `${id}@${time}`);
      return this.points
        .filter((p) => pairs.includes(`${p.seriesId}@${p.time}`))
        .map((p) => row([p.seriesId, p.value]));
    }
    const anomalies = new RegExp(
      `^SELECT series_id, to_milliseconds\\(time\\), value, expected, lower, upper, score FROM ${table(this.table.bands)} ` +
        `WHERE measure_name = 'band' AND anomaly = true AND ${range}` +
        `(?: AND series_id = '(\\w+)')?` +
        `(?: AND \\(time < from_milliseconds\\((\\d+)\\) OR \\(time = from_milliseconds\\(\\4\\) AND series_id > '(\\w+)'\\)\\))?` +
        ` ORDER BY time DESC, series_id LIMIT (\\d+)$`,
    ).exec(sql);
    if (anomalies) {
      const [, from, to, seriesId, afterTime, afterId, limit] = anomalies;
      return this.bands
        .filter(
          (b) =>
            b.measures.anomaly === true &&
            b.time >= Number(from) &&
            b.time < Number(to) &&
            (seriesId === undefined || b.seriesId === seriesId) &&
            (afterTime === undefined ||
              b.time < Number(afterTime) ||
              (b.time === Number(afterTime) && b.seriesId > (afterId ?? ''))),
        )
        .sort((a, b) => b.time - a.time || (a.seriesId < b.seriesId ? -1 : 1))
        .slice(0, Number(limit))
        .map((b) =>
          row([
            b.seriesId,
            b.time,
            ...['value', 'expected', 'lower', 'upper', 'score'].map((m) => b.measures[m]),
          ]),
        );
    }
    const earliest = new RegExp(
      `^SELECT to_milliseconds\\(min\\(time\\)\\) FROM ${table(this.table.points)} WHERE series_id = '(\\w+)'$`,
    ).exec(sql);
    if (earliest) {
      const times = this.points.filter((p) => p.seriesId === earliest[1]).map((p) => p.time);
      // An aggregate over no rows is one row holding NULL, as in Timestream.
      return [times.length === 0 ? { Data: [{ NullValue: true }] } : row([Math.min(...times)])];
    }
    throw new Error(`the fake Timestream does not know this query:\n${sql}`);
  }
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

/** A row as Timestream returns it: every scalar as text. */
const row = (values: readonly (string | number | boolean | undefined)[]): Row => ({
  Data: values.map((value) => ({ ScalarValue: String(value) })),
});
