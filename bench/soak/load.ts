/**
 * The soak's clients, each with its own key, all at once: two live agents (a few hundred series every 10 s,
 * bad items mixed into some requests), an edge agent (threshold series and extreme values), a backfill
 * script (a day of history for the band series, then two-day histories now and then, and resends), a
 * Telegraf-like and an OpenTelemetry-like agent, a client that sends only bad requests, and a reader.
 */
import { gzipSync } from 'node:zlib';
import {
  badItem,
  badItemKinds,
  bandSeries,
  bulkItem,
  extremeHistorySeries,
  extremeSeries,
  historySeries,
  influxSeries,
  liveSeries,
  minuteMs,
  otlpSeries,
  overflowSeries,
  point,
  singleItem,
  thresholdSeries,
  tickMs,
} from './data.ts';
import type { SentPoint, SeriesIdentity } from './ledger.ts';
import { type Judge, type NativeItem, nativeBody, type PlannedRequest, sendPlanned } from './requests.ts';
import { sleep } from './server-process.ts';

/** The keys the clients use (made through `POST /v1/keys` at the start). */
export interface ClientKeys {
  readonly liveA: string;
  readonly liveB: string;
  readonly edge: string;
  readonly backfill: string;
  readonly formats: string;
  readonly bad: string;
  readonly reader: string;
  /** A key revoked before the load starts. */
  readonly revoked: string;
}

export interface LoadShape {
  /** Plain live series per live client (two clients). */
  readonly liveSeriesPerClient: number;
  /** Series with a day of history that go on live (split between the live clients). */
  readonly bandSeries: number;
  readonly thresholdSeries: number;
  /** Hosts of the Influx and of the OTLP agent. */
  readonly formatHosts: number;
  /** Minutes of history backfilled for each band series. */
  readonly bandHistoryMinutes: number;
}

export const defaultShape: LoadShape = {
  liveSeriesPerClient: 150,
  bandSeries: 40,
  thresholdSeries: 40,
  formatHosts: 20,
  bandHistoryMinutes: 1440,
};

const json = { 'content-type': 'application/json' } as const;

export class Load {
  private stopping = false;
  private readonly running: Promise<void>[] = [];
  /** The newest tick any ticking client sent (the band job must get past its bucket before the checks). */
  lastTick = 0;
  /** Band-history requests already acknowledged, resent now and then (a backfill script run twice). */
  private readonly sentHistory: PlannedRequest[] = [];

  constructor(
    private readonly judge: Judge,
    private readonly keys: ClientKeys,
    private readonly shape: LoadShape,
    /** When the soak started: band series are clean before, and may spike after. */
    private readonly liveFrom: number,
    private readonly random: () => number,
  ) {}

  start(): void {
    const bandIndices = Array.from({ length: this.shape.bandSeries }, (_, index) => index);
    const half = Math.ceil(bandIndices.length / 2);
    this.run(this.liveAgent('a', this.keys.liveA, bandIndices.slice(0, half)));
    this.run(this.liveAgent('b', this.keys.liveB, bandIndices.slice(half)));
    this.run(this.edgeAgent());
    this.run(this.backfillScript(bandIndices));
    this.run(this.formatAgents());
    this.run(this.badClient());
    this.run(this.reader());
  }

  /** Stops making requests; resolves once every request made has its final answer or was given up. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  private run(task: Promise<void>): void {
    this.running.push(
      task.catch((error: unknown) => {
        this.judge.findings.breach('soak client crashed', String((error as Error).stack ?? error));
      }),
    );
  }

  private send(request: PlannedRequest) {
    return sendPlanned(this.judge, request);
  }

  /**
   * Calls `makeRequests` for every 10-second tick, in order, like a StatsD agent flushing: a tick whose
   * requests are still being retried (the server is down) holds back the later ones, which queue up and go
   * when it answers. Ticks queued when the load stops are still sent.
   */
  private async ticking(makeRequests: (tick: number) => PlannedRequest[]): Promise<void> {
    let next = Math.ceil(Date.now() / tickMs) * tickMs;
    const queue: number[] = [];
    for (;;) {
      while (!this.stopping && next <= Date.now()) {
        queue.push(next);
        next += tickMs;
      }
      const tick = queue.shift();
      if (tick === undefined) {
        if (this.stopping) return;
        await sleep(Math.min(250, Math.max(10, next - Date.now())));
        continue;
      }
      for (const request of makeRequests(tick)) await this.send(request);
      this.lastTick = Math.max(this.lastTick, tick);
    }
  }

