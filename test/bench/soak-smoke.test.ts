import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak/run.ts';

/**
 * `npm run bench:soak` in small, so it does not rot: the real server (`tsx functions/local/main.ts`) under the
 * soak's mixed load for 25 s, killed with SIGKILL once and started again on the same data; then every
 * acknowledged point read back through the API and every notified transition checked against the webhook.
 */
describe('Benchmark: soak (kill -9 under mixed load), 25 s', () => {
  it('keeps every acknowledged point and notifies each transition once', async () => {
    const report = await runSoak({
      durationMs: 25_000,
      killEveryMs: [8_000, 14_000],
      maxKills: 1,
      aimKills: false,
      bandIntervalMs: 2_000,
      drainTimeoutMs: 30_000,
      catchUp: false,
      seed: 7,
      shape: {
        liveSeriesPerClient: 30,
        bandSeries: 8,
        thresholdSeries: 12,
        formatHosts: 5,
        bandHistoryMinutes: 240,
      },
      log: () => undefined,
    });

    expect(Object.fromEntries(report.findings.broken)).toEqual({});
    expect(report.kills).toHaveLength(1);
    expect(report.pointsAcknowledged).toBeGreaterThan(3_000);
    expect(report.points?.verified).toBe(report.pointsAcknowledged);
    // Alerts are paged on their own (sent) or through their incidents (routed): some were paged.
    expect((report.deliveries?.sent ?? 0) + (report.deliveries?.routed ?? 0)).toBeGreaterThan(0);
    expect(report.deliveries?.deliveries).toBeGreaterThanOrEqual(report.deliveries?.sent ?? 0);
  }, 120_000);
});
