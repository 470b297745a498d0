import { describe, expect, it } from 'vitest';
import {
  type EvaluatedBucket,
  evaluateSeries,
  evaluateSilence,
  type SeriesEvaluation,
} from '../../lib/alerts/evaluate.ts';
import { alertId } from '../../lib/alerts/ids.ts';
import {
  type BandRule,
  emptyMonitor,
  type NoDataRule,
  type Rule,
  type SeriesMonitor,
  type ThresholdRule,
} from '../../lib/alerts/model.ts';
import { builtInDefaultRule } from '../../lib/alerts/rules.ts';

const step = 300_000;
const t0 = Date.UTC(2025, 10, 24, 0, 0);
const series = { id: '0123456789abcdef', name: 'shop.requests', dimensions: { host: 'web-1' } };
const link = (seriesId: string, id: string) => `http://dash/#/series/${seriesId}?alert=${id}`;

/** A bucket judged against a band of 100 ± 20, the engine flagging what is outside. */
const judged = (
  index: number,
  value: number,
  band = { expected: 100, lower: 80, upper: 120 },
): EvaluatedBucket => ({
  timestamp: t0 + index * step,
  value,
  band: {
    timestamp: t0 + index * step,
    value,
    ...band,
    score: value > band.upper || value < band.lower ? 0.9 : 0.1,
    anomaly: value > band.upper || value < band.lower,
  },
});

const evaluate = (
  values: readonly number[],
  rules: readonly Rule[] = [builtInDefaultRule],
  overrides: Partial<SeriesEvaluation> = {},
) =>
  evaluateSeries({
    series,
    stepMs: step,
    monitor: emptyMonitor(series.id),
    rules,
    buckets: values.map((value, index) => judged(index, value)),
    now: t0 + values.length * step,
    link,
    ...overrides,
  });

/** The transitions as [kind, bucket index] pairs. */
const timeline = (outcome: ReturnType<typeof evaluate>) =>
  outcome.transitions.map((transition) => [transition.kind, (transition.at - t0) / step]);

const bandRule = (overrides: Partial<BandRule>): BandRule => ({
  ...builtInDefaultRule,
  id: 'custom',
  ...overrides,
});

