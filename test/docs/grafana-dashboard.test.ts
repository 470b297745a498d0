import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriesId } from '../../lib/metrics/series.ts';
import { parsePromql } from '../../lib/query/promql/parse.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';

/**
 * docs/grafana/normalcy-band.json, the dashboard the README offers: it parses, its queries are PromQL Normalcy
 * evaluates, and against the local server they draw a series with its band (the variable lists the series).
 */

interface Target {
  refId: string;
  expr: string;
  legendFormat: string;
}
interface Dashboard {
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
  panels: {
    type: string;
    targets: Target[];
    fieldConfig: {
      overrides: { matcher: { options: string }; properties: { id: string; value: unknown }[] }[];
    };
  }[];
}

const dashboard = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'grafana', 'normalcy-band.json'), 'utf8'),
) as Dashboard;
const targets = dashboard.panels.flatMap((panel) => panel.targets);
const name = 'shop.checkout.time';
const withMetric = (expr: string) => expr.replaceAll('$metric', name);

const minuteMs = 60_000;
const end = Math.floor(Date.now() / minuteMs) * minuteMs - 5 * minuteMs;
const times = Array.from({ length: 30 }, (_, index) => end - (29 - index) * minuteMs);

describe('docs/grafana/normalcy-band.json', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    const dimensions = { host: 'web-1' };
    const stored = await server.postMetrics([
      { name, type: 'timer', dimensions, points: times.map((time, index) => [time, 200 + index]) },
    ]);
    expect(stored.status).toBe(200);
    await server.stores.bands.writeBands(
      seriesId(name, dimensions),
      times.map((time, index) => ({
        timestamp: time,
        value: 200 + index,
        expected: 210,
        lower: 190,
        upper: 230,
        score: 0,
        anomaly: index === 29,
      })),
    );
  });
  afterAll(() => server.close());

  it('draws the value, the expected line and the band filled between lower and upper', () => {
    expect(targets.map((target) => target.legendFormat)).toEqual([
      'value',
      'expected',
      'lower',
      'upper',
      'anomaly',
    ]);
    const fill = dashboard.panels[0]?.fieldConfig.overrides
      .find((override) => override.matcher.options === 'upper')
      ?.properties.find((property) => property.id === 'custom.fillBelowTo');
    expect(fill?.value).toBe('lower');
  });

  it.each(targets.map((target) => [target.refId, target.expr] as const))(
    'query %s (%s) is PromQL Normalcy evaluates, with points from the local server',
    async (_refId, expr) => {
      expect(() => parsePromql(withMetric(expr))).not.toThrow();
      const response = await server.request(
        `/api/v1/query_range?${new URLSearchParams({
          query: withMetric(expr),
          start: String((end - 30 * minuteMs) / 1000),
          end: String(end / 1000),
          step: '60',
        })}`,
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as { data: { result: { metric: object; values: unknown[] }[] } };
      expect(body.data.result).toHaveLength(1);
      expect(body.data.result[0]?.values.length).toBeGreaterThanOrEqual(29);
    },
  );

  it('lists the series in its variable as Grafana asks (label values of metric on normalcy_expected)', async () => {
    const variable = dashboard.templating.list.find((entry) => entry.name === 'metric');
    const query = typeof variable?.query === 'object' ? variable.query.query : variable?.query;
    expect(query).toBe('label_values(normalcy_expected, metric)');
    const response = await server.request(
      `/api/v1/label/metric/values?${new URLSearchParams({ 'match[]': 'normalcy_expected' })}`,
    );
    expect(await response.json()).toEqual({ status: 'success', data: [name] });
  });
});