  private liveAgent(client: string, key: string, bandIndices: readonly number[]): Promise<void> {
    const series: SeriesIdentity[] = [
      ...liveSeries(client, this.shape.liveSeriesPerClient),
      ...bandIndices.map(bandSeries),
    ];
    return this.ticking((tick) => {
      const items: NativeItem[] = series.map((entry) => good(point(entry, tick, this.liveFrom)));
      // A quarter of the requests carry one to four bad items among the good ones.
      if (this.random() < 0.25) {
        const badCount = 1 + Math.floor(this.random() * 4);
        for (let index = 0; index < badCount; index++) {
          const at = Math.floor(this.random() * (items.length + 1));
          items.splice(at, 0, bad(badItem(Math.floor(this.random() * badItemKinds), Date.now())));
        }
      }
      return [native('live', key, items)];
    });
  }

  private async edgeAgent(): Promise<void> {
    const key = this.keys.edge;
    const series = Array.from({ length: this.shape.thresholdSeries }, (_, index) => thresholdSeries(index));
    // A delayed flush first: the last six minutes of the threshold series (bulk), so that alerts open and
    // resolve in the first runs of the band job.
    const now = Date.now();
    const from = Math.floor(now / minuteMs) * minuteMs - 6 * minuteMs;
    const ticks: number[] = [];
    for (let tick = from; tick < Math.floor(now / tickMs) * tickMs; tick += tickMs) ticks.push(tick);
    await this.send(
      native(
        'threshold-delayed',
        key,
        series.map((entry) =>
          bulk(
            entry,
            ticks.map((tick) => point(entry, tick, this.liveFrom)),
          ),
        ),
      ),
    );
    await this.ticking((tick) => {
      const requests = [
        native(
          'threshold',
          key,
          series.map((entry) => good(point(entry, tick, this.liveFrom))),
        ),
      ];
      if (tick % minuteMs === 0) {
        // One point a minute of each extreme series (its minute's value is one of the extremes), and two of
        // 1e308 in the same minute of a counter (their sum is past the largest double).
        const extremes = extremeSeries.map((entry) => good(point(entry, tick, this.liveFrom)));
        extremes.push(
          good({ series: overflowSeries, timestamp: tick, value: 1e308 }),
          good({ series: overflowSeries, timestamp: tick + 30_000, value: 1e308 }),
        );
        requests.push(native('extreme', key, extremes));
      }
      return requests;
    });
  }