describe('Band rules: the default rule', () => {
  it('opens at once on a single strong spike and resolves at the first bucket back after three clean ones', () => {
    const outcome = evaluate([100, 100, 300, 100, 100, 100, 100]);
    expect(timeline(outcome)).toEqual([
      ['OPEN', 2],
      ['RESOLVED', 3],
    ]);
    const id = alertId('default', series.id, t0 + 2 * step);
    expect(outcome.transitions.map((transition) => transition.id)).toEqual([`${id}.open`, `${id}.resolved`]);
    expect(outcome.alerts).toEqual([
      expect.objectContaining({ id, state: 'resolved', startedAt: t0 + 2 * step, resolvedAt: t0 + 3 * step }),
    ]);
    expect(outcome.transitions[0]?.notification).toMatchObject({
      state: 'OPEN',
      severity: 'critical',
      value: 300,
      expected: 100,
      lower: 80,
      upper: 120,
      reason: 'above its band for 5 min',
      link: `http://dash/#/series/${series.id}?alert=${id}`,
    });
  });

  it('needs two mild breaches out of three, and dates the alert from the first', () => {
    expect(timeline(evaluate([100, 125, 100, 100, 100, 100]))).toEqual([]);
    const outcome = evaluate([100, 125, 100, 126, 100, 100, 100]);
    expect(timeline(outcome)).toEqual([
      ['OPEN', 3],
      ['RESOLVED', 4],
    ]);
    expect(outcome.alerts[0]).toMatchObject({
      startedAt: t0 + step,
      openedAt: t0 + 3 * step,
      severity: 'warning',
    });
  });

  it('ignores departures smaller than the minimum deviation, however narrow the band', () => {
    const narrow = { expected: 100, lower: 99.5, upper: 100.5 };
    const buckets = [105, 106, 107, 108].map((value, index) => judged(index, value, narrow));
    expect(evaluate([], [builtInDefaultRule], { buckets }).transitions).toEqual([]);
    const loose = bandRule({ minDeviation: { absolute: 0, relative: 0.01 } });
    expect(evaluate([], [loose], { buckets }).transitions.map((transition) => transition.kind)).toEqual([
      'OPEN',
    ]);
  });

  it('pages a value the engine finds stuck, however near the expected value (the minimum deviation does not hide it)', () => {
    // A counter frozen at 101 for an hour against an expected 100: inside its band, 1% away, and stuck.
    const buckets = Array.from({ length: 12 }, (_, index): EvaluatedBucket => {
      const bucket = judged(index, 101);
      return { ...bucket, band: bucket.band && { ...bucket.band, anomaly: index >= 2, reason: 'stuck' } };
    });
    const outcome = evaluate([], [builtInDefaultRule], { buckets });
    // Opened after two buckets of it, and critical after 30 minutes, as any departure.
    expect(timeline(outcome)).toEqual([
      ['OPEN', 3],
      ['ESCALATED', 7],
    ]);
    expect(outcome.transitions[0]?.notification).toMatchObject({ reason: 'stuck at one value for 10 min' });
    expect(outcome.alerts[0]).toMatchObject({ startedAt: t0 + 2 * step, state: 'open' });
  });

  it('one alert per flapping episode: the recovery window bridges the gaps', () => {
    const flapping = [100, 300, 100, 300, 100, 100, 300, 100, 300, 100, 100, 100, 100];
    expect(timeline(evaluate(flapping))).toEqual([
      ['OPEN', 1],
      ['RESOLVED', 9],
    ]);
  });

  it('escalates to critical after 30 minutes out, which is notified once (ESCALATED)', () => {
    // Out from bucket 1: the end of bucket 6 is 30 minutes after the start of bucket 1.
    const values = [100, ...Array.from({ length: 8 }, () => 125), 100, 100, 100];
    const outcome = evaluate(values);
    expect(timeline(outcome)).toEqual([
      ['OPEN', 2],
      ['ESCALATED', 6],
      ['RESOLVED', 9],
    ]);
    expect(outcome.transitions.map((transition) => transition.notification.severity)).toEqual([
      'warning',
      'critical',
      'critical',
    ]);
    const id = alertId('default', series.id, t0 + step);
    expect(outcome.transitions[1]).toMatchObject({ id: `${id}.escalated`, kind: 'ESCALATED' });
    expect(outcome.transitions[1]?.notification).toMatchObject({
      state: 'ESCALATED',
      transitionId: `${id}.escalated`,
      value: 125,
      reason: 'above its band for 30 min',
    });
    expect(outcome.alerts[0]).toMatchObject({ severity: 'critical', state: 'resolved' });
  });
});

