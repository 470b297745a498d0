/** What bench/bands.ts and the process it starts (bench/bands-run.ts) agree on. */
import { seriesId } from '../lib/metrics/series.ts';

export { minuteMs } from '../lib/time.ts';
/** The start of the benchmark's bucket (a Monday noon, UTC). */
export const benchStart = Date.UTC(2026, 10, 2, 12, 0);
/** Engines trained, each cloned to every 64th series: their states differ as real series' do. */
export const templateCount = 64;

/** The identity of the benchmark's series number `index`. */
export function benchSeries(index: number) {
  const dimensions = { host: `host-${index}`, region: `region-${index % 7}` };
  return { id: seriesId('bench.metric', dimensions), name: 'bench.metric', dimensions };
}

/** A value of template `template` at `t`: its own level, a daily cycle and deterministic noise. */
export function benchValue(template: number, t: number): number {
  const level = 50 + template * 13;
  const daily = Math.sin((2 * Math.PI * (t % 86_400_000)) / 86_400_000);
  const noise = Math.sin(t / 7_919 + template) * Math.cos(t / 104_729);
  return level * (1 + 0.3 * daily) + (2 + (template % 5)) * noise;
}
