import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { NativeMetric, StatsdFlush } from '../../agent/flush-to-points.ts';
import { droppedFlushesMetric, NormalcyBackend } from '../../agent/statsd-backend.ts';
import { eventually, freeTcpPort } from '../helpers/processes.ts';

type Answer = { status: number; headers?: Record<string, string> };

/** A Normalcy stand-in whose answers the test decides; it records every body it accepted. */
class FakeServer {
  readonly accepted: NativeMetric[][] = [];
  requests = 0;
  answer: (metrics: NativeMetric[], request: IncomingMessage) => Answer | Promise<Answer> = () => ({
    status: 200,
  });
  private server: Server | undefined;

  async start(port: number): Promise<void> {
    this.server = createServer((request, response) => this.handle(request, response));
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      this.requests += 1;
      const body = JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()) as { metrics: NativeMetric[] };
      const { status, headers } = await this.answer(body.metrics, request);
      if (status === 200) this.accepted.push(body.metrics);
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end('{}');
    });
  }
}

const flush = (value: number): StatsdFlush => ({
  counters: { 'shop.logins;env=prod': value },
  gauges: {},
  timer_data: {},
});
const valuesOf = (payloads: NativeMetric[][]) =>
  payloads
    .flat()
    .filter((metric) => metric.name === 'shop.logins')
    .map((metric) => metric.value);

describe('NormalcyBackend under a dead or failing server', () => {
  const servers: FakeServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });

  async function setup(capacity: number, retryBaseMs = 5) {
    const port = await freeTcpPort();
    const server = new FakeServer();
    servers.push(server);
    const logger = {
      lines: [] as string[],
      log(message: string) {
        this.lines.push(message);
      },
    };
    const backend = new NormalcyBackend(
      {
        url: `http://127.0.0.1:${port}`,
        apiKey: 'nrm_test',
        maxQueuedFlushes: capacity,
        retryBaseMs,
        retryMaxMs: retryBaseMs * 4,
        timeoutMs: 2000,
      },
      logger,
    );
    return { port, server, backend, logger };
  }

  it('keeps every flush while the server is down and delivers them in order once it is back', async () => {
    const { port, server, backend, logger } = await setup(10);
    for (let value = 1; value <= 6; value++) backend.onFlush(1764028800 + value * 10, flush(value));
    await eventually(async () => (logger.lines.some((line) => line.includes('retrying')) ? true : undefined));
    expect(backend.queue.length).toBe(6);
    await server.start(port);
    await eventually(async () => (server.accepted.length === 6 ? true : undefined));
    expect(valuesOf(server.accepted)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(server.accepted[0]?.[0]).toMatchObject({ dimensions: { env: 'prod' }, type: 'counter' });
    expect(backend.queue.dropped).toBe(0);
  });

  it('drops the oldest flushes past its bound, counts them and reports them in a later flush', async () => {
    // Retries far apart: nothing is in flight while the flushes arrive, until retryNow().
    const { port, server, backend, logger } = await setup(3, 60_000);
    const dropped: number[] = [];
    backend.events.on('dropped', (count: number) => dropped.push(count));
    backend.onFlush(1764028810, flush(1));
    await eventually(async () => (logger.lines.some((line) => line.includes('retrying')) ? true : undefined));
    for (let value = 2; value <= 6; value++) backend.onFlush(1764028800 + value * 10, flush(value));
    expect(backend.queue.dropped).toBe(3);
    expect(dropped).toEqual([1, 1, 1]);
    await server.start(port);
    backend.retryNow();
    await eventually(async () => (server.accepted.length === 3 ? true : undefined));
    expect(valuesOf(server.accepted)).toEqual([4, 5, 6]);
    backend.onFlush(1764028870, flush(7));
    await eventually(async () => (server.accepted.length === 4 ? true : undefined));
    const reports = server.accepted.flat().filter((metric) => metric.name === droppedFlushesMetric);
    expect(reports.reduce((sum, metric) => sum + metric.value, 0)).toBe(3);
    const status: Record<string, number> = {};
    backend.onStatus((_error, _backend, name, value) => {
      status[name] = value;
    });
    expect(status).toMatchObject({ droppedFlushes: 3, deliveredFlushes: 4, queuedFlushes: 0 });
  });

  it('never drops the flush being sent: the next oldest goes instead', async () => {
    const { port, server, backend } = await setup(2);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.answer = async () => {
      if (server.requests === 1) await held;
      return { status: 200 };
    };
    await server.start(port);
    backend.onFlush(1764028810, flush(1));
    await eventually(async () => (server.requests === 1 ? true : undefined));
    for (let value = 2; value <= 4; value++) backend.onFlush(1764028800 + value * 10, flush(value));
    expect(backend.queue.dropped).toBe(2);
    release();
    await eventually(async () => (server.accepted.length === 2 ? true : undefined));
    expect(valuesOf(server.accepted)).toEqual([1, 4]);
  });

  it('retries 503 (honouring Retry-After), 500 and 401 until accepted, losing and repeating nothing', async () => {
    const { port, server, backend } = await setup(10);
    const script = [
      { status: 503, headers: { 'retry-after': '0.01' } },
      { status: 500 },
      { status: 401 },
      { status: 429 },
    ];
    server.answer = () => script.shift() ?? { status: 200 };
    await server.start(port);
    for (let value = 1; value <= 3; value++) backend.onFlush(1764028800 + value * 10, flush(value));
    await eventually(async () => (server.accepted.length === 3 ? true : undefined));
    expect(valuesOf(server.accepted)).toEqual([1, 2, 3]);
    expect(server.requests).toBe(7);
  });

  it('splits a flush the server finds too large (413) and drops one it refuses as bad (400)', async () => {
    const { port, server, backend } = await setup(10);
    server.answer = (metrics) => (metrics.length > 2 ? { status: 413 } : { status: 200 });
    await server.start(port);
    const big: StatsdFlush = {
      counters: { a: 1, b: 2, c: 3, d: 4, e: 5 },
      gauges: {},
      timer_data: {},
    };
    backend.onFlush(1764028800, big);
    await eventually(async () => (server.accepted.flat().length === 5 ? true : undefined));
    expect(server.accepted.flat().map((metric) => metric.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    server.answer = () => ({ status: 400 });
    const refused: number[] = [];
    backend.events.on('refused', (count: number) => refused.push(count));
    backend.onFlush(1764028810, flush(9));
    await eventually(async () => (refused.length === 1 ? true : undefined));
    expect(backend.queue.length).toBe(0);
  });
});
