/**
 * Prometheus's HTTP query API (`/api/v1/*`), enough for Grafana's built-in Prometheus data source and
 * promtool: PromQL queries (lib/query/promql), series, labels, label values, metadata and build info, in
 * Prometheus's JSON shapes and error shapes. Read through the same catalog and query store as
 * `/v1/series/{id}/points` (lib/query/prometheus-series.ts). Served by the query function.
 */
import { HttpError } from '../../lib/errors.ts';
import { keyFromBasicAuth, keyFromHeaders } from '../../lib/keys.ts';
import { isAbortError, QueryTimeoutError } from '../../lib/ports/store-errors.ts';
import type { PrometheusCatalog } from '../../lib/query/prometheus-series.ts';
import type { LabelMatcher } from '../../lib/query/promql/ast.ts';
import { PromqlBadDataError, PromqlTimeoutError } from '../../lib/query/promql/errors.ts';
import type { QueryDependencies } from './dependencies.ts';
import {
  bodyText,
  type HttpEvent,
  type HttpResponse,
  json,
  mediaType,
  type RouteContext,
  type RouteDefinition,
  replyMessage,
} from './http.ts';
import { catalogOf, withinBudget } from './read-budget.ts';

type Engine = typeof import('./prometheus-engine.ts');
let engine: Promise<Engine> | undefined;
/** The PromQL engine, loaded on the first Prometheus request (see prometheus-engine.ts). */
const loadEngine = (): Promise<Engine> => {
  engine ??= import('./prometheus-engine.ts');
  return engine;
};

/** The label holding a series' name (lib/query/promql/labels.ts, which loads with the engine). */
const metricNameLabel = '__name__';

/** The Prometheus version whose API (and PromQL semantics) these routes follow, for clients that ask. */
export const prometheusApiVersion = '2.42.0';

/** Series the listing routes (series, labels, label values) look at, at most, bands included. */
const maxListedSeries = 60_000;

const success = (data: unknown): HttpResponse => json(200, { status: 'success', data });

/** Errors as Prometheus's API writes them: `{"status":"error","errorType":"bad_data","error":"..."}`. */
export function prometheusError(error: HttpError): HttpResponse {
  const errorType =
    error.code === 'invalid_request' ? 'bad_data' : error.code === 'query_timeout' ? 'timeout' : error.code;
  return json(
    error.statusCode,
    { status: 'error', errorType, error: replyMessage(error) },
    error.options.headers,
  );
}

/** The key as Grafana and promtool send it: `Authorization: Bearer KEY`, or Basic auth with the key as password. */
const prometheusKey = (event: HttpEvent): string | undefined =>
  keyFromHeaders(event.headers) ?? keyFromBasicAuth(event.headers);

/**
 * The request's parameters: the query string and, for POST, an `application/x-www-form-urlencoded` body
 * (what Grafana sends), the body's values first as Go's `FormValue` reads them. Repeated parameters
 * (`match[]`) keep every value.
 */
function parameters(event: HttpEvent): URLSearchParams {
  const merged = new URLSearchParams();
  if (
    event.requestContext?.http?.method === 'POST' &&
    mediaType(event) === 'application/x-www-form-urlencoded'
  ) {
    for (const [name, value] of new URLSearchParams(bodyText(event))) merged.append(name, value);
  }
  for (const [name, value] of new URLSearchParams(event.rawQueryString ?? '')) merged.append(name, value);
  return merged;
}

const invalidParameter = (name: string, message: string) =>
  new PromqlBadDataError(`invalid parameter ${JSON.stringify(name)}: ${message}`);