  private async backfillScript(bandIndices: readonly number[]): Promise<void> {
    const key = this.keys.backfill;
    const historyEnd = Math.floor(this.liveFrom / minuteMs) * minuteMs;
    const minutes = (from: number, to: number, step: number): number[] => {
      const times: number[] = [];
      for (let time = from; time < to; time += step) times.push(time);
      return times;
    };
    const historyMinutes = minutes(
      historyEnd - this.shape.bandHistoryMinutes * minuteMs,
      historyEnd,
      minuteMs,
    );
    // A day of 1-minute history for the band series, four series a request (5,760 points).
    for (let offset = 0; offset < bandIndices.length && !this.stopping; offset += 4) {
      const items = bandIndices.slice(offset, offset + 4).map((index) => {
        const entry = bandSeries(index);
        return bulk(
          entry,
          historyMinutes.map((time) => point(entry, time, this.liveFrom)),
        );
      });
      const request = native('backfill', key, items);
      const answer = await this.send(request);
      if (answer && answer.status < 300) this.sentHistory.push(request);
    }
    await this.send(
      native(
        'backfill-extreme',
        key,
        extremeHistorySeries.map((entry) =>
          bulk(
            entry,
            historyMinutes.map((time) => point(entry, time, this.liveFrom)),
          ),
        ),
      ),
    );
    // Now and then: three new series with two days of 5-minute history ending two hours ago, a spike in it
    // (an alert recorded as history, never paged), two bad pairs in one of them; and one earlier request again.
    const fiveMinutes = 5 * minuteMs;
    const end = Math.floor((this.liveFrom - 2 * 3_600_000) / fiveMinutes) * fiveMinutes;
    const times = minutes(end - 2 * 1440 * minuteMs, end, fiveMinutes);
    const spikeFrom = end - 1440 * minuteMs;
    for (let round = 0; !this.stopping; round++) {
      await this.pause(15_000 + this.random() * 10_000);
      if (this.stopping) break;
      const items = [0, 1, 2].map((offset) => {
        const entry = historySeries(round * 3 + offset);
        const pairs: (SentPoint | readonly unknown[])[] = times.map((time) => {
          const sent = point(entry, time, this.liveFrom);
          const spiking = time >= spikeFrom && time < spikeFrom + 3 * fiveMinutes;
          return spiking ? { ...sent, value: sent.value * 6 } : sent;
        });
        if (offset === 0) {
          pairs[10] = ['not-a-time', 1];
          pairs[20] = [times[20], 'NaN'];
        }
        return bulkWithBadPairs(entry, pairs);
      });
      await this.send(native('backfill-history', key, items));
      const again = this.sentHistory[Math.floor(this.random() * this.sentHistory.length)];
      if (again) await this.send({ ...again, kind: 'backfill-resend' });
    }
  }

  private formatAgents(): Promise<void> {
    const hosts = Array.from({ length: this.shape.formatHosts }, (_, index) => index);
    let flush = 0;
    return this.ticking((tick) => {
      flush += 1;
      const lines: (SentPoint | undefined)[] = hosts.map((host) =>
        point(influxSeries(host), tick, this.liveFrom),
      );
      const text = lines.map(
        (line) => line && `soak_influx,host=${line.series.dimensions.host} value=${line.value} ${tick}`,
      );
      if (this.random() < 0.3) {
        // A line with only a string field (nothing to store) or a cut-off line, somewhere in the batch.
        const at = Math.floor(this.random() * (lines.length + 1));
        lines.splice(at, 0, undefined);
        text.splice(
          at,
          0,
          this.random() < 0.5 ? `soak_influx,host=bad status="up" ${tick}` : 'soak_influx,host=bad value=',
        );
      }
      const body = text.join('\n');
      // Telegraf's two outputs in turn: InfluxDB 1.x (Bearer) and 2.x (Token).
      const influx: PlannedRequest =
        flush % 2 === 0
          ? {
              kind: 'influx',
              spec: {
                method: 'POST',
                path: '/v1/influx/write?db=soak&precision=ms',
                key: this.keys.formats,
                body,
              },
              plan: { format: 'influx', lines },
            }
          : {
              kind: 'influx',
              spec: {
                method: 'POST',
                path: '/api/v2/write?org=soak&bucket=soak&precision=ms',
                headers: { authorization: `Token ${this.keys.formats}` },
                body,
              },
              plan: { format: 'influx', lines },
            };
      const otlpPoints = hosts.map((host) => point(otlpSeries(host), tick, this.liveFrom));
      const otlp: PlannedRequest = {
        kind: 'otlp',
        spec: {
          method: 'POST',
          path: '/otlp/v1/metrics',
          key: this.keys.formats,
          headers: json,
          body: JSON.stringify({
            resourceMetrics: [
              {
                resource: { attributes: [{ key: 'service.name', value: { stringValue: 'soak' } }] },
                scopeMetrics: [
                  {
                    metrics: [
                      {
                        name: 'soak.otlp',
                        gauge: {
                          dataPoints: otlpPoints.map((sent) => ({
                            timeUnixNano: `${sent.timestamp}000000`,
                            asDouble: sent.value,
                            attributes: [
                              { key: 'host', value: { stringValue: sent.series.dimensions.host } },
                            ],
                          })),
                        },
                      },
                    ],
                  },
                ],
              },
            ],
          }),
        },
        plan: { format: 'otlp', points: otlpPoints },
      };
      return [influx, otlp];
    });
  }

