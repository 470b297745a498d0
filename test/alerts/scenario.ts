import type { LocalServerOptions } from '../../functions/local/server.ts';
import type { BandJobSummary } from '../../lib/jobs/band-job.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Notification, Notifier } from '../../lib/ports/notifier.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { minuteMs } from '../helpers/series.ts';

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
}

/** A series a scenario sends: its identity and its value at each bucket (undefined: it sends nothing then). */
export interface Source {
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly valueAt: (timestamp: number) => number | undefined;
}

/** A notification and the (fake) time it was delivered. */
export interface Delivered {
  readonly notification: Notification;
  readonly deliveredAt: number;
}

export interface Scenario {
  readonly server: TestServer;
  readonly clock: FakeClock;
  readonly stepMs: number;
  /** What the band job published, in order. */
  readonly delivered: Delivered[];
  /** Sends the sources' points for every step in `[from, to)` at once (a backfill), then runs the band job. */
  backfill(sources: readonly Source[], from: number, to: number): Promise<BandJobSummary>;
  /**
   * Lives through `[from, to)` step by step: at each step the sources send their point, the clock moves to
   * just after the step's bucket closed, and the band job runs (as the schedule would).
   */
  live(sources: readonly Source[], from: number, to: number): Promise<BandJobSummary[]>;
  /** `[state, ISO time]` of each notification, for readable assertions. */
  timeline(): [string, string][];
  close(): Promise<void>;
}

/** After a bucket ends, the band job waits this long for late points before it processes the bucket. */
const settleMs = 20_000;

/**
 * A real local server (HTTP API, SQLite, band job) on a fake clock, fed through the ingest API: what the
 * scenario tests drive.
 */
export async function startScenario(
  start: number,
  options: Partial<LocalServerOptions> & { stepMs?: number } = {},
): Promise<Scenario> {
  const stepMs = options.stepMs ?? 5 * minuteMs;
  const clock = new FakeClock(start);
  const delivered: Delivered[] = [];
  const notifier: Notifier = {
    notify: async (notification) => {
      delivered.push({ notification, deliveredAt: clock.now() });
    },
  };
  const server = await startTestServer({ clock, notifier, ...options });

  const send = async (sources: readonly Source[], from: number, to: number) => {
    const metrics = [];
    for (let t = from; t < to; t += stepMs) {
      for (const source of sources) {
        const value = source.valueAt(t);
        if (value !== undefined)
          metrics.push({
            name: source.name,
            type: 'gauge',
            value,
            timestamp: t,
            dimensions: source.dimensions,
          });
      }
    }
    for (let offset = 0; offset < metrics.length; offset += 5000) {
      const response = await server.postMetrics(metrics.slice(offset, offset + 5000));
      if (response.status !== 200)
        throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
    }
  };

  return {
    server,
    clock,
    stepMs,
    delivered,
    async backfill(sources, from, to) {
      clock.time = Math.max(clock.time, to + settleMs);
      await send(sources, from, to);
      return server.runBandJob();
    },
    async live(sources, from, to) {
      const runs: BandJobSummary[] = [];
      for (let t = from; t < to; t += stepMs) {
        clock.time = Math.max(clock.time, t);
        await send(sources, t, t + stepMs);
        clock.time = t + stepMs + settleMs;
        runs.push(await server.runBandJob());
      }
      return runs;
    },
    timeline: () =>
      delivered.map(({ notification }) => [notification.state, new Date(notification.at).toISOString()]),
    close: () => server.close(),
  };
}