/** A time as Prometheus reads one: Unix seconds (fractions allowed) or RFC 3339; epoch ms returned. */
function readTime(values: URLSearchParams, name: string, fallback?: number): number {
  const text = values.get(name);
  if (text === null || text === '') {
    if (fallback !== undefined) return fallback;
    throw invalidParameter(name, `cannot parse "" to a valid timestamp`);
  }
  const seconds = Number(text);
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) && Number.isFinite(seconds)) {
    const ms = Math.round(seconds * 1000);
    if (Math.abs(ms) <= 8.64e15) return ms;
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms;
  }
  throw invalidParameter(name, `cannot parse ${JSON.stringify(text.slice(0, 60))} to a valid timestamp`);
}

/** A step or duration: seconds (fractions allowed) or a Prometheus duration (`15s`, `1m`); ms returned. */
function readDuration(promql: Engine, values: URLSearchParams, name: string): number {
  const text = values.get(name) ?? '';
  const seconds = Number(text);
  if (text !== '' && Number.isFinite(seconds) && /^[\d.eE+-]+$/.test(text)) {
    const ms = Math.round(seconds * 1000);
    if (ms > 0 && Number.isSafeInteger(ms)) return ms;
    if (ms <= 0) {
      throw new PromqlBadDataError(
        'zero or negative query resolution step widths are not accepted. Try a positive integer',
      );
    }
  }
  const ms = promql.parseDurationText(text);
  if (ms === undefined || ms <= 0) {
    throw invalidParameter(name, `cannot parse ${JSON.stringify(text.slice(0, 60))} to a valid duration`);
  }
  return ms;
}

/** The expression of the `query` parameter, with Prometheus's `invalid parameter "query"` prefix on a 400. */
function readQuery(promql: Engine, values: URLSearchParams) {
  try {
    return promql.parsePromql(values.get('query') ?? '');
  } catch (error) {
    if (error instanceof PromqlBadDataError) throw invalidParameter('query', error.message);
    throw error;
  }
}

/** The `match[]` selectors, each a vector selector (as Prometheus requires). */
function readSelectors(
  promql: Engine,
  values: URLSearchParams,
  required: boolean,
): LabelMatcher[][] | undefined {
  const texts = values.getAll('match[]');
  if (texts.length === 0) {
    if (required) throw new PromqlBadDataError('no match[] parameter provided');
    return undefined;
  }
  return texts.map((text) => {
    let expression: ReturnType<Engine['parsePromql']>;
    try {
      expression = promql.parsePromql(text);
    } catch (error) {
      if (error instanceof HttpError) throw invalidParameter('match[]', error.message);
      throw error;
    }
    if (expression.kind !== 'selector') {
      throw invalidParameter('match[]', `${JSON.stringify(text.slice(0, 60))} is not a vector selector`);
    }
    return [...expression.matchers];
  });
}

/** Runs a read within the request's budget, its time-outs answered as Prometheus does (503 `timeout`). */
async function budgeted<T>(
  context: RouteContext<QueryDependencies>,
  read: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  try {
    return await withinBudget(context, (options) => read(options.signal));
  } catch (error) {
    if (error instanceof QueryTimeoutError || isAbortError(error)) {
      throw new PromqlTimeoutError('query timed out in query execution', { cause: error });
    }
    throw error;
  }
}

const catalog = (context: RouteContext<QueryDependencies>): PrometheusCatalog =>
  catalogOf(context.dependencies);

/** The label sets the listing routes look at: those of `match[]`, or every series and its band series. */
async function listedLabelSets(values: URLSearchParams, context: RouteContext<QueryDependencies>) {
  const promql = await loadEngine();
  const selectors = readSelectors(promql, values, false) ?? [
    [{ label: metricNameLabel, operator: '=~', value: '.+' } as const],
  ];
  const since = values.has('start') ? readTime(values, 'start') : undefined;
  return budgeted(context, (signal) =>
    promql.labelSets(catalog(context), selectors, { maxSeries: maxListedSeries, since, signal }),
  );
}

const sorted = (texts: Iterable<string>): string[] => [...new Set(texts)].sort();

type PrometheusRoute = Omit<RouteDefinition<QueryDependencies>, 'method'>;

