/**
 * What the soak's clients send: the series, their values (a pure function of the series and the time, so a
 * retry or a resent backfill sends exactly the same point), and the bad items mixed in.
 */
import { minuteMs } from '../../lib/time.ts';
import type { MetricType, SentPoint, SeriesIdentity } from './ledger.ts';

/** The minute, for the soak's other files (lib/time.ts is the one place it is declared). */
export { minuteMs };

export const secondMs = 1_000;
export const tickMs = 10_000;

/** A uniform number in [0, 1) that depends only on its parts (FNV-1a). */
export function hashUnit(...parts: readonly (string | number)[]): number {
  let hash = 0x811c9dc5;
  const text = parts.join('|');
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 2 ** 32;
}

const types: readonly MetricType[] = ['gauge', 'counter', 'timer'];

/** The plain live series of one live client: a few hundred between the clients, of every type. */
export function liveSeries(client: string, count: number): SeriesIdentity[] {
  return Array.from({ length: count }, (_, index) => ({
    name: `soak.live.m${index % 13}`,
    type: types[index % types.length] ?? 'gauge',
    dimensions: { client, host: `h${index}` },
  }));
}

/** Series with a day of history (sent by the backfill client) that then go on live: their band is learned. */
export const bandSeries = (index: number): SeriesIdentity => ({
  name: 'soak.band',
  type: 'gauge',
  dimensions: { host: `b${index}` },
});

/** Series the threshold rule watches: about 100, over 1,000 for whole minutes now and then. */
export const thresholdSeries = (index: number): SeriesIdentity => ({
  name: `soak.threshold.t${index % 4}`,
  type: 'gauge',
  dimensions: { host: `t${index}` },
});
export const thresholdRule = {
  kind: 'threshold',
  selector: { metric: 'soak.threshold.*' },
  direction: 'above',
  threshold: 1000,
  debounce: { breaches: 1, outOf: 1 },
  recoveryBuckets: 1,
  severity: 'critical',
  // Paged alert by alert: the soak checks that each alert transition marked sent reached the webhook once.
  notify: 'alert',
} as const;

/** The default rule as built in, paged alert by alert too (see {@link thresholdRule}). */
export const defaultRulePerAlert = { kind: 'band', notify: 'alert' } as const;

/** Values at the edge of what a double holds, one series per type and sign. */
const extremeValues: Readonly<Record<string, readonly number[]>> = {
  gauge: [1e308, -1e308, Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324, -5e-324, 1e-300, 0, 42],
  counter: [1e308, Number.MAX_VALUE, 0, 5e-324, 1],
  timer: [1e308, Number.MAX_VALUE, 5e-324, 0, 12.5],
};
export const extremeSeries: readonly SeriesIdentity[] = types.map((type) => ({
  name: `soak.extreme.${type}`,
  type,
  dimensions: { edge: 'live' },
}));
/** A counter given two points of 1e308 in each minute: their sum is past the largest double. */
export const overflowSeries: SeriesIdentity = {
  name: 'soak.extreme.overflow',
  type: 'counter',
  dimensions: { edge: 'sum' },
};
/** A day of ±1e308 history (bulk). */
export const extremeHistorySeries: readonly SeriesIdentity[] = [
  { name: 'soak.extreme.history', type: 'gauge', dimensions: { edge: 'history' } },
  { name: 'soak.extreme.history', type: 'counter', dimensions: { edge: 'history-counter' } },
];

/** Series backfilled during the soak: two days of 5-minute data ending two hours ago, with a spike in them. */
export const historySeries = (index: number): SeriesIdentity => ({
  name: 'soak.history',
  type: 'gauge',
  dimensions: { round: `r${index}` },
});

export const influxSeries = (host: number): SeriesIdentity => ({
  name: 'soak_influx',
  type: 'gauge',
  dimensions: { host: `i${host}` },
});
export const otlpSeries = (host: number): SeriesIdentity => ({
  name: 'soak.otlp',
  type: 'gauge',
  dimensions: { host: `o${host}`, 'service.name': 'soak' },
});

/**
 * The value of a series at a time. Live series move a few percent around their level, with a spike (×5) or a
 * drop (×0.1) for a whole minute now and then; band series do the same from `liveFrom` on (their history is
 * clean, so the band they learn is narrow); threshold series jump past the threshold for whole minutes.
 */
