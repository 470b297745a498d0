import { describe, expect, it } from 'vitest';
import { type EvaluatedBucket, evaluateSeries } from '../../lib/alerts/evaluate.ts';
import {
  type BandRule,
  emptyMonitor,
  type Mute,
  type NoDataRule,
  type Rule,
  type ThresholdRule,
} from '../../lib/alerts/model.ts';
import {
  applicability,
  parseReplayRequest,
  type ReplayInput,
  replayLimits,
  replayRule,
  replayWindow,
} from '../../lib/alerts/replay.ts';
import { builtInDefaultRule } from '../../lib/alerts/rules.ts';
import { ValidationError } from '../../lib/errors.ts';
import { minuteMs } from '../../lib/time.ts';
import { judgedBucket } from '../helpers/judged-bucket.ts';

const t0 = Date.UTC(2025, 10, 24, 0, 0);
const series = { id: '0123456789abcdef', name: 'shop.requests', dimensions: { host: 'web-1' } };

/** A bucket judged against a band of 100 ± 20, the engine flagging what is outside. */
const judged = (index: number, value: number): EvaluatedBucket =>
  judgedBucket(t0 + index * minuteMs, value, value > 120 || value < 80 ? 0.9 : 0.1);

const threshold: ThresholdRule = {
  id: 'slo',
  name: 'slo',
  kind: 'threshold',
  enabled: true,
  selector: { metric: 'shop.requests' },
  severity: null,
  reminderIntervalMs: null,
  direction: 'above',
  threshold: 150,
  debounce: { breaches: 1, outOf: 1 },
  minDurationMs: 0,
  recoveryBuckets: 1,
};

const input = (values: readonly number[], overrides: Partial<ReplayInput> = {}): ReplayInput => ({
  series,
  stepMs: minuteMs,
  rule: builtInDefaultRule,
  buckets: values.map((value, index) => judged(index, value)),
  firstBucketAt: t0,
  window: { from: t0, to: t0 + values.length * minuteMs },
  mutes: [],
  now: t0 + values.length * minuteMs,
  ...overrides,
});

/** 20 quiet buckets, 10 at 0 (an outage), 20 quiet again. */
const outage = [...Array(20).fill(100), ...Array(10).fill(0), ...Array(20).fill(100)];

