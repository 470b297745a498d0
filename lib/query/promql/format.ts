/**
 * Results in the JSON shapes of Prometheus's HTTP API (`/api/v1/query`, `/api/v1/query_range`): times as
 * seconds (a number), values as strings written as Go writes them (`"NaN"`, `"+Inf"`, no exponent).
 */
import type { InstantResult, RangeSeries } from './evaluate.ts';
import { type Labels, labelsKey } from './labels.ts';

/** A `[seconds, "value"]` pair. */
export type PrometheusPoint = [number, string];

export type PrometheusData =
  | { resultType: 'scalar' | 'string'; result: PrometheusPoint }
  | { resultType: 'vector'; result: { metric: Labels; value: PrometheusPoint }[] }
  | { resultType: 'matrix'; result: { metric: Labels; values: PrometheusPoint[] }[] };

/** Epoch ms as Prometheus's API writes times: seconds with up to three decimals. */
export const toSeconds = (ms: number): number => ms / 1000;

/**
 * A sample value as Prometheus writes it (Go's `strconv.FormatFloat(v, 'f', -1, 64)`): the shortest digits
 * that read back as the same double, without an exponent; `NaN`, `+Inf`, `-Inf`.
 *
 * @example formatValue(1e21) // '1000000000000000000000'
 * @example formatValue(Infinity) // '+Inf'
 */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  const text = String(value);
  const exponent = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!exponent) return text;
  const [, sign, lead, fraction = '', power] = exponent;
  const digits = `${lead}${fraction}`;
  const point = 1 + Number(power);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

const point = (time: number, value: number): PrometheusPoint => [toSeconds(time), formatValue(value)];

/** An instant query's `data`. */
export function instantData(result: InstantResult): PrometheusData {
  switch (result.resultType) {
    case 'scalar':
      return { resultType: 'scalar', result: point(result.time, result.value) };
    case 'string':
      return { resultType: 'string', result: [toSeconds(result.time), result.value] };
    case 'vector':
      return {
        resultType: 'vector',
        result: result.samples.map((sample) => ({
          metric: sample.labels,
          value: point(result.time, sample.value),
        })),
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: result.series.map((series) => ({
          metric: series.labels,
          values: series.timestamps.map((time, index) => point(time, series.values[index] as number)),
        })),
      };
  }
}

/** A range query's `data`: a matrix, series in a stable order (by their labels, as Prometheus sorts them). */
export function rangeData(series: readonly RangeSeries[]): PrometheusData {
  const sorted = series
    .map((entry) => ({ entry, key: labelsKey(entry.labels) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ entry }) => entry);
  return {
    resultType: 'matrix',
    result: sorted.map((entry) => ({
      metric: entry.labels,
      values: entry.timestamps.map((time, index) => point(time, entry.values[index] as number)),
    })),
  };
}