describe('Band rules: alerts follow what the band shows', () => {
  const usual = { expected: 100, lower: 80, upper: 120 };
  /** A bucket against a band (100 ± 20 unless given); `flagged` is the engine's verdict, by default "outside". */
  const at = (
    index: number,
    value: number,
    flagged = value > usual.upper || value < usual.lower,
    band = usual,
  ): EvaluatedBucket => ({
    timestamp: t0 + index * step,
    value,
    band: { timestamp: t0 + index * step, value, ...band, score: flagged ? 0.9 : 0.1, anomaly: flagged },
  });
  /** A series with a day of history behind it: its band is learned, so where a value lies counts. */
  const warm: SeriesMonitor = { ...emptyMonitor(series.id), firstBucketAt: t0 - 86_400_000 };
  const run = (
    buckets: readonly EvaluatedBucket[],
    rules: readonly Rule[] = [builtInDefaultRule],
    monitor = warm,
  ) => evaluate([], rules, { buckets, monitor, now: t0 + buckets.length * step });
  const repeat = (count: number, value: number) => Array.from({ length: count }, () => value);
  /**
   * Two hours out from bucket 3: 1.5, 1.75 and 2 band half-widths, then 3.8 (critical), then three times the
   * expected value; back inside from bucket 27.
   */
  const departure = [100, 100, 100, 130, 135, 140, 176, ...repeat(20, 300), 100, 100, 100, 100];

  it('two hours outside the band: one OPEN, one ESCALATED when it passes three half-widths, one RESOLVED', () => {
    const outcome = run(departure.map((value, index) => at(index, value)));
    expect(timeline(outcome)).toEqual([
      ['OPEN', 4],
      ['ESCALATED', 6],
      ['RESOLVED', 27],
    ]);
    const id = alertId('default', series.id, t0 + 3 * step);
    expect(outcome.transitions.map((transition) => transition.id)).toEqual([
      `${id}.open`,
      `${id}.escalated`,
      `${id}.resolved`,
    ]);
    expect(outcome.transitions[0]?.notification).toMatchObject({ severity: 'warning', value: 135 });
    expect(outcome.transitions[1]?.notification).toMatchObject({
      state: 'ESCALATED',
      severity: 'critical',
      value: 176,
      expected: 100,
      lower: 80,
      upper: 120,
      reason: 'above its band for 20 min, 3.8 band half-widths from the expected value at worst',
    });
    expect(outcome.alerts).toEqual([
      expect.objectContaining({ id, state: 'resolved', severity: 'critical', peakDeviation: 10 }),
    ]);
  });

  it('an engine that calls only the first bucket of a departure new: every bucket outside its band counts', () => {
    const firstOnly = departure.map((value, index) => at(index, value, index === 3));
    const outcome = run(firstOnly);
    expect(timeline(outcome)).toEqual([
      ['OPEN', 4],
      ['ESCALATED', 6],
      ['RESOLVED', 27],
    ]);
    expect(outcome.alerts[0]).toMatchObject({ severity: 'critical', peakDeviation: 10 });
    // Before a day of history the band is still being learned: only the engine's verdict counts.
    expect(timeline(run(firstOnly, [builtInDefaultRule], emptyMonitor(series.id)))).toEqual([]);
  });

  it('a departure that opens critical (a tripled latency) sends no separate ESCALATED', () => {
    const tripled = [100, 100, ...repeat(24, 300), 100, 100, 100];
    for (const flagged of [(index: number) => index >= 2 && index < 26, (index: number) => index === 2]) {
      const outcome = run(tripled.map((value, index) => at(index, value, flagged(index))));
      expect(timeline(outcome)).toEqual([
        ['OPEN', 2],
        ['RESOLVED', 26],
      ]);
      expect(outcome.transitions[0]?.notification.severity).toBe('critical');
    }
  });

  it('one bucket outside does not open (two of three) unless it is immediateDeviation half-widths away', () => {
    expect(timeline(run([100, 130, 100, 100, 100].map((value, index) => at(index, value))))).toEqual([]);
    expect(timeline(run([100, 139, 100, 100, 100].map((value, index) => at(index, value))))).toEqual([]);
    expect(timeline(run([100, 140, 100, 100, 100].map((value, index) => at(index, value))))).toEqual([
      ['OPEN', 1],
      ['RESOLVED', 2],
    ]);
    const patient = bandRule({ immediateDeviation: null });
    const spike = [100, 300, 100, 100, 100].map((value, index) => at(index, value));
    expect(timeline(run(spike, [patient]))).toEqual([]);
    expect(
      timeline(run([100, 130, 100, 130, 100, 100, 100].map((value, index) => at(index, value)))),
    ).toEqual([
      ['OPEN', 3],
      ['RESOLVED', 4],
    ]);
  });

  it('every breaching bucket is the minimum deviation away: nearer ones neither open nor hold an alert', () => {
    const narrow = { expected: 100, lower: 98, upper: 102 };
    // Two hours at 5% above a flat series: outside its narrow band, flagged, but under the 10% minimum.
    const wiggle = repeat(24, 105).map((value, index) => at(index, value, true, narrow));
    expect(run(wiggle).transitions).toEqual([]);
    // Far out of the narrow band (opens at once), then 5% out: back inside as far as the rule is concerned.
    const outage = [130, 130, 105, 105, 105, 105].map((value, index) => at(index, value, true, narrow));
    expect(timeline(run(outage))).toEqual([
      ['OPEN', 0],
      ['RESOLVED', 2],
    ]);
  });

  it('severity follows the buckets still out: 25 minutes out stays a warning through the recovery', () => {
    const outcome = run([100, ...repeat(5, 125), 100, 100, 100, 100].map((value, index) => at(index, value)));
    expect(timeline(outcome)).toEqual([
      ['OPEN', 2],
      ['RESOLVED', 6],
    ]);
    expect(outcome.alerts[0]).toMatchObject({ severity: 'warning', state: 'resolved' });
  });
});

