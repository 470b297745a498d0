/**
 * The PromQL engine as the Prometheus routes use it, in one module that functions/shared/prometheus-routes.ts
 * imports on its first request: the Prometheus grammar and RE2 are two thirds of the query function's bundle,
 * and the other routes' cold starts should not pay for loading them.
 */

export { bandSeries, labelSets, storeSampleSource } from '../../lib/query/prometheus-series.ts';
export { evaluateInstant, evaluateRange } from '../../lib/query/promql/evaluate.ts';
export { instantData, rangeData } from '../../lib/query/promql/format.ts';
export { parseDurationText, parsePromql } from '../../lib/query/promql/parse.ts';
