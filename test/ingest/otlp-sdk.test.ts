import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as HttpExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/local.ts';

interface SeriesView {
  id: string;
  name: string;
  type: string;
  dimensions: Record<string, string>;
}

/**
 * The OpenTelemetry JS SDK with its own OTLP/HTTP exporters (JSON and protobuf) sending to the local server;
 * every value is read back through the query API.
 */
describe('OpenTelemetry SDK → OTLP/HTTP → Normalcy', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  /** Records with a meter, then flushes through the exporter (the reader's own timer never fires). */
  async function export_(
    exporter: PushMetricExporter,
    service: string,
    record: (provider: MeterProvider, flush: () => Promise<void>) => void | Promise<void>,
  ) {
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'test' }),
      readers: [reader],
    });
    await record(provider, () => reader.forceFlush());
    await reader.forceFlush();
    await provider.shutdown();
  }

  const seriesOf = async (service: string) =>
    (await server.getJson<{ series: SeriesView[] }>('/v1/series')).series.filter(
      (series) => series.dimensions['service.name'] === service,
    );
  const total = async (series: SeriesView | undefined) => {
    const body = await server.getJson<{ points: { value: number; count: number }[] }>(
      `/v1/series/${series?.id ?? 'none'}/points`,
    );
    return body.points.reduce((sum, point) => sum + point.value, 0);
  };

  it('stores delta counters, histograms and gauges sent by the JSON exporter', async () => {
    const exporter = new HttpExporter({
      url: `${server.url}/otlp/v1/metrics`,
      headers: { authorization: `Bearer ${server.key}` },
      temporalityPreference: AggregationTemporalityPreference.DELTA,
    });
    await export_(exporter, 'checkout-json', (provider) => {
      const meter = provider.getMeter('checkout');
      const orders = meter.createCounter('orders');
      orders.add(3, { route: '/pay' });
      orders.add(4, { route: '/pay' });
      const latency = meter.createHistogram('latency', { unit: 'ms' });
      for (const value of [10, 20, 30, 40, 400]) latency.record(value, { route: '/pay' });
      meter.createObservableGauge('queue.depth').addCallback((result) => result.observe(17));
    });
    const series = await seriesOf('checkout-json');
    const byName = (name: string) => series.find((entry) => entry.name === name);
    expect(byName('orders')).toMatchObject({
      type: 'counter',
      dimensions: { 'service.name': 'checkout-json', 'deployment.environment': 'test', route: '/pay' },
    });
    expect(await total(byName('orders'))).toBe(7);
    expect(await total(byName('latency.count'))).toBe(5);
    expect(await total(byName('latency.sum'))).toBe(500);
    expect(await total(byName('latency.mean'))).toBe(100);
    expect(await total(byName('latency.min'))).toBe(10);
    expect(await total(byName('latency.max'))).toBe(400);
    const median = await total(byName('latency.p50'));
    expect(median).toBeGreaterThanOrEqual(10);
    expect(median).toBeLessThanOrEqual(50);
    expect(await total(byName('queue.depth'))).toBe(17);
    // Attributes that change at every start would split series: they are not dimensions.
    expect(Object.keys(byName('orders')?.dimensions ?? {})).not.toContain('telemetry.sdk.version');
  });

  it('stores what the protobuf exporter sends, cumulative counters as a rate', async () => {
    const exporter = new ProtoExporter({
      url: `${server.url}/otlp/v1/metrics`,
      headers: { authorization: `Bearer ${server.key}` },
    });
    await export_(exporter, 'checkout-proto', async (provider, flush) => {
      const meter = provider.getMeter('checkout');
      const payments = meter.createCounter('payments');
      payments.add(12, { currency: 'EUR' });
      meter.createUpDownCounter('sessions').add(5);
      meter.createHistogram('size').record(2048);
      await flush();
      // A second reading, later: its increase over the first is a rate.
      await new Promise((resolve) => setTimeout(resolve, 20));
      payments.add(8, { currency: 'EUR' });
    });
    const series = await seriesOf('checkout-proto');
    const names = series.map((entry) => entry.name).sort();
    expect(names).toEqual(expect.arrayContaining(['payments.rate', 'sessions', 'size.rate', 'size.mean']));
    expect(await total(series.find((entry) => entry.name === 'payments.rate'))).toBeGreaterThan(0);
    expect(await total(series.find((entry) => entry.name === 'sessions'))).toBe(5);
    expect(await total(series.find((entry) => entry.name === 'size.mean'))).toBe(2048);
  });

  it('works with OTEL_EXPORTER_OTLP_ENDPOINT set to the API base plus /otlp', async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `${server.url}/otlp`;
    process.env.OTEL_EXPORTER_OTLP_HEADERS = `authorization=Bearer ${server.key}`;
    try {
      const exporter = new ProtoExporter({ temporalityPreference: AggregationTemporalityPreference.DELTA });
      await export_(exporter, 'from-env', (provider) =>
        provider.getMeter('env').createCounter('hits').add(2),
      );
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
    }
    const series = await seriesOf('from-env');
    expect(await total(series.find((entry) => entry.name === 'hits'))).toBe(2);
  });
});