describe('Band rules: settings', () => {
  it('watches only the direction asked for', () => {
    const above = bandRule({ direction: 'above' });
    expect(timeline(evaluate([100, 10, 10, 10, 100, 100, 100], [above]))).toEqual([]);
    expect(timeline(evaluate([100, 300, 100, 100, 100], [above]))).toEqual([
      ['OPEN', 1],
      ['RESOLVED', 2],
    ]);
  });

  it('widens the band at low sensitivity and narrows it at high sensitivity (after a day of history)', () => {
    const relaxed = bandRule({
      sensitivity: 0,
      immediateDeviation: null,
      debounce: { breaches: 1, outOf: 1 },
    });
    expect(timeline(evaluate([100, 300, 100, 100, 100], [relaxed]))).toEqual([]);
    const warmMonitor: SeriesMonitor = { ...emptyMonitor(series.id), firstBucketAt: t0 - 86_400_000 };
    expect(timeline(evaluate([100, 130, 100, 100, 100], [relaxed], { monitor: warmMonitor }))).toEqual([]);
    expect(timeline(evaluate([100, 150, 100, 100, 100], [relaxed], { monitor: warmMonitor }))).toEqual([
      ['OPEN', 1],
      ['RESOLVED', 2],
    ]);
    const keen = bandRule({ sensitivity: 1, debounce: { breaches: 1, outOf: 1 } });
    expect(timeline(evaluate([100, 115, 100, 100, 100], [keen]))).toEqual([]);
    const outcome = evaluate([100, 115, 100, 100, 100], [keen], { monitor: warmMonitor });
    expect(timeline(outcome)).toEqual([
      ['OPEN', 1],
      ['RESOLVED', 2],
    ]);
    expect(outcome.transitions[0]?.notification).toMatchObject({ lower: 90, upper: 110 });
  });

  it('waits for the minimum duration before opening', () => {
    const patient = bandRule({ minDurationMs: 15 * 60_000, debounce: { breaches: 1, outOf: 1 } });
    expect(timeline(evaluate([100, 300, 300, 100, 100, 100, 100], [patient]))).toEqual([]);
    const outcome = evaluate([100, 300, 300, 300, 100, 100, 100], [patient]);
    expect(timeline(outcome)).toEqual([
      ['OPEN', 3],
      ['RESOLVED', 4],
    ]);
    expect(outcome.alerts[0]?.startedAt).toBe(t0 + step);
  });

  it('sends reminders at the interval while the alert stays open', () => {
    const nagging = bandRule({ reminderIntervalMs: 15 * 60_000 });
    const outcome = evaluate([100, ...Array.from({ length: 8 }, () => 300), 100, 100, 100], [nagging]);
    expect(timeline(outcome)).toEqual([
      ['OPEN', 1],
      ['REMINDER', 4],
      ['REMINDER', 7],
      ['RESOLVED', 9],
    ]);
    expect(outcome.transitions[2]?.id).toMatch(/\.reminder\.2$/);
  });

  it('skips buckets excluded from learning (no band) and keeps counting after them', () => {
    const buckets = [judged(0, 100), { timestamp: t0 + step, value: 300, band: undefined }, judged(2, 100)];
    expect(evaluate([], [builtInDefaultRule], { buckets }).transitions).toEqual([]);
  });
});