  /** Requests that must be refused whole, one every second or two; the large ones now and then. */
  private async badClient(): Promise<void> {
    const makers = badRequests(this.keys);
    const large = largeBadRequests(this.keys.bad);
    let sent = 0;
    while (!this.stopping) {
      sent += 1;
      const request =
        sent % 15 === 0
          ? large[(sent / 15) % large.length]
          : makers[Math.floor(this.random() * makers.length)]?.(this.random);
      if (request) await this.send(request);
      await this.pause(1_000 + this.random() * 1_000);
    }
  }

  /** What a dashboard does meanwhile: listings, alerts and anomalies every few seconds. */
  private async reader(): Promise<void> {
    const paths = [
      '/v1/series?prefix=soak.&limit=100',
      '/v1/alerts?limit=50',
      '/v1/alerts?state=open&limit=50',
      '/v1/anomalies?limit=20',
      '/v1/rules',
    ];
    for (let round = 0; !this.stopping; round++) {
      const path = paths[round % paths.length] ?? '/health';
      await this.send({
        kind: 'read',
        spec: { method: 'GET', path, key: this.keys.reader },
        plan: { format: 'succeed' },
      });
      await this.pause(2_000);
    }
  }

  /** Sleeps, but wakes early when the load stops. */
  private async pause(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!this.stopping && Date.now() < until) await sleep(Math.min(200, until - Date.now()));
  }
}

const good = (sent: SentPoint): NativeItem => ({
  text: singleItem(sent),
  bad: false,
  bulk: false,
  pairs: [sent],
});
const bad = (text: string): NativeItem => ({ text, bad: true, bulk: false, pairs: [] });
const bulk = (series: SeriesIdentity, pairs: readonly SentPoint[]): NativeItem => ({
  text: bulkItem(series, pairs),
  bad: false,
  bulk: true,
  pairs,
});
const bulkWithBadPairs = (
  series: SeriesIdentity,
  pairs: readonly (SentPoint | readonly unknown[])[],
): NativeItem => ({
  text: bulkItem(series, pairs),
  bad: false,
  bulk: true,
  pairs: pairs.map((pair) => ('series' in pair ? pair : undefined)),
});

function native(kind: string, key: string, items: readonly NativeItem[]): PlannedRequest {
  return {
    kind,
    spec: { method: 'POST', path: '/v1/metrics', key, headers: json, body: nativeBody(items) },
    plan: { format: 'native', items },
  };
}

const refused = (
  kind: string,
  spec: PlannedRequest['spec'],
  statuses: readonly number[],
): PlannedRequest => ({ kind, spec, plan: { format: 'refused', statuses } });