const routes: readonly PrometheusRoute[] = [
  {
    path: '/api/v1/query',
    scope: 'read',
    async handle(event, context) {
      const values = parameters(event);
      const promql = await loadEngine();
      const expression = readQuery(promql, values);
      const time = readTime(values, 'time', context.dependencies.clock.now());
      const source = promql.storeSampleSource(catalog(context), context.dependencies.queries);
      const result = await budgeted(context, (signal) =>
        promql.evaluateInstant(expression, time, source, { signal }),
      );
      return success(promql.instantData(result));
    },
  },
  {
    path: '/api/v1/query_range',
    scope: 'read',
    async handle(event, context) {
      const values = parameters(event);
      const promql = await loadEngine();
      const expression = readQuery(promql, values);
      const start = readTime(values, 'start');
      const end = readTime(values, 'end');
      const step = readDuration(promql, values, 'step');
      const source = promql.storeSampleSource(catalog(context), context.dependencies.queries);
      const series = await budgeted(context, (signal) =>
        promql.evaluateRange(expression, start, end, step, source, { signal }),
      );
      return success(promql.rangeData(series));
    },
  },
  {
    path: '/api/v1/series',
    scope: 'read',
    async handle(event, context) {
      const values = parameters(event);
      const promql = await loadEngine();
      const selectors = readSelectors(promql, values, true) ?? [];
      const since = values.has('start') ? readTime(values, 'start') : undefined;
      const sets = await budgeted(context, (signal) =>
        promql.labelSets(catalog(context), selectors, { maxSeries: maxListedSeries, since, signal }),
      );
      return success(sets);
    },
  },
  {
    path: '/api/v1/labels',
    scope: 'read',
    async handle(event, context) {
      const sets = await listedLabelSets(parameters(event), context);
      return success(sorted(sets.flatMap((labels) => Object.keys(labels))));
    },
  },
  {
    path: '/api/v1/label/{name}/values',
    scope: 'read',
    async handle(event, context) {
      const name = decodeURIComponent(event.pathParameters?.name ?? '');
      const sets = await listedLabelSets(parameters(event), context);
      return success(sorted(sets.flatMap((labels) => (labels[name] === undefined ? [] : [labels[name]]))));
    },
  },
  {
    path: '/api/v1/metadata',
    scope: 'read',
    async handle(event, context) {
      const values = parameters(event);
      const metric = values.get('metric') || undefined;
      const limit = values.has('limit') ? Number(values.get('limit')) : -1;
      const sets = await listedLabelSets(new URLSearchParams(), context);
      const { bandSeries } = await loadEngine();
      const names = sorted(sets.map((labels) => labels[metricNameLabel] ?? '')).filter(
        (name) => name !== '' && (metric === undefined || name === metric),
      );
      const data: Record<string, { type: string; help: string; unit: string }[]> = {};
      for (const name of limit >= 0 ? names.slice(0, limit) : names) {
        const band = bandSeries[name as keyof typeof bandSeries];
        data[name] = [
          {
            type: 'gauge',
            help: band
              ? `Normalcy's learned band: the ${band} of the series named by the "metric" label`
              : 'A Normalcy series: one value per step (the mean of its points; the sum for counters)',
            unit: '',
          },
        ];
      }
      return success(data);
    },
  },
  {
    path: '/api/v1/status/buildinfo',
    scope: 'read',
    handle: async () =>
      success({
        version: prometheusApiVersion,
        revision: 'normalcy',
        branch: '',
        buildUser: '',
        buildDate: '',
        goVersion: '',
      }),
  },
];

/** Every Prometheus route, by GET and by POST (Grafana posts form bodies), with Prometheus's error shape. */
export const prometheusRoutes: readonly RouteDefinition<QueryDependencies>[] = routes.flatMap((route) =>
  (['GET', 'POST'] as const).map((method) => ({
    ...route,
    method,
    keyFrom: prometheusKey,
    renderError: prometheusError,
  })),
);