describe('Threshold rules', () => {
  const threshold: ThresholdRule = {
    id: 'slow',
    name: 'Login slower than 500 ms',
    kind: 'threshold',
    enabled: true,
    selector: { metric: 'shop.*' },
    severity: 'critical',
    reminderIntervalMs: null,
    direction: 'above',
    threshold: 500,
    debounce: { breaches: 2, outOf: 3 },
    minDurationMs: 0,
    recoveryBuckets: 2,
  };

  it('fires on the value alone, even inside a band (or without one), with M of N', () => {
    const inBand = { expected: 900, lower: 800, upper: 1000 };
    const buckets = [
      judged(0, 400, inBand),
      judged(1, 900, inBand),
      { timestamp: t0 + 2 * step, value: 900, band: undefined },
      judged(3, 400, inBand),
      judged(4, 400, inBand),
    ];
    const outcome = evaluate([], [threshold], { buckets });
    expect(timeline(outcome)).toEqual([
      ['OPEN', 2],
      ['RESOLVED', 3],
    ]);
    expect(outcome.transitions[0]?.notification).toMatchObject({
      severity: 'critical',
      threshold: 500,
      value: 900,
      reason: 'above 500 for 10 min',
    });
  });

  it('stands beside the default band rule instead of replacing it', () => {
    const outcome = evaluate([100, 600, 600, 100, 100, 100, 100], [builtInDefaultRule, threshold]);
    expect(outcome.alerts.map((alert) => alert.ruleId).sort()).toEqual(['default', 'slow']);
  });
});

describe('Rule changes and re-runs', () => {
  it('a user band rule that matches a series replaces the default rule for it', () => {
    const mine = bandRule({ selector: { metric: 'shop.*', dimensions: { host: 'web-*' } } });
    const outcome = evaluate([100, 300, 100, 100, 100], [builtInDefaultRule, mine]);
    expect(outcome.alerts.map((alert) => alert.ruleId)).toEqual(['custom']);
    const elsewhere = bandRule({ selector: { metric: 'billing.*' } });
    expect(evaluate([100, 300], [builtInDefaultRule, elsewhere]).alerts.map((alert) => alert.ruleId)).toEqual(
      ['default'],
    );
  });

  it('resolves an open alert whose rule was deleted or disabled', () => {
    const opened = evaluate([100, 300]);
    const disabled = { ...builtInDefaultRule, enabled: false };
    const later = evaluate([], [disabled], {
      monitor: opened.monitor,
      buckets: [judged(2, 300)],
      now: t0 + 3 * step,
    });
    expect(timeline(later)).toEqual([['RESOLVED', 3]]);
    expect(later.monitor.rules).toEqual({});
  });

  it('skips buckets it has evaluated, so a re-run after a crash records nothing twice', () => {
    const values = [100, 300, 300, 100, 100, 100, 100];
    const first = evaluate(values.slice(0, 3));
    const buckets = values.map((value, index) => judged(index, value));
    const rerun = evaluate([], [builtInDefaultRule], { monitor: first.monitor, buckets });
    expect(timeline(first)).toEqual([['OPEN', 1]]);
    expect(timeline(rerun)).toEqual([['RESOLVED', 3]]);
    expect(rerun.transitions[0]?.alertId).toBe(first.transitions[0]?.alertId);
  });

  it('gives the same ids to the same data (two overlapping runs record one alert)', () => {
    const a = evaluate([100, 300, 100, 100, 100]);
    const b = evaluate([100, 300, 100, 100, 100]);
    expect(b.transitions.map((transition) => transition.id)).toEqual(
      a.transitions.map((transition) => transition.id),
    );
  });
});