/** Small bad requests: each must get a 4xx that says what is wrong, never a 5xx. */
function badRequests(keys: ClientKeys): readonly ((random: () => number) => PlannedRequest)[] {
  // `key: null` sends no key at all.
  const post = (
    body: string | Buffer,
    headers: Record<string, string> = json,
    key: string | null = keys.bad,
  ) => ({
    method: 'POST' as const,
    path: '/v1/metrics',
    ...(key !== null && { key }),
    headers,
    body,
  });
  const oneGood = JSON.stringify({ metrics: [{ name: 'soak.bad.auth', value: 1 }] });
  return [
    (random) => {
      const items = Array.from({ length: 1 + Math.floor(random() * 5) }, () =>
        bad(badItem(Math.floor(random() * badItemKinds), Date.now())),
      );
      return { ...native('bad-items', keys.bad, items), kind: 'bad-items' };
    },
    () => {
      // Every pair of a bulk item wrong.
      const text = JSON.stringify({
        name: 'soak.bad.bulk',
        points: [
          ['x', 1],
          [Date.now(), 'NaN'],
          [null, null],
        ],
      });
      return { ...native('bad-items', keys.bad, [bad(text)]), kind: 'bad-items' };
    },
    () => refused('bad-json', post('{"metrics": ['), [400]),
    () => refused('bad-json', post('{"metrics": 5}'), [400]),
    () => refused('bad-json', post(''), [400]),
    () => refused('bad-json', post('\u0000\u0001\u0002'), [400]),
    () => refused('bad-json', post(`${'['.repeat(20_000)}${']'.repeat(20_000)}`), [400]),
    () => refused('bad-content-type', post(oneGood, { 'content-type': 'text/plain' }), [415]),
    () =>
      refused(
        'bad-content-type',
        post(oneGood, { 'content-type': 'application/x-www-form-urlencoded' }),
        [415],
      ),
    () =>
      refused(
        'bad-encoding',
        post(Buffer.from('not gzip at all'), { ...json, 'content-encoding': 'gzip' }),
        [400, 415],
      ),
    () => refused('bad-key', post(oneGood, json, null), [401]),
    () => refused('bad-key', post(oneGood, json, 'nrm_not-a-key-of-this-server-0000000000000000000'), [401]),
    () => refused('bad-key', post(oneGood, json, keys.revoked), [401]),
    () => refused('bad-key', post(oneGood, json, keys.reader), [403]),
    () =>
      refused(
        'bad-influx',
        {
          method: 'POST',
          path: '/v1/influx/write?db=soak&precision=ms',
          key: keys.bad,
          body: 'soak_bad status="down"\nsoak_bad,host=x value=\n=broken',
        },
        [400],
      ),
    () =>
      refused(
        'bad-otlp',
        {
          method: 'POST',
          path: '/otlp/v1/metrics',
          key: keys.bad,
          headers: json,
          body: JSON.stringify({
            resourceMetrics: [
              {
                scopeMetrics: [
                  {
                    metrics: [
                      {
                        name: 'soak.bad.otlp',
                        gauge: { dataPoints: [{ timeUnixNano: '1', asDouble: 'NaN' }] },
                      },
                    ],
                  },
                ],
              },
            ],
          }),
        },
        [400],
      ),
    () =>
      refused(
        'bad-otlp',
        {
          method: 'POST',
          path: '/otlp/v1/metrics',
          key: keys.bad,
          headers: { 'content-type': 'application/x-protobuf' },
          body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]),
        },
        [400],
      ),
  ];
}

/** Bodies past the limits: 6 MB of JSON (413), a gzip bomb (413), 11 MB raw (413 before any parsing). */
function largeBadRequests(key: string): readonly PlannedRequest[] {
  const padded = (bytes: number) =>
    JSON.stringify({ metrics: [{ name: 'soak.bad.big', value: 1, dimensions: { pad: 'x'.repeat(bytes) } }] });
  const bomb = gzipSync(Buffer.from(padded(40 * 1024 * 1024)));
  const spec = (body: string | Buffer, headers: Record<string, string> = json) => ({
    method: 'POST' as const,
    path: '/v1/metrics',
    key,
    headers,
    body,
  });
  return [
    refused('oversized', spec(padded(6 * 1024 * 1024)), [413]),
    refused('oversized', spec(bomb, { ...json, 'content-encoding': 'gzip' }), [413]),
    refused('oversized', spec(padded(11 * 1024 * 1024)), [413]),
  ];
}
