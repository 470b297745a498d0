import type { BandEngineFactory, BandSettings } from '../bands/engine.ts';
import { aggregate } from '../metrics/aggregate.ts';
import { bucketStart, defaultStepMs, inferStep } from '../metrics/step.ts';
import type {
  BandStore,
  Clock,
  MetricStore,
  Notification,
  Notifier,
  PendingSeries,
  SeriesStore,
  StoredBand,
} from '../ports.ts';

export interface BandJobDependencies {
  readonly metrics: MetricStore;
  readonly series: SeriesStore;
  readonly bands: BandStore;
  readonly notifier: Notifier;
  readonly engine: BandEngineFactory;
  readonly clock: Clock;
}

export interface BandJobOptions {
  readonly settings?: Partial<BandSettings>;
  /** A bucket is processed once it ended at least this long ago, so late points of a flush still count. */
  readonly latenessMs?: number;
  /** How many series one run takes at most; the rest wait for the next run. */
  readonly maxSeriesPerRun?: number;
  /** How many buckets of one series one run feeds at most (a long backfill takes several runs). */
  readonly maxBucketsPerSeries?: number;
  /** The job stops taking new series after this epoch-ms instant (the Lambda's time budget). */
  readonly deadline?: number;
}

export interface BandJobSummary {
  readonly seriesProcessed: number;
  readonly bucketsProcessed: number;
  readonly anomalies: number;
  readonly notifications: number;
}

type Limits = Required<Omit<BandJobOptions, 'settings' | 'deadline'>> &
  Pick<BandJobOptions, 'settings' | 'deadline'> & { stepDiscoveryMs: number };

const defaults: Limits = {
  latenessMs: 15_000,
  maxSeriesPerRun: 100_000,
  maxBucketsPerSeries: 50_000,
  /** A series too sparse to show its step is given the default step after this long. */
  stepDiscoveryMs: 3_600_000,
};

/**
 * The scheduled band job: for every series with new data, aggregate its points to the series' step, feed the
 * engine bucket by bucket in time order from where it last stopped, store each bucket's band and notify once
 * when the series becomes anomalous and once when it recovers.
 */
export async function runBandJob(
  dependencies: BandJobDependencies,
  options: BandJobOptions = {},
): Promise<BandJobSummary> {
  const limits: Limits = { ...defaults, ...options };
  const pending = await dependencies.series.pendingSeries(limits.maxSeriesPerRun);
  const summary = { seriesProcessed: 0, bucketsProcessed: 0, anomalies: 0, notifications: 0 };
  for (const entry of pending) {
    if (limits.deadline !== undefined && dependencies.clock.now() > limits.deadline) break;
    const outcome = await processSeries(entry, dependencies, limits);
    summary.seriesProcessed += 1;
    summary.bucketsProcessed += outcome.buckets;
    summary.anomalies += outcome.anomalies;
    summary.notifications += outcome.notifications;
  }
  return summary;
}

async function processSeries(
  { series, progress, version }: PendingSeries,
  { metrics, series: seriesStore, bands, notifier, engine: factory, clock }: BandJobDependencies,
  limits: Limits,
): Promise<{ buckets: number; anomalies: number; notifications: number }> {
  const now = clock.now();
  const start = progress?.processedUntil ?? (await metrics.earliestTimestamp(series.id));
  const idle = { buckets: 0, anomalies: 0, notifications: 0 };
  if (start === undefined) return idle;

  let stepMs = progress?.stepMs;
  if (stepMs === undefined) {
    const sample = await metrics.readPoints(series.id, start, start + 200 * 3_600_000);
    stepMs = inferStep(sample.slice(0, 60).map((point) => point.timestamp));
    if (stepMs === undefined) {
      if (now - start < limits.stepDiscoveryMs) return idle;
      stepMs = defaultStepMs;
    }
  }

  const firstBucket = bucketStart(start, stepMs);
  // Buckets ending at or before this instant are closed: no late point of a flush can still arrive.
  const closedBefore = bucketStart(now - limits.latenessMs, stepMs);
  const end = Math.min(closedBefore, firstBucket + limits.maxBucketsPerSeries * stepMs);
  const points = end > firstBucket ? await metrics.readPoints(series.id, firstBucket, end) : [];
  const buckets = aggregate(series.type, points, stepMs).filter((bucket) => bucket.start + stepMs <= end);

  const engine = factory.restore(progress?.engineState, limits.settings);
  let anomalous = progress?.anomalous ?? false;
  const results: StoredBand[] = [];
  const notifications: Notification[] = [];
  for (const bucket of buckets) {
    const result = engine.update(bucket.start, bucket.value);
    const band: StoredBand = {
      timestamp: bucket.start,
      value: bucket.value,
      expected: result.expected,
      lower: result.lower,
      upper: result.upper,
      score: result.score,
      anomaly: result.anomaly,
    };
    results.push(band);
    // An episode opens on the engine's anomaly decision and lasts while the value stays outside its band.
    const inEpisode = result.anomaly || (anomalous && (band.value > band.upper || band.value < band.lower));
    if (inEpisode !== anomalous) {
      anomalous = inEpisode;
      notifications.push(notificationFor(series, { ...band, anomaly: inEpisode }));
    }
  }

  const processedUntil = Math.max(end, progress?.processedUntil ?? firstBucket);
  if (results.length > 0) await bands.writeBands(series.id, results);
  for (const notification of notifications) await notifier.notify(notification);
  const caughtUp = series.lastTimestamp < processedUntil;
  await seriesStore.saveProgress(
    series.id,
    { stepMs, processedUntil, engineState: engine.toState(), anomalous },
    version,
    caughtUp,
  );
  return {
    buckets: results.length,
    anomalies: results.filter((band) => band.anomaly).length,
    notifications: notifications.length,
  };
}

function notificationFor(series: PendingSeries['series'], band: StoredBand): Notification {
  const width = Math.max(band.upper - band.expected, band.expected - band.lower, Number.EPSILON);
  const distance = Math.abs(band.value - band.expected) / width;
  return {
    state: band.anomaly ? 'ANOMALOUS' : 'RECOVERED',
    severity: !band.anomaly ? 'info' : distance >= 3 ? 'critical' : 'warning',
    seriesId: series.id,
    name: series.name,
    dimensions: series.dimensions,
    band,
  };
}
