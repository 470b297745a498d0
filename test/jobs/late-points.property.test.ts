import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredBand } from '../../lib/ports/band-store.ts';
import { startTestServer, type TestServer } from '../helpers/local.ts';
import { hourMs, minuteMs } from '../helpers/series.ts';

/**
 * Every stored point is banded once, whatever the timing of its arrival: random ingest batches (live points,
 * an agent's delayed flushes, backfilled stretches, out of order) interleaved with band job runs end with the
 * same bands as one run after all the data.
 */
describe('Band job: points banded whatever the timing of their arrival', () => {
  const start = Date.UTC(2026, 2, 9, 8, 0);
  const length = 4 * hourMs;
  const end = start + length + 10 * minuteMs;
  const names = ['shop.requests', 'shop.latency'];
  const valueAt = (name: string, t: number) =>
    (name === 'shop.requests' ? 200 : 80) +
    40 * Math.sin((2 * Math.PI * (t - start)) / (3 * hourMs)) +
    ((t / minuteMs) % 7) +
    (t === start + 150 * minuteMs ? 400 : 0);

  /** How a point arrives: on time, with an agent's flush delay, or much later (a backfill). */
  const delay = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 5_000 }) },
    { weight: 2, arbitrary: fc.integer({ min: 20_000, max: 6 * minuteMs }) },
    { weight: 1, arbitrary: fc.integer({ min: 10 * minuteMs, max: length }) },
  );
  const minutes = length / minuteMs;
  const scenario = fc.record({
    delays: fc.array(delay, { minLength: minutes * names.length, maxLength: minutes * names.length }),
    runEvery: fc.array(fc.integer({ min: 20_000, max: 12 * minuteMs }), { minLength: 100, maxLength: 100 }),
  });

  async function bandsOf(server: TestServer): Promise<Record<string, StoredBand[]>> {
    const result: Record<string, StoredBand[]> = {};
    for (const series of await server.stores.series.listSeries()) {
      result[series.name] = await server.stores.bands.readBands(series.id, 0, end + hourMs);
    }
    return result;
  }

  const post = async (server: TestServer, points: { name: string; t: number }[]) => {
    const byName = new Map<string, [number, number][]>();
    for (const { name, t } of points) byName.set(name, [...(byName.get(name) ?? []), [t, valueAt(name, t)]]);
    const metrics = [...byName].map(([name, series]) => ({ name, type: 'gauge', points: series }));
    const response = await server.postMetrics(metrics);
    expect(response.status).toBe(200);
  };

  it('ends with the bands of one run over all the data', async () => {
    const everything = names.flatMap((name) =>
      Array.from({ length: minutes }, (_, index) => ({ name, t: start + index * minuteMs })),
    );
    let time = end;
    const reference = await startTestServer({ clock: { now: () => time } });
    await post(reference, everything);
    await reference.runBandJob();
    const expected = await bandsOf(reference);
    await reference.close();
    expect(expected['shop.requests']).toHaveLength(minutes);

    await fc.assert(
      fc.asyncProperty(scenario, async ({ delays, runEvery }) => {
        time = start;
        const server = await startTestServer({ clock: { now: () => time } });
        try {
          // A series' step is learned from its first points: those of its first ten minutes come on time.
          const arrivals = everything
            .map((point, index) => {
              const onTime = point.t < start + 10 * minuteMs;
              const arrival = point.t + 1_000 + (onTime ? 0 : (delays[index] ?? 0));
              return { ...point, arrival: Math.min(arrival, end - minuteMs) };
            })
            .sort((a, b) => a.arrival - b.arrival);
          let next = 0;
          let run = 0;
          let runAt = start + (runEvery[0] ?? minuteMs);
          while (next < arrivals.length) {
            const arrival = arrivals[next]?.arrival ?? end;
            if (runAt <= arrival) {
              time = runAt;
              await server.runBandJob();
              run += 1;
              runAt += runEvery[run % runEvery.length] ?? minuteMs;
              continue;
            }
            // Points that arrive within ten seconds of each other come in one request (an agent's flush).
            const batch = [];
            while (next < arrivals.length && (arrivals[next]?.arrival ?? end) < arrival + 10_000) {
              batch.push(arrivals[next] as (typeof arrivals)[number]);
              next += 1;
            }
            time = arrival + 10_000;
            await post(server, batch);
          }
          time = end;
          await server.runBandJob();
          // The engine stores its state compactly between runs (normalcy/8: noise units as float32, profiles to
          // 1/32,768 of their range), so the numbers agree to that precision and every flag exactly.
          const got = await bandsOf(server);
          expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
          for (const [name, bands] of Object.entries(expected)) {
            const actual = got[name] ?? [];
            expect(actual).toHaveLength(bands.length);
            bands.forEach((band, index) => {
              const other = actual[index] as unknown as Record<string, unknown>;
              for (const [field, value] of Object.entries(band)) {
                if (typeof value === 'number' && field !== 'timestamp' && field !== 'value')
                  expect(other[field], `${name} ${index} ${field}`).toBeCloseTo(value, 3);
                else expect(other[field], `${name} ${index} ${field}`).toEqual(value);
              }
            });
          }
        } finally {
          await server.close();
        }
      }),
      { numRuns: 8 },
    );
  }, 240_000);
});
