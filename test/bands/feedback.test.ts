import { describe, expect, it } from 'vitest';
import { normalcyEngine } from '../../lib/bands/index.ts';
import { dayMs, hourMs, jobSettings, minuteMs, syntheticSeries, weekMs } from '../helpers/series.ts';
import { departing, iso, monday, within } from './band-results.ts';

/**
 * "This was normal": buckets a person taught normal are remembered as one departure, so the same departure at
 * the same time a week later is inside the band. The cases are shifts the band did not remember on its own
 * (a sustained shift too small for any one bucket to be notable, which only the running mean saw): without the
 * teaching they page again the next week.
 */
describe('Band: a departure taught normal is a weekly event the next week', () => {
  const first = monday + 3 * weekMs + 3 * dayMs + 4 * hourMs;
  const second = first + weekMs;
  const cases = [
    { type: 'counter', shift: 1.15, lasting: 2 * hourMs, seed: 2 },
    { type: 'counter', shift: 1.2, lasting: 3 * hourMs, seed: 2 },
    { type: 'timer', shift: 1.15, lasting: 2 * hourMs, seed: 2 },
  ] as const;

  it.each(cases)('a $type ×$shift for $lasting ms (seed $seed)', ({ type, shift, lasting, seed }) => {
    const stepMs = 5 * minuteMs;
    const during = (t: number, at: number) => t >= at && t < at + lasting;
    const points = syntheticSeries({
      type,
      stepMs,
      from: monday,
      to: second + 3 * dayMs,
      seed,
      change: (t) => (during(t, first) || during(t, second) ? shift : 1),
    });
    const run = (taught: boolean) => {
      const engine = normalcyEngine.create(jobSettings[type]);
      return points.map(([t, value]) => engine.update(t, value, taught && during(t, first)));
    };
    const untaught = run(false);
    const taught = run(true);
    const around = (at: number) => [at - stepMs, at + lasting + 3 * stepMs] as const;
    // Both weeks page without the teaching (so this case is one the band does not learn on its own).
    expect(departing(within(untaught, ...around(first))).length, iso(first)).toBeGreaterThan(0);
    expect(departing(within(untaught, ...around(second))).length, iso(second)).toBeGreaterThan(0);
    // Taught: the first still paged as it did (teaching comes after), the second is inside.
    expect(departing(within(taught, ...around(first)))).toEqual(
      departing(within(untaught, ...around(first))),
    );
    expect(departing(within(taught, ...around(second)))).toEqual([]);
    // Until then nothing changed: teaching is about this time of week, the band it draws elsewhere is the same.
    expect(within(taught, monday, second - hourMs)).toEqual(within(untaught, monday, second - hourMs));
  });

  it('leaves the band as it was when nothing is taught', () => {
    const points = syntheticSeries({
      type: 'counter',
      stepMs: 5 * minuteMs,
      from: monday,
      to: monday + 2 * weekMs,
      seed: 7,
    });
    const plain = normalcyEngine.create(jobSettings.counter);
    const untaught = normalcyEngine.create(jobSettings.counter);
    for (const [t, value] of points) {
      expect(untaught.update(t, value, false)).toEqual(plain.update(t, value));
    }
    expect(untaught.toState()).toEqual(plain.toState());
  });
});
