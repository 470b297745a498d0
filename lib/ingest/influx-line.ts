/**
 * InfluxDB line protocol, as Telegraf's `influxdb` and `influxdb_v2` outputs send it:
 * `measurement[,tag=value...] field=value[,field=value...] [timestamp]`, one point per line, `#` comments.
 *
 * Each numeric field becomes a gauge point named `measurement.field` (`measurement` alone for a field called
 * `value`), with the tags as dimensions. Floats, integers (`1i`), unsigned integers (`1u`) and booleans (1 or
 * 0) are stored; string fields are refused one by one (the line's other fields are kept). Escapes follow the
 * protocol: `\,` and `\ ` in measurements; `\,`, `\=` and `\ ` in tag keys, tag values and field keys;
 * `\"` and `\\` in string fields, which may span lines.
 */
import { ProblemList, ValidationError } from '../errors.ts';
import { ingestLimits } from '../metrics/limits.ts';
import type { Dimensions, MetricPoint } from '../metrics/point.ts';
import { FieldIssue } from './json-reading.ts';
import { dimensionProblem, nameProblem, type ParsedBatch, type TimeWindow, timeProblem } from './validate.ts';

/** Nanoseconds per unit of each `precision` the v1 and v2 write APIs accept. */
const nanosPerUnit: Record<string, number> = {
  ns: 1,
  n: 1,
  us: 1e3,
  u: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Reads the `precision` query parameter (default ns). Throws ValidationError on an unknown one. */
export function precisionOf(parameter: string | undefined): number {
  if (parameter === undefined || parameter === '') return 1;
  const nanos = nanosPerUnit[parameter];
  if (nanos === undefined) {
    throw new ValidationError(`unknown precision "${parameter.slice(0, 10)}": use ns, us, ms or s`, [
      { field: 'precision', message: 'must be one of ns, us, ms, s, m, h' },
    ]);
  }
  return nanos;
}

/** Character codes the scanner looks for. */
const Char = {
  Tab: 9,
  Newline: 10,
  Return: 13,
  Space: 32,
  Quote: 34,
  Hash: 35,
  Comma: 44,
  Equals: 61,
  Backslash: 92,
} as const;

/**
 * Parses a line-protocol body. Problems name the line (`index` is the 1-based line number) and the field or
 * part of the line that is wrong. O(n) in the body's length.
 *
 * @example parseLineProtocol('cpu,host=a usage=0.5 1764028800000000000', 1, window).points[0]?.name // 'cpu.usage'
 */
export function parseLineProtocol(body: string, nanosPerTick: number, window: TimeWindow): ParsedBatch {
  const points: MetricPoint[] = [];
  const pointItems: number[] = [];
  const problems = new ProblemList();
  const scanner = new Scanner(body);
  let lines = 0;
  while (!scanner.done()) {
    scanner.skipBlank();
    if (scanner.done()) break;
    const lineNumber = scanner.line;
    lines += 1;
    if (scanner.peek() === Char.Hash) {
      scanner.skipLine();
      continue;
    }
    const start = points.length;
    const failure = readLine(scanner, nanosPerTick, window, points, lineNumber, problems);
    if (failure) {
      points.length = start;
      problems.add(lineNumber, failure.field, `line ${lineNumber}: ${failure.message}`);
      scanner.skipLine();
    }
    for (let position = start; position < points.length; position++) pointItems.push(lineNumber);
  }
  return { points, problems: problems.listed, problemCount: problems.count, itemCount: lines, pointItems };
}

function readLine(
  scanner: Scanner,
  nanosPerTick: number,
  window: TimeWindow,
  points: MetricPoint[],
  lineNumber: number,
  problems: ProblemList,
): FieldIssue | undefined {
  const measurement = scanner.readName(false);
  if (measurement === '') return new FieldIssue('measurement', 'a line must start with a measurement name');
  const dimensions: Record<string, string> = {};
  let tagCount = 0;
  while (scanner.peek() === Char.Comma) {
    scanner.advance();
    const key = scanner.readName(true);
    if (scanner.peek() !== Char.Equals)
      return new FieldIssue(`tags.${key.slice(0, 64)}`, 'a tag needs key=value');
    scanner.advance();
    const value = scanner.readName(true);
    tagCount += 1;
    if (tagCount > ingestLimits.maxDimensions) {
      return new FieldIssue('tags', `a line may carry at most ${ingestLimits.maxDimensions} tags`);
    }
    const problem = dimensionProblem(key, value);
    if (problem) return new FieldIssue(`tags.${key.slice(0, 64)}`, problem);
    dimensions[key] = value;
  }
  if (scanner.peek() !== Char.Space)
    return new FieldIssue('fields', 'the tags must be followed by a space and fields');
  scanner.skipSpaces();
  const fields: { key: string; value: number }[] = [];
  const stringFields: string[] = [];
  do {
    if (fields.length + stringFields.length > 0) scanner.advance();
    const key = scanner.readName(true);
    if (key === '' || scanner.peek() !== Char.Equals)
      return new FieldIssue('fields', 'a field needs key=value');
    scanner.advance();
    if (scanner.peek() === Char.Quote) {
      if (!scanner.skipString())
        return new FieldIssue(`fields.${key.slice(0, 64)}`, 'a string field is not closed');
      stringFields.push(key);
      continue;
    }
    const raw = scanner.readBare();
    const value = fieldValue(raw);
    if (value === undefined) {
      return new FieldIssue(
        `fields.${key.slice(0, 64)}`,
        `"${raw.slice(0, 40)}" is not a number, integer or boolean`,
      );
    }
    fields.push({ key, value });
  } while (scanner.peek() === Char.Comma);
  let timestamp = window.now;
  if (scanner.peek() === Char.Space) {
    scanner.skipSpaces();
    const raw = scanner.readBare();
    if (raw !== '') {
      if (!/^-?\d{1,19}$/.test(raw))
        return new FieldIssue('timestamp', `"${raw.slice(0, 40)}" is not an integer timestamp`);
      timestamp = Math.floor((Number(raw) * nanosPerTick) / 1e6);
      const timeIssue = timeProblem(timestamp, window);
      if (timeIssue) return new FieldIssue('timestamp', timeIssue);
    }
  }
  scanner.skipSpaces();
  if (!scanner.atLineEnd()) return new FieldIssue('timestamp', 'unexpected text after the timestamp');
  for (const { key, value } of fields) {
    const name = key === 'value' ? measurement : `${measurement}.${key}`;
    const problem = nameProblem(name);
    if (problem) return new FieldIssue(`fields.${key.slice(0, 64)}`, `the metric name ${problem}`);
    if (!Number.isFinite(value))
      return new FieldIssue(`fields.${key.slice(0, 64)}`, 'must be a finite number');
    points.push({ name, type: 'gauge', value, timestamp, dimensions: dimensions as Dimensions });
  }
  for (const key of stringFields) {
    problems.add(
      lineNumber,
      `fields.${key.slice(0, 64)}`,
      `line ${lineNumber}: string fields are not stored (only numbers, integers and booleans)`,
    );
  }
  return undefined;
}

/** A field's number: float, `i` integer, `u` unsigned, or boolean as 1/0. Undefined when it is none. */
function fieldValue(raw: string): number | undefined {
  switch (raw) {
    case 't':
    case 'T':
    case 'true':
    case 'True':
    case 'TRUE':
      return 1;
    case 'f':
    case 'F':
    case 'false':
    case 'False':
    case 'FALSE':
      return 0;
  }
  const last = raw.charCodeAt(raw.length - 1);
  if (last === 105 /* i */ || last === 117 /* u */) {
    const digits = raw.slice(0, -1);
    if (!(last === 105 ? /^-?\d+$/ : /^\d+$/).test(digits)) return undefined;
    return Number(digits);
  }
  if (!/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(raw)) return undefined;
  return Number(raw);
}

/** Walks the body by character, keeping the line number. */
class Scanner {
  private position = 0;
  line = 1;

  constructor(private readonly text: string) {}

  done(): boolean {
    return this.position >= this.text.length;
  }

  peek(): number {
    return this.text.charCodeAt(this.position);
  }

  advance(): void {
    if (this.text.charCodeAt(this.position) === Char.Newline) this.line += 1;
    this.position += 1;
  }

  atLineEnd(): boolean {
    const code = this.peek();
    return this.done() || code === Char.Newline || code === Char.Return;
  }

  /** Skips blank lines and the spaces before a line's first character. */
  skipBlank(): void {
    while (!this.done()) {
      const code = this.peek();
      if (code !== Char.Newline && code !== Char.Return && code !== Char.Space && code !== Char.Tab) return;
      this.advance();
    }
  }

  skipSpaces(): void {
    while (this.peek() === Char.Space) this.position += 1;
  }

  skipLine(): void {
    while (!this.done() && this.peek() !== Char.Newline) this.position += 1;
  }

  /**
   * A measurement, tag key, tag value or field key, unescaped: stops at an unescaped comma, space (or `=`
   * for keys and values) or line end.
   */
  readName(stopAtEquals: boolean): string {
    let result = '';
    let from = this.position;
    while (!this.atLineEnd()) {
      const code = this.peek();
      if (code === Char.Comma || code === Char.Space || (stopAtEquals && code === Char.Equals)) break;
      if (code === Char.Backslash) {
        const next = this.text.charCodeAt(this.position + 1);
        if (next === Char.Comma || next === Char.Space || next === Char.Equals || next === Char.Backslash) {
          result += this.text.slice(from, this.position);
          from = this.position + 1;
          this.position += 2;
          continue;
        }
      }
      this.position += 1;
    }
    return result + this.text.slice(from, this.position);
  }

  /** An unquoted field value or timestamp: up to a comma, space or line end. */
  readBare(): string {
    const from = this.position;
    while (!this.atLineEnd()) {
      const code = this.peek();
      if (code === Char.Comma || code === Char.Space) break;
      this.position += 1;
    }
    return this.text.slice(from, this.position);
  }

  /** Skips a quoted string field (which may hold escaped quotes and newlines). False when it never closes. */
  skipString(): boolean {
    this.advance();
    while (!this.done()) {
      const code = this.peek();
      if (code === Char.Backslash) {
        this.advance();
        if (!this.done()) this.advance();
        continue;
      }
      this.advance();
      if (code === Char.Quote) return true;
    }
    return false;
  }
}