describe('No-data rules', () => {
  const silence: NoDataRule = {
    id: 'silence',
    name: 'Shop went quiet',
    kind: 'nodata',
    enabled: true,
    selector: { metric: 'shop.*' },
    severity: null,
    reminderIntervalMs: null,
    afterMs: 10 * 60_000,
  };
  const silent = (lastTimestamp: number, now: number, monitor = emptyMonitor(series.id)) =>
    evaluateSilence({ series: { ...series, lastTimestamp }, monitor, rules: [silence], now, link });

  it('opens once the series has been silent for the rule time, and resolves when data is back', () => {
    expect(silent(t0, t0 + 9 * 60_000).transitions).toEqual([]);
    const opened = silent(t0, t0 + 12 * 60_000);
    expect(opened.transitions.map((transition) => [transition.kind, transition.at])).toEqual([
      ['OPEN', t0 + 10 * 60_000],
    ]);
    expect(opened.transitions[0]?.notification).toMatchObject({
      reason: 'no data for 10 min',
      value: null,
      severity: 'warning',
    });
    // Thirty minutes of silence make it critical: escalated once, dated when the silence reached them.
    const escalated = silent(t0, t0 + 60 * 60_000, opened.monitor);
    expect(escalated.transitions.map((transition) => [transition.kind, transition.at])).toEqual([
      ['ESCALATED', t0 + 30 * 60_000],
    ]);
    expect(escalated.transitions[0]?.notification).toMatchObject({
      severity: 'critical',
      reason: 'no data for 30 min',
    });
    expect(silent(t0, t0 + 70 * 60_000, escalated.monitor).transitions).toEqual([]);
    const back = silent(t0 + 61 * 60_000, t0 + 62 * 60_000, escalated.monitor);
    expect(back.transitions.map((transition) => [transition.kind, transition.at])).toEqual([
      ['RESOLVED', t0 + 61 * 60_000],
    ]);
    expect(back.alerts[0]).toMatchObject({ state: 'resolved', startedAt: t0 });
  });
});