export function valueAt(series: SeriesIdentity, timestamp: number, liveFrom: number): number {
  const key = `${series.name}${JSON.stringify(series.dimensions)}`;
  const minute = Math.floor(timestamp / minuteMs);
  const level = 20 + Math.floor(hashUnit(key, 'level') * 200);
  const noise = hashUnit(key, timestamp) - 0.5;
  if (series.name.startsWith('soak.threshold')) {
    return hashUnit(key, minute, 'spike') < 0.2 ? 5000 : 100 + 10 * noise;
  }
  if (series.name.startsWith('soak.extreme')) {
    const values = extremeValues[series.type] ?? [0];
    return values[minute % values.length] ?? 0;
  }
  let factor = 1;
  if (timestamp >= liveFrom) {
    const chance = hashUnit(key, minute, 'event');
    // Band series page when they leave their band: about one minute in 15 does; plain live series rarely.
    const eventChance = series.name === 'soak.band' ? 0.07 : 0.01;
    if (chance < eventChance * 0.6) factor = 5;
    else if (chance < eventChance) factor = 0.1;
  }
  if (series.type === 'counter') return Math.round(level * factor * (1 + 0.1 * noise));
  return level * factor * (1 + 0.04 * noise);
}

export const point = (series: SeriesIdentity, timestamp: number, liveFrom: number): SentPoint => ({
  series,
  timestamp,
  value: valueAt(series, timestamp, liveFrom),
});

/** The JSON text of a native single item. */
export const singleItem = (sent: SentPoint): string =>
  JSON.stringify({
    name: sent.series.name,
    type: sent.series.type,
    value: sent.value,
    timestamp: sent.timestamp,
    dimensions: sent.series.dimensions,
  });

/** The JSON text of a native bulk item; `bad` pairs are written as they are, in their places. */
export const bulkItem = (
  series: SeriesIdentity,
  pairs: readonly (SentPoint | readonly unknown[])[],
): string =>
  JSON.stringify({
    name: series.name,
    type: series.type,
    dimensions: series.dimensions,
    points: pairs.map((pair) => ('series' in pair ? [pair.timestamp, pair.value] : pair)),
  });

/**
 * Items each with exactly one thing wrong, as agents and hand-written scripts get them wrong: the wrong type,
 * NaN or infinity, a date that does not exist, one without a zone, too far ahead or back, hidden characters
 * in a name or dimension, a name too long. Their names are under `soak.bad.`, which no good item uses, so a
 * bad item stored by mistake shows as a series.
 */
export function badItem(choice: number, now: number): string {
  const item = (fields: Record<string, unknown>) =>
    JSON.stringify({ name: 'soak.bad.item', type: 'gauge', value: 1, timestamp: now, ...fields });
  const makers: readonly (() => string)[] = [
    () => item({ value: 'NaN' }),
    () => item({ value: '12.5' }),
    () => item({ value: null }),
    () => item({ value: true }),
    () => item({ value: { amount: 3 } }),
    // JSON has no Infinity: 1e999 is what a client that prints doubles naively sends.
    () => item({ value: 0 }).replace('"value":0', '"value":1e999'),
    () => item({ value: 0 }).replace('"value":0', '"value":-1e999'),
    () => item({ type: 'histogram' }),
    () => item({ timestamp: '2026-02-30T00:00:00Z' }),
    () => item({ timestamp: '2026-13-01T00:00:00Z' }),
    () => item({ timestamp: '2026-01-01T24:61:00Z' }),
    () => item({ timestamp: '2025-11-25T10:00:00' }),
    () => item({ timestamp: 'yesterday' }),
    () => item({ timestamp: now + 86_400_000 }),
    () => item({ timestamp: now - 500 * 86_400_000 }),
    () => item({ timestamp: -1 }),
    () => item({ timestamp: 1e20 }),
    () => item({ name: 'soak.bad.\u202egnp' }),
    () => item({ name: 'soak.bad.zero\u200bwidth' }),
    () => item({ name: 'soak.bad.\ufeffbom' }),
    () => item({ name: 'soak.bad.nul\u0000' }),
    () => item({ name: 'soak.bad.bell\u0007' }),
    () => item({ name: `soak.bad.${'x'.repeat(300)}` }),
    () => item({ name: '' }),
    () => item({ name: 42 }),
    () => item({ dimensions: { host: 'web\u200b1' } }),
    () => item({ dimensions: { 'ho\u202est': 'web-1' } }),
    () => item({ dimensions: { host: 7 } }),
  ];
  return (makers[choice % makers.length] ?? makers[0] ?? (() => '{}'))();
}
export const badItemKinds = 28;
