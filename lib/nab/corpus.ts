import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { NabWindow } from './scorer.ts';

/**
 * Reading a NAB-layout corpus from disk: data/<folder>/<file>.csv, a combined_windows.json label file and
 * results/<detector>/<folder>/<detector>_<file>.csv. The only file of lib/nab/ besides the CLI that does I/O.
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
 *
 * @example parseNabTimestamp('1970-01-01 00:01:00') // 60000
 */
export function parseNabTimestamp(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?/.exec(text.trim());
  if (!match) throw new NabFormatError(`not a NAB timestamp: "${text}"`);
  const [, year, month, day, hour, minute, second, fraction] = match;
  const milliseconds = fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0;
  return (
    Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)) +
    milliseconds
  );
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
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((cell) => cell.trim());
  const indexes = columns.map((column) => {
    const index = header.indexOf(column);
    if (index < 0) throw new NabFormatError(`${path}: no "${column}" column in "${lines[0] ?? ''}"`);
    return index;
  });
  const out: string[][] = columns.map(() => []);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    const cells = line.split(',');
    indexes.forEach((index, column) => {
      out[column]?.push(cells[index] ?? '');
    });
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
