import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { NabWindow } from './scorer.ts';

/**
 * Reading a NAB-layout corpus from disk: data/<folder>/<file>.csv, a combined_windows.json label file and
 * results/<detector>/<folder>/<detector>_<file>.csv. The only file of bench/nab/ besides the CLI that does I/O.
 */

/** One data file: its path relative to the data folder (`folder/file.csv`, always with '/'), rows, windows. */
export interface NabDataFile {
  readonly name: string;
  readonly timestamps: number[];
  readonly values: number[];
  /** The original timestamp text per row, written back unchanged in results. */
  readonly timestampTexts: string[];
}

export class NabFormatError extends Error {
  override name = 'NabFormatError';
}

/**
 * Parses a NAB timestamp ("2014-04-01 00:05:00" or with ".000000") as UTC epoch milliseconds. O(1).
 * Reads the digits by hand (the corpus has 180,000 of them; a regular expression and Date.UTC per row were most
 * of the run time).
 *
 * @example parseNabTimestamp('1970-01-01 00:01:00') // 60000
 */
export function parseNabTimestamp(text: string): number {
  const at =
    text.charCodeAt(0) === 32 || text.charCodeAt(0) === 9 ? text.length - text.trimStart().length : 0;
  const separator = text.charCodeAt(at + 10);
  const valid =
    text.length >= at + 19 &&
    text.charCodeAt(at + 4) === 45 &&
    text.charCodeAt(at + 7) === 45 &&
    (separator === 32 || separator === 84) &&
    text.charCodeAt(at + 13) === 58 &&
    text.charCodeAt(at + 16) === 58;
  const year = digits(text, at, 4);
  const month = digits(text, at + 5, 2);
  const day = digits(text, at + 8, 2);
  const hour = digits(text, at + 11, 2);
  const minute = digits(text, at + 14, 2);
  const second = digits(text, at + 17, 2);
  if (!valid || Number.isNaN(year + month + day + hour + minute + second) || month < 1 || month > 12) {
    throw new NabFormatError(`not a NAB timestamp: "${text}"`);
  }
  let milliseconds = 0;
  if (text.charCodeAt(at + 19) === 46) {
    // A fraction of a second: its first three digits, rounded on the fourth.
    let scale = 100;
    let position = at + 20;
    for (; scale >= 1; scale /= 10, position++) {
      const digit = text.charCodeAt(position) - 48;
      if (!(digit >= 0 && digit <= 9)) break;
      milliseconds += digit * scale;
    }
    const next = text.charCodeAt(position) - 48;
    if (scale < 1 && next >= 5 && next <= 9) milliseconds += 1;
  }
  return (
    daysFromCivil(year, month, day) * 86_400_000 +
    hour * 3_600_000 +
    minute * 60_000 +
    second * 1000 +
    milliseconds
  );
}

/** The number of `count` decimal digits at `start`, or NaN when one is not a digit. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (!(digit >= 0 && digit <= 9)) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). O(1). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** Every .csv under `dataDir`, as sorted `folder/file.csv` names. O(files). */
export function listDataFiles(dataDir: string): string[] {
  const names: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.csv')) names.push(relative(dataDir, path).split(sep).join('/'));
    }
  };
  walk(dataDir);
  return names.sort();
}

/**
 * Reads the named column of a CSV with a header row. Returns the column's texts, one per data row. O(size).
 */
export function readCsvColumns(path: string, columns: readonly string[]): string[][] {
  const text = readFileSync(path, 'utf8');
  const headerEnd = text.indexOf('\n');
  const headerLine = (headerEnd < 0 ? text : text.slice(0, headerEnd)).replace(/\r$/, '');
  const header = headerLine.split(',').map((cell) => cell.trim());
  const indexes = columns.map((column) => {
    const index = header.indexOf(column);
    if (index < 0) throw new NabFormatError(`${path}: no "${column}" column in "${headerLine}"`);
    return index;
  });
  const out: string[][] = columns.map(() => []);
  const cells: string[] = [];
  let start = headerEnd < 0 ? text.length : headerEnd + 1;
  // Line by line and cell by cell with indexOf: no array per line, which matters for 180,000 rows.
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const lineEnd = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    if (text.slice(start, lineEnd).trim() !== '') {
      cells.length = 0;
      let cellStart = start;
      while (cellStart <= lineEnd) {
        let comma = text.indexOf(',', cellStart);
        if (comma < 0 || comma > lineEnd) comma = lineEnd;
        cells.push(text.slice(cellStart, comma));
        cellStart = comma + 1;
      }
      for (let column = 0; column < indexes.length; column++) {
        out[column]?.push(cells[indexes[column] ?? 0] ?? '');
      }
    }
    start = end + 1;
  }
  return out;
}

/** Reads one data file (`timestamp,value`). O(size). */
export function readDataFile(dataDir: string, name: string): NabDataFile {
  const [timestampTexts = [], valueTexts = []] = readCsvColumns(join(dataDir, name), ['timestamp', 'value']);
  const values = valueTexts.map((text) => {
    const value = Number(text);
    if (!Number.isFinite(value)) throw new NabFormatError(`${name}: value "${text}" is not a number`);
    return value;
  });
  return { name, timestamps: timestampTexts.map(parseNabTimestamp), values, timestampTexts };
}

/** Reads combined_windows.json: windows per `folder/file.csv`, as epoch milliseconds. O(size). */
export function readLabels(labelsFile: string): Map<string, NabWindow[]> {
  const raw: unknown = JSON.parse(readFileSync(labelsFile, 'utf8'));
  if (typeof raw !== 'object' || raw === null) throw new NabFormatError(`${labelsFile}: not a JSON object`);
  const labels = new Map<string, NabWindow[]>();
  for (const [name, windows] of Object.entries(raw)) {
    if (!Array.isArray(windows))
      throw new NabFormatError(`${labelsFile}: "${name}" is not a list of windows`);
    labels.set(
      name,
      windows.map((window: unknown) => {
        if (!Array.isArray(window) || typeof window[0] !== 'string' || typeof window[1] !== 'string') {
          throw new NabFormatError(`${labelsFile}: a window of "${name}" is not [start, end]`);
        }
        return [parseNabTimestamp(window[0]), parseNabTimestamp(window[1])] as const;
      }),
    );
  }
  return labels;
}

/** Where a detector's result for `name` lives: `<detector>/<folder>/<detector>_<file>.csv`. */
export function resultPath(resultsDir: string, detector: string, name: string): string {
  const slash = name.lastIndexOf('/');
  const folder = slash < 0 ? '' : name.slice(0, slash);
  const file = name.slice(slash + 1);
  return join(resultsDir, detector, folder, `${detector}_${file}`);
}

/** Reads the anomaly_score column of a detector's result file. O(size). */
export function readResultScores(path: string): number[] {
  const [scores = []] = readCsvColumns(path, ['anomaly_score']);
  return scores.map((text) => {
    const score = Number(text);
    if (!Number.isFinite(score)) throw new NabFormatError(`${path}: anomaly_score "${text}" is not a number`);
    return score;
  });
}
