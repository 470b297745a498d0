import { describe, expect, it } from 'vitest';
import { weeklyEvent } from '../../lib/bands/weekly-events.ts';
import { hourMs, minuteMs, weekMs } from '../helpers/series.ts';
import { monday } from './band-results.ts';

/** A Thursday batch from 02:00 to 04:59 (its last bucket's start), a week before `week`. */
const thursday = monday + 3 * 24 * hourMs;
const run = (start: number, end: number, size: number) => [start, end, size];

describe('weeklyEvent', () => {
  const batch = (weeksBefore: number) =>
    run(
      thursday + 2 * hourMs - weeksBefore * weekMs,
      thursday + 4 * hourMs + 59 * minuteMs - weeksBefore * weekMs,
      50,
    );
  const at = (time: number) => thursday + time;

  it('is the size of a run at this time a week or two weeks before, and none elsewhere', () => {
    expect(weeklyEvent([...batch(1)], at(3 * hourMs), minuteMs)).toBe(50);
    expect(weeklyEvent([...batch(2)], at(3 * hourMs), minuteMs)).toBe(50);
    expect(weeklyEvent([...batch(1)], at(6 * hourMs), minuteMs)).toBe(0);
    // On opposite sides the two weeks say nothing.
    expect(
      weeklyEvent(
        [...batch(2), ...run(at(2 * hourMs) - weekMs, at(3 * hourMs) - weekMs, -20)],
        at(150 * minuteMs),
        minuteMs,
      ),
    ).toBe(0);
  });

  it('takes the larger of two runs the tolerance makes overlap: a batch, and the dip after it', () => {
    // Last week the series dipped below from 05:02 to 06:10 after the batch; at 04:58 both runs are within
    // the five minutes an event's timing may move. The batch is what 04:58 had: the band covers it.
    const dip = run(at(5 * hourMs + 2 * minuteMs) - weekMs, at(6 * hourMs + 10 * minuteMs) - weekMs, -11.5);
    const episodes = [...batch(2), ...batch(1), ...dip];
    expect(weeklyEvent(episodes, at(4 * hourMs + 58 * minuteMs), minuteMs)).toBe(50);
    expect(weeklyEvent(episodes, at(5 * hourMs + 30 * minuteMs), minuteMs)).toBe(-11.5);
  });
});