describe('replayRule', () => {
  it('opens and resolves what the band job would, with the same alert ids, and pages it', () => {
    const result = replayRule(input(outage));
    const live = evaluateSeries({
      series,
      stepMs: minuteMs,
      monitor: { ...emptyMonitor(series.id), firstBucketAt: t0 },
      rules: [builtInDefaultRule],
      buckets: input(outage).buckets,
      now: t0 + 50 * minuteMs,
      link: () => '',
    });
    expect(result.alertCount).toBe(1);
    expect(result.pagedCount).toBe(1);
    const [replayed] = result.alerts;
    expect(replayed?.alert).toEqual({ ...live.alerts.at(-1), paged: true });
    expect(replayed?.alert).toMatchObject({ startedAt: t0 + 20 * minuteMs, state: 'resolved' });
    const openedAt = replayed?.alert.openedAt;
    expect(replayed?.transitions).toEqual([
      {
        kind: 'OPEN',
        at: openedAt,
        severity: live.transitions[0]?.notification.severity,
        value: 0,
        reason: replayed?.alert.reason,
        paged: true,
        pagedAt: openedAt,
        notPagedBecause: null,
      },
      expect.objectContaining({ kind: 'RESOLVED', at: replayed?.alert.resolvedAt, paged: true }),
    ]);
    expect(replayed?.transitionCount).toBe(live.transitions.length);
  });

  it('replays a rule on the series whatever its selector or switch say (applicability tells whether it would)', () => {
    const elsewhere: Rule = { ...threshold, enabled: false, selector: { metric: 'other.*' } };
    const result = replayRule(input([100, 200, 100], { rule: elsewhere }));
    expect(result.alertCount).toBe(1);
    expect(result.alerts[0]?.alert).toMatchObject({ ruleId: 'slo', startedAt: t0 + minuteMs });
  });

  it('lists the newest alerts first, at most 100, and counts them all', () => {
    // An episode every 3 buckets: 150 alerts.
    const values = Array.from({ length: 450 }, (_, index) => (index % 3 === 0 ? 200 : 100));
    const result = replayRule(input(values, { rule: threshold }));
    expect(result.alertCount).toBe(150);
    expect(result.pagedCount).toBe(150);
    expect(result.alerts).toHaveLength(replayLimits.maxAlerts);
    expect(result.alerts[0]?.alert.startedAt).toBe(t0 + 447 * minuteMs);
    expect(result.alerts.at(-1)?.alert.startedAt).toBe(t0 + 150 * minuteMs);
  });

  it('keeps the first transitions of a long alert and its last, counting them all', () => {
    const reminding: Rule = { ...threshold, reminderIntervalMs: minuteMs };
    const values = [...Array(30).fill(200), 100];
    const [replayed] = replayRule(input(values, { rule: reminding })).alerts;
    // OPEN at 0, a reminder each bucket from 1 to 29, ESCALATED once it has been out for 30 minutes (critical),
    // RESOLVED at 30.
    expect(replayed?.transitionCount).toBe(32);
    expect(replayed?.transitions.map((transition) => transition.kind)).toEqual([
      'OPEN',
      ...Array(replayLimits.maxTransitionsPerAlert - 2).fill('REMINDER'),
      'RESOLVED',
    ]);
    expect(replayed?.transitions.every((transition) => transition.paged)).toBe(true);
  });

  it('answers in under 256 KB at its worst: the newest 100 alerts, each with its first transitions and its last', () => {
    // Ten breaching buckets in every twelve, a reminder each minute: 417 alerts of 12 transitions each.
    const values = Array.from({ length: 5_000 }, (_, index) => (index % 12 < 10 ? 200 : 100));
    const result = replayRule(input(values, { rule: { ...threshold, reminderIntervalMs: minuteMs } }));
    expect(result.alertCount).toBe(417);
    expect(result.alerts.every((entry) => entry.transitions.length === 8)).toBe(true);
    expect(result.alerts[1]?.transitionCount).toBe(11);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(256 * 1024);
  });

  it('applies mutes as delivery does: an episode inside one is not paged, one that outlasts it is paged at its end', () => {
    const muteOver = (start: number, end: number): Mute => ({
      id: 'quiet',
      ruleId: null,
      selector: null,
      schedule: { kind: 'once', start: t0 + start * minuteMs, end: t0 + end * minuteMs },
      reason: '',
      createdAt: t0,
    });
    const inside = replayRule(input(outage, { mutes: [muteOver(15, 40)] }));
    expect(inside.pagedCount).toBe(0);
    expect(inside.alerts[0]?.alert.paged).toBe(false);
    expect(inside.alerts[0]?.transitions.map((transition) => transition.notPagedBecause)).toEqual([
      'muted',
      'not paged when it opened',
    ]);
    const outlasting = replayRule(input(outage, { mutes: [muteOver(15, 25)] }));
    expect(outlasting.pagedCount).toBe(1);
    expect(outlasting.alerts[0]?.transitions[0]).toMatchObject({
      kind: 'OPEN',
      at: outlasting.alerts[0]?.alert.openedAt,
      paged: true,
      pagedAt: t0 + 25 * minuteMs,
    });
  });

  it('waits a day from the series first bucket, not the window start, for a band rule at another sensitivity', () => {
    const sharper: BandRule = { ...builtInDefaultRule, id: 'sharp', sensitivity: 0.7 };
    const fromLongAgo = replayRule(input(outage, { rule: sharper, firstBucketAt: t0 - 2 * 86_400_000 }));
    expect(fromLongAgo.alertCount).toBe(1);
    const newSeries = replayRule(input(outage, { rule: sharper, firstBucketAt: t0 }));
    expect(newSeries.alertCount).toBe(0);
  });

  it('replays a no-data rule over the gaps, and a silence still running at the end stays open', () => {
    const silent: NoDataRule = {
      id: 'silent',
      name: 'silent',
      kind: 'nodata',
      enabled: true,
      selector: {},
      severity: null,
      reminderIntervalMs: null,
      afterMs: 10 * minuteMs,
    };
    // Data at 0..4, nothing from 5 to 24, data at 25..29, then nothing until the window ends at 60.
    const buckets = [0, 1, 2, 3, 4, 25, 26, 27, 28, 29].map((index) => judged(index, 100));
    const result = replayRule(
      input([], {
        rule: silent,
        buckets,
        window: { from: t0, to: t0 + 60 * minuteMs },
        now: t0 + 60 * minuteMs,
      }),
    );
    expect(result.alertCount).toBe(2);
    expect(result.alerts.map(({ alert }) => [alert.startedAt, alert.openedAt, alert.resolvedAt])).toEqual([
      [t0 + 29 * minuteMs, t0 + 39 * minuteMs, null],
      [t0 + 4 * minuteMs, t0 + 14 * minuteMs, t0 + 25 * minuteMs],
    ]);
    expect(result.alerts[1]?.alert.reason).toBe('no data for 10 min');
  });
});

