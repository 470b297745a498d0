import { gaussian, seededRandom } from '../../scripts/dev/random.ts';
import type { TestServer } from './local.ts';
import { dayMs, hourMs, minuteMs } from './series.ts';

/**
 * A series no band engine can mistake: three days of a steady value around 100 (Gaussian noise, standard
 * deviation 1) every 5 minutes, then 30 minutes at 0, then back around 100. Fixed times and a fixed seed, so
 * every run sees the same data; the outage ends at `outageEnd`, and `recoveredAt` is an hour later.
 */
export const outageStory = (() => {
  const step = 5 * minuteMs;
  const outageStart = Date.UTC(2025, 10, 25, 12, 0);
  const outageEnd = outageStart + 30 * minuteMs;
  const start = outageStart - 3 * dayMs;
  const recoveredAt = outageEnd + hourMs;
  const noise = gaussian(seededRandom(7));
  const values = new Map<number, number>();
  for (let t = start; t < recoveredAt; t += step) {
    values.set(t, t >= outageStart && t < outageEnd ? 0 : 100 + noise());
  }
  return {
    name: 'shop.checkout.requests',
    dimensions: { region: 'eu' } as Record<string, string>,
    step,
    start,
    outageStart,
    outageEnd,
    recoveredAt,
    /** Native JSON bulk items of the points in `[from, to)`, a day per item. */
    bulkItems(from: number, to: number) {
      const items = [];
      for (let day = from; day < to; day += dayMs) {
        const points = [...values].filter(([t]) => t >= day && t < Math.min(to, day + dayMs));
        if (points.length > 0) {
          items.push({ name: this.name, type: 'gauge', dimensions: this.dimensions, points });
        }
      }
      return items;
    },
  };
})();

/**
 * Plays the outage through a server as it happened: posted while it happens (the band job opens and pages an
 * alert), then the recovery (the alert resolves). `setNow` moves the server's clock to a minute after each.
 */
export async function playOutage(
  server: Pick<TestServer, 'postMetrics' | 'runBandJob'>,
  setNow: (now: number) => void,
): Promise<void> {
  for (const [from, to] of [
    [outageStory.start, outageStory.outageEnd],
    [outageStory.outageEnd, outageStory.recoveredAt],
  ] as const) {
    setNow(to + minuteMs);
    const response = await server.postMetrics(outageStory.bulkItems(from, to));
    if (response.status !== 200) throw new Error(`the outage's points were refused: ${response.status}`);
    await server.runBandJob();
  }
}
