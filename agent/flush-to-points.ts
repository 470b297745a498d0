/**
 * Turns one statsd flush into Normalcy's native metric items. Pure: no I/O, so it can be tested on fixed
 * flushes. Keys carry tags folded in by statsd 0.9 (`name;k=v;flag`); they become dimensions.
 */

export interface NativeMetric {
  name: string;
  type: 'counter' | 'gauge' | 'timer';
  value: number;
  timestamp: number;
  dimensions?: Record<string, string>;
}

/** The parts of statsd's flush `metrics` object the backend reads. */
export interface StatsdFlush {
  counters: Record<string, number>;
  gauges: Record<string, number>;
  timer_data: Record<string, Record<string, number | unknown>>;
  sets?: Record<string, { size(): number }>;
  pctThreshold?: readonly (number | string)[];
}

export interface FlushOptions {
  /** Send statsd's own metrics (statsd.packets_received, ...) too. Default false. */
  readonly includeStatsdMetrics?: boolean;
  /** Dimensions added to every point (e.g. the host); tags on a key win. */
  readonly globalDimensions?: Readonly<Record<string, string>>;
}

/** Splits a statsd key into a metric name and dimensions: `api.calls;env=prod;canary` → canary=true. */
export function parseKey(key: string): { name: string; dimensions: Record<string, string> } {
  const [name = '', ...tags] = key.split(';');
  const dimensions: Record<string, string> = {};
  for (const tag of tags) {
    if (tag.length === 0) continue;
    const equals = tag.indexOf('=');
    if (equals < 0) dimensions[tag] = 'true';
    else if (equals > 0) dimensions[tag.slice(0, equals)] = tag.slice(equals + 1) || 'true';
  }
  return { name, dimensions };
}

/** Summary statistics of a timer sent per flush, by statsd's timer_data field name. */
const timerStatistics = [
  ['mean', 'mean', 'timer'],
  ['upper', 'upper', 'timer'],
  ['lower', 'lower', 'timer'],
  ['median', 'median', 'timer'],
  ['count', 'count', 'counter'],
  ['sum', 'sum', 'timer'],
] as const;

/**
 * Converts a flush at `timestampSeconds` into native items: counters (the count in the interval), gauges,
 * set sizes (as gauges), and for each timer its count, sum, mean, lower, upper, median and the configured
 * percentiles (`.p90` from `upper_90`). Timers that saw no sample in the interval send only their zero count.
 */
export function flushToMetrics(
  timestampSeconds: number,
  flush: StatsdFlush,
  options: FlushOptions = {},
): NativeMetric[] {
  const timestamp = timestampSeconds * 1000;
  const metrics: NativeMetric[] = [];
  const add = (key: string, suffix: string, type: NativeMetric['type'], value: unknown) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    const { name, dimensions } = parseKey(key);
    if (!options.includeStatsdMetrics && name.startsWith('statsd.')) return;
    const merged = { ...options.globalDimensions, ...dimensions };
    const item: NativeMetric = { name: suffix ? `${name}.${suffix}` : name, type, value, timestamp };
    if (Object.keys(merged).length > 0) item.dimensions = merged;
    metrics.push(item);
  };
  for (const [key, value] of Object.entries(flush.counters)) add(key, '', 'counter', value);
  for (const [key, value] of Object.entries(flush.gauges)) add(key, '', 'gauge', value);
  for (const [key, set] of Object.entries(flush.sets ?? {})) add(key, '', 'gauge', set.size());
  for (const [key, data] of Object.entries(flush.timer_data)) {
    if (!data.count) {
      add(key, 'count', 'counter', 0);
      continue;
    }
    for (const [field, suffix, type] of timerStatistics) add(key, suffix, type, data[field]);
    for (const threshold of flush.pctThreshold ?? []) {
      const label = String(threshold).replace('.', '_').replace('-', 'bottom');
      add(key, `p${label}`, 'timer', data[`upper_${label}`] ?? data[`lower_${label}`]);
    }
  }
  return metrics;
}