describe('applicability', () => {
  const userBand: BandRule = {
    ...builtInDefaultRule,
    id: 'shop',
    name: 'shop',
    selector: { metric: 'shop.*' },
  };

  it('says a rule applies when it is enabled and selects the series', () => {
    expect(applicability(threshold, [], series)).toEqual({ applies: true, note: null });
  });

  it('says why not: disabled, another selector, or the default rule replaced by a band rule of yours', () => {
    expect(applicability({ ...threshold, enabled: false }, [], series).note).toMatch(/disabled/);
    expect(applicability({ ...threshold, selector: { metric: 'db.*' } }, [], series).note).toMatch(
      /selector does not match/,
    );
    expect(applicability(builtInDefaultRule, [userBand], series)).toEqual({
      applies: false,
      note: 'the band rule "shop" selects this series and replaces the default rule on it',
    });
  });

  it('judges a draft in place of the stored rule with its id', () => {
    const disabledShop = { ...userBand, enabled: false };
    // The stored "shop" rule is replaced by the disabled draft: the default rule is back on the series.
    expect(applicability(builtInDefaultRule, [disabledShop], series).applies).toBe(true);
    expect(applicability(disabledShop, [userBand], series).applies).toBe(false);
  });
});

describe('parseReplayRequest', () => {
  const problemsOf = (body: unknown) => {
    try {
      parseReplayRequest(JSON.stringify(body));
    } catch (error) {
      if (error instanceof ValidationError) return (error.problems ?? []).map((problem) => problem.field);
      throw error;
    }
    return [];
  };

  it('takes a saved rule id or a draft, and times as epoch ms or ISO-8601', () => {
    expect(
      parseReplayRequest('{"ruleId":"default","from":"2025-11-24T00:00:00Z","to":1764028800000}'),
    ).toEqual({
      ruleId: 'default',
      rule: undefined,
      from: Date.UTC(2025, 10, 24),
      to: 1_764_028_800_000,
    });
    const { rule } = parseReplayRequest('{"rule":{"kind":"threshold","direction":"below","threshold":3}}');
    expect(rule).toMatchObject({ id: 'draft', name: 'draft', kind: 'threshold', recoveryBuckets: 3 });
  });

  it("names every wrong field in one 400, a draft's fields under rule.", () => {
    expect(() => parseReplayRequest('{"ruleId":"default","rule":{}}')).toThrow(ValidationError);
    expect(
      problemsOf({
        rule: { kind: 'band', debounce: { breaches: 5, outOf: 3 }, colour: 'red' },
        from: 'yesterday',
        seriesId: 'x',
      }).sort(),
    ).toEqual(['from', 'rule.colour', 'rule.debounce.breaches', 'seriesId'].sort());
    expect(problemsOf({ rule: { kind: 'sometimes' } })).toEqual(['rule.kind']);
    expect(problemsOf({})).toEqual(['rule']);
    expect(problemsOf({ ruleId: 'a', rule: { kind: 'band' } })).toEqual(['ruleId']);
    expect(problemsOf({ ruleId: '-bad' })).toEqual(['ruleId']);
    expect(problemsOf({ rule: [] })).toEqual(['rule']);
    expect(problemsOf({ ruleId: 'a', to: 1_700_000_000 })).toEqual(['to']);
  });

  it('refuses a body that is not a JSON object', () => {
    expect(() => parseReplayRequest('[]')).toThrow(/must be a JSON object/);
    expect(() => parseReplayRequest('{')).toThrow(/not valid JSON/);
  });
});

describe('replayWindow', () => {
  const now = t0 + 30_000;

  it('defaults to the week before now, widened to whole steps', () => {
    expect(replayWindow({ from: undefined, to: undefined }, 5 * minuteMs, now)).toEqual({
      from: t0 - 7 * 86_400_000,
      to: t0 + 5 * minuteMs,
    });
  });

  it('refuses a range backwards, longer than 400 days, or over 50,000 buckets, saying what would do', () => {
    expect(() => replayWindow({ from: now, to: now - 1 }, minuteMs, now)).toThrow(
      /"from" .*before|before "to"/,
    );
    expect(() => replayWindow({ from: now - 401 * 86_400_000, to: now }, 86_400_000, now)).toThrow(
      /400 days/,
    );
    expect(() => replayWindow({ from: now - 40 * 86_400_000, to: now }, minuteMs, now)).toThrow(
      "invalid replay request: from makes a range of 57601 buckets of this series' step (1 min), more than 50000: ask for 34 days or less",
    );
    expect(replayWindow({ from: now - 40 * 86_400_000, to: now }, 5 * minuteMs, now).from).toBe(
      t0 - 40 * 86_400_000,
    );
  });
});
