import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleBandJob } from '../../../functions/local/band-job-schedule.ts';
import { openSqliteStores, type SqliteStores } from '../../../lib/adapters/sqlite-stores.ts';
import type { BandJobSummary } from '../../../lib/jobs/band-job.ts';
import { startTestServer, type TestServer } from '../../helpers/local.ts';

/**
 * Another connection (a script, the sqlite3 shell, a backup) holds the database's write lock. The server
 * waits for it briefly and never with its event loop for long: /health and the API's reads answer, ingest says
 * 503 with Retry-After, and the band job gives way until the next run.
 */
describe('a write lock held by another connection', () => {
  let server: TestServer;
  let other: SqliteStores;

  beforeAll(async () => {
    server = await startTestServer();
    const response = await server.postMetrics([{ name: 'shop.requests', type: 'gauge', value: 1 }]);
    expect(response.status).toBe(200);
    other = openSqliteStores(join(server.dataDir, 'normalcy.db'));
  });

  afterAll(async () => {
    other?.close();
    await server?.close();
  });

  /** Holds the write lock while `during` runs. */
  async function whileLocked<T>(during: () => Promise<T>): Promise<T> {
    other.database.exec('BEGIN IMMEDIATE');
    try {
      return await during();
    } finally {
      other.database.exec('COMMIT');
    }
  }

  /** A new series with twenty closed one-minute buckets: the band job's next run has bands and state to write. */
  async function newSeriesForTheJob(name: string): Promise<void> {
    const lastMinute = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
    const metrics = Array.from({ length: 20 }, (_, index) => ({
      name,
      type: 'gauge',
      value: 10 + (index % 3),
      timestamp: lastMinute - index * 60_000,
    }));
    expect((await server.postMetrics(metrics)).status).toBe(200);
  }

  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const timed = async <T>(work: Promise<T>): Promise<{ value: T; ms: number }> => {
    const began = performance.now();
    const value = await work;
    return { value, ms: performance.now() - began };
  };

  it('answers /health within 200 ms while an ingest request waits for the lock, and ingest says 503', async () => {
    await whileLocked(async () => {
      const ingest = timed(server.postMetrics([{ name: 'shop.requests', type: 'gauge', value: 2 }]));
      // /health every 50 ms while ingest waits, each timed from before its pause: a server that froze its
      // event loop on the lock froze this test's timers too.
      const healthMs: number[] = [];
      for (let probe = 0; probe < 10; probe++) {
        const health = await timed(pause(50).then(() => fetch(`${server.url}/health`)));
        expect(health.value.status).toBe(200);
        healthMs.push(health.ms - 50);
      }
      expect(Math.max(...healthMs)).toBeLessThan(200);

      const refused = await ingest;
      expect(refused.value.status).toBe(503);
      expect(refused.value.headers.get('retry-after')).toBe('5');
      expect(refused.ms).toBeLessThan(3_000);
    });
    // The lock gone, the same request is stored.
    const response = await server.postMetrics([{ name: 'shop.requests', type: 'gauge', value: 2 }]);
    expect(response.status).toBe(200);
  });

  it('reads while the lock is held', async () => {
    await whileLocked(async () => {
      const series = await timed(server.request('/v1/series'));
      expect(series.value.status).toBe(200);
      expect(series.ms).toBeLessThan(200);
    });
  });

  it('the band job leaves the shards it cannot save for the next run, the server answering meanwhile', async () => {
    await server.runBandJob();
    await newSeriesForTheJob('job.first');
    await whileLocked(async () => {
      const run = server.runBandJob();
      const health = await timed(pause(500).then(() => fetch(`${server.url}/health`)));
      expect(health.value.status).toBe(200);
      expect(health.ms).toBeLessThan(700);
      const summary = await run;
      expect(summary.shards.failed.length).toBeGreaterThan(0);
      for (const failure of summary.shards.failed) expect(failure.reason).toMatch(/locked/);
      expect(summary.bucketsProcessed).toBe(0);
    });
    await expect(server.runBandJob()).resolves.toMatchObject({ seriesProcessed: 1, bucketsProcessed: 20 });
  });

  it('the schedule says so in one line and runs again at the next tick', async () => {
    await newSeriesForTheJob('job.second');
    const lines: string[] = [];
    const errors: string[] = [];
    const results: BandJobSummary[] = [];
    const run = async () => {
      const summary = await server.runBandJob();
      results.push(summary);
      return summary;
    };
    const schedule = scheduleBandJob(run, 100, {
      info: (line) => lines.push(line),
      error: (line) => errors.push(line),
    });
    try {
      await whileLocked(async () => {
        while (lines.length === 0) await pause(50);
      });
      // The runs during the lock saved nothing; the first one after it does the work.
      while (!results.some((summary) => summary.bucketsProcessed > 0)) await pause(50);
      expect(results.find((summary) => summary.bucketsProcessed > 0)).toMatchObject({
        seriesProcessed: 1,
        bucketsProcessed: 20,
      });
    } finally {
      schedule.stop();
    }
    expect(lines[0]).toMatch(
      /^band job: \d+ of its state shards left for the next run \(database is locked\)$/,
    );
    expect(errors).toEqual([]);
  });
});
