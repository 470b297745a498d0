/**
 * Reading a labelled scenario corpus (the layout of ../shared/scenarios: data/<folder>/<file>.csv,
 * labels/events.json, labels/series.json, labels/normal-events.json): shared by `npm run backtest` and the
 * engine's tuning bench.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listDataFiles, parseNabTimestamp, readDataFile } from '../bench/nab/corpus.ts';
import type { LabelledSeries, Span } from '../lib/backtest/score.ts';
import { type MetricType, metricTypes } from '../lib/metrics/point.ts';
import { bucketStart, inferStep } from '../lib/metrics/step.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** A series of a corpus, its points and labels. */
export interface CorpusSeries extends LabelledSeries {
  readonly type: MetricType;
  /** The name it is posted under: its file's path without `.csv`, `/` as `.` (`ops/traffic-1.csv` → `ops.traffic-1`). */
  readonly metric: string;
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
}

export function readCorpus(corpusDir: string): CorpusSeries[] {
  const dataDir = join(corpusDir, 'data');
  const labelsDir = join(corpusDir, 'labels');
  for (const path of [dataDir, join(labelsDir, 'events.json'), join(labelsDir, 'series.json')]) {
    if (!existsSync(path)) throw new UsageError(`${corpusDir} is not a scenario corpus: ${path} is missing`);
  }
  const events = readSpans(join(labelsDir, 'events.json'));
  const normalEventsFile = join(labelsDir, 'normal-events.json');
  const normalEvents = existsSync(normalEventsFile) ? readSpans(normalEventsFile) : new Map<string, Span[]>();
  const seriesFile = join(labelsDir, 'series.json');
  const described = readJsonObject(seriesFile);

  const names = listDataFiles(dataDir);
  if (names.length === 0) throw new UsageError(`${dataDir} has no .csv file`);
  const metrics = new Set<string>();
  return names.map((name): CorpusSeries => {
    const description = described[name];
    if (typeof description !== 'object' || description === null) {
      throw new UsageError(`${seriesFile}: no entry for "${name}" (its type and stepSeconds)`);
    }
    const { type, stepSeconds, family } = description as Record<string, unknown>;
    if (!(metricTypes as readonly unknown[]).includes(type)) {
      throw new UsageError(`${seriesFile}: "${name}".type must be one of ${metricTypes.join(', ')}`);
    }
    const { timestamps, values } = readDataFile(dataDir, name);
    if (timestamps.length === 0) throw new UsageError(`${join(dataDir, name)} has no rows`);
    const stepMs =
      typeof stepSeconds === 'number' && stepSeconds > 0 ? stepSeconds * 1000 : inferStep(timestamps);
    if (stepMs === undefined) throw new UsageError(`${seriesFile}: "${name}" needs stepSeconds`);
    const metric = name.replace(/\.csv$/, '').replaceAll('/', '.');
    if (metrics.has(metric)) throw new UsageError(`${dataDir}: two files would be posted as ${metric}`);
    metrics.add(metric);
    return {
      name,
      metric,
      type: type as MetricType,
      family: typeof family === 'string' ? family : metric.replace(/^.*\./, '').replace(/-\d+$/, ''),
      stepMs,
      // Whole buckets: a series with irregular timestamps spans the same weeks as its neighbours.
      start: bucketStart(
        timestamps.reduce((earliest, timestamp) => Math.min(earliest, timestamp)),
        stepMs,
      ),
      end:
        bucketStart(
          timestamps.reduce((latest, timestamp) => Math.max(latest, timestamp)),
          stepMs,
        ) + stepMs,
      incidents: events.get(name) ?? [],
      normalEvents: normalEvents.get(name) ?? [],
      timestamps,
      values,
    };
  });
}

/** A label file: `{"folder/file.csv": [["YYYY-MM-DD HH:MM:SS", "YYYY-MM-DD HH:MM:SS"], ...]}`. */
function readSpans(file: string): Map<string, Span[]> {
  const spans = new Map<string, Span[]>();
  for (const [name, list] of Object.entries(readJsonObject(file))) {
    if (!Array.isArray(list)) throw new UsageError(`${file}: "${name}" is not a list of [start, end]`);
    spans.set(
      name,
      list.map((span: unknown, index) => {
        if (!Array.isArray(span) || typeof span[0] !== 'string' || typeof span[1] !== 'string') {
          throw new UsageError(`${file}: "${name}"[${index}] is not [start, end]`);
        }
        return [parseNabTimestamp(span[0]), parseNabTimestamp(span[1])] as const;
      }),
    );
  }
  return spans;
}

function readJsonObject(file: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${file}: not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}