describe('Explanations: one line per alert and notification', () => {
  const warm: SeriesMonitor = { ...emptyMonitor(series.id), firstBucketAt: t0 - 86_400_000 };
  /** Out from bucket 3 (00:15 UTC on Monday), critical at bucket 6, back inside from bucket 27. */
  const departure = [
    100,
    100,
    100,
    130,
    135,
    140,
    176,
    ...Array.from({ length: 20 }, () => 300),
    100,
    100,
    100,
  ];
  const run = (explain?: SeriesEvaluation['explain']) =>
    evaluate(departure, [builtInDefaultRule], {
      monitor: warm,
      ...(explain && { explain }),
    });

  it('tells each transition its bucket: season in the time zone set, usual, now, how far, since when', () => {
    const outcome = run({ timeZone: 'Europe/Paris', unit: 'ms' });
    expect(
      outcome.transitions.map((transition) => [transition.kind, transition.notification.explanation]),
    ).toEqual([
      [
        'OPEN',
        'Monday 01:20 usually 100 ms, now 135 ms, 35% above, for 10 min (1.8 band half-widths out; band 80 to 120 ms)',
      ],
      [
        'ESCALATED',
        'Monday 01:30 usually 100 ms, now 176 ms, 76% above, for 20 min (3.8 band half-widths out; band 80 to 120 ms)',
      ],
      [
        'RESOLVED',
        'Monday 01:20 usually 100 ms, was 135 ms, 35% above, for 2 h until 03:15 (10 band half-widths out at worst; band 80 to 120 ms)',
      ],
    ]);
    // The alert keeps the latest line: told in the past once it resolved.
    expect(outcome.alerts[0]?.explanation).toBe(outcome.transitions[2]?.notification.explanation);
  });

  it('tells seasons and times in UTC unless a time zone is set', () => {
    const opened = run().transitions[0]?.notification.explanation;
    expect(opened).toBe(
      'Monday 00:20 usually 100, now 135, 35% above, for 10 min (1.8 band half-widths out; band 80 to 120)',
    );
  });

  it('keeps an open alert’s line as fresh as its latest bucket out, and its peak', () => {
    const outcome = evaluate(departure.slice(0, 8), [builtInDefaultRule], { monitor: warm });
    expect(outcome.alerts.map((alert) => [alert.severity, alert.peakDeviation, alert.explanation])).toEqual([
      [
        'critical',
        10,
        'Monday 00:35 usually 100, now 300, 200% above, for 25 min (10 band half-widths out; band 80 to 120)',
      ],
    ]);
    const later = evaluate(departure, [builtInDefaultRule], {
      monitor: outcome.monitor,
      buckets: departure.map((value, index) => judged(index, value)).slice(8, 10),
      now: t0 + 10 * step,
    });
    expect(later.transitions).toEqual([]);
    expect(later.alerts.map((alert) => alert.explanation)).toEqual([
      'Monday 00:45 usually 100, now 300, 200% above, for 35 min (10 band half-widths out; band 80 to 120)',
    ]);
  });

  it('explains a threshold alert', () => {
    const slow: ThresholdRule = {
      id: 'slow',
      name: 'Slow',
      kind: 'threshold',
      enabled: true,
      selector: {},
      severity: 'warning',
      reminderIntervalMs: null,
      direction: 'above',
      threshold: 500,
      debounce: { breaches: 1, outOf: 1 },
      minDurationMs: 0,
      recoveryBuckets: 1,
    };
    const outcome = evaluate([100, 730, 800, 100], [slow]);
    expect(outcome.transitions.map((transition) => transition.notification.explanation)).toEqual([
      'above 500 since 00:05, now 730 (46% over, for 5 min)',
      'above 500 from 00:05 to 00:15 (10 min; 730 when it opened)',
    ]);
  });

  it('explains a no-data alert as the silence grows', () => {
    const silence: NoDataRule = {
      id: 'silence',
      name: 'Quiet',
      kind: 'nodata',
      enabled: true,
      selector: {},
      severity: null,
      reminderIntervalMs: null,
      afterMs: 10 * 60_000,
    };
    const silent = (lastTimestamp: number, now: number, monitor = emptyMonitor(series.id)) =>
      evaluateSilence({ series: { ...series, lastTimestamp }, monitor, rules: [silence], now, link });
    const opened = silent(t0, t0 + 12 * 60_000);
    expect(opened.alerts[0]?.explanation).toBe('no data since 00:00 (10 min)');
    const escalated = silent(t0, t0 + 60 * 60_000, opened.monitor);
    expect(escalated.transitions[0]?.notification.explanation).toBe('no data since 00:00 (30 min)');
    expect(escalated.alerts[0]?.explanation).toBe('no data since 00:00 (1 h)');
    const back = silent(t0 + 61 * 60_000, t0 + 62 * 60_000, escalated.monitor);
    expect(back.alerts[0]?.explanation).toBe('no data from 00:00 to 01:01 (1 h 1 min)');
  });

  it('an alert opened before explanations existed still resolves, and gets its line then', () => {
    const opened = evaluate(departure.slice(0, 8), [builtInDefaultRule], { monitor: warm });
    const rule = opened.monitor.rules.default;
    const alert = rule?.open?.alert;
    if (!rule?.open || !alert) throw new Error('the departure should have opened an alert');
    const { explanation: _, ...older } = alert;
    const monitor: SeriesMonitor = {
      ...opened.monitor,
      rules: { default: { ...rule, open: { ...rule.open, alert: older } } },
    };
    const resolved = evaluate(departure, [builtInDefaultRule], {
      monitor,
      buckets: departure.map((value, index) => judged(index, value)).slice(8),
    });
    expect(resolved.alerts[0]).toMatchObject({
      state: 'resolved',
      explanation:
        'Monday 00:20 usually 100, was 135, 35% above, for 2 h until 02:15 (10 band half-widths out at worst; band 80 to 120)',
    });
  });
});
