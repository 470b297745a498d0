import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EvaluatedBucket, evaluateSeries, evaluateSilence } from '../../lib/alerts/evaluate.ts';
import { emptyMonitor, type Rule } from '../../lib/alerts/model.ts';
import { builtInDefaultRule } from '../../lib/alerts/rules.ts';
import { normalcyEngine } from '../../lib/bands/index.ts';

const hostileValue = fc.oneof(
  fc.constantFrom(1e308, -1e308, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 0, 1e30, -1e30),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -100, max: 100 }),
);

const rules: Rule[] = [
  builtInDefaultRule,
  { ...builtInDefaultRule, id: 'sensitive', sensitivity: 0.9, immediateDeviation: 1, minDurationMs: 0 },
  { ...builtInDefaultRule, id: 'dull', sensitivity: 0.1, direction: 'above', reminderIntervalMs: 60_000 },
  {
    id: 'huge',
    name: 'huge',
    kind: 'threshold',
    enabled: true,
    selector: {},
    severity: null,
    reminderIntervalMs: 120_000,
    direction: 'above',
    threshold: 1e307,
    debounce: { breaches: 1, outOf: 1 },
    minDurationMs: 0,
    recoveryBuckets: 1,
  },
  {
    id: 'tiny',
    name: 'tiny',
    kind: 'threshold',
    enabled: true,
    selector: {},
    severity: null,
    reminderIntervalMs: null,
    direction: 'below',
    threshold: -1e307,
    debounce: { breaches: 2, outOf: 3 },
    minDurationMs: 0,
    recoveryBuckets: 2,
  },
  {
    id: 'silent',
    name: 'silent',
    kind: 'nodata',
    enabled: true,
    selector: {},
    severity: null,
    reminderIntervalMs: 60_000,
    afterMs: 180_000,
  },
];

/** Whether every number in a document survives JSON (no NaN or Infinity turned into null on the way). */
const survivesJson = (document: unknown): boolean =>
  JSON.stringify(JSON.parse(JSON.stringify(document))) === JSON.stringify(document) &&
  !/\bnull\b/.test(
    JSON.stringify(document, (_key, value) =>
      typeof value === 'number' && !Number.isFinite(value) ? null : value === null ? 0 : value,
    ),
  );

describe('Alert rules under extreme and adversarial values', () => {
  it('every rule judges any finite values without throwing, and what it records is finite', () => {
    fc.assert(
      fc.property(
        fc.array(hostileValue, { minLength: 1, maxLength: 80 }),
        fc.boolean(),
        (values, pastHistory) => {
          const series = { id: 's1', name: 'hostile', dimensions: { host: 'h' } };
          const engine = normalcyEngine.create({ minHistoryMs: 0 });
          const start = Date.UTC(2026, 0, 5);
          const stepMs = 60_000;
          // A calm history first (so that the band is narrow), then the hostile values.
          const calm = pastHistory ? Array.from({ length: 200 }, (_, index) => 50 + (index % 5)) : [];
          const buckets: EvaluatedBucket[] = [...calm, ...values].map((value, index) => {
            const timestamp = start + index * stepMs;
            return { timestamp, value, band: engine.update(timestamp, value) };
          });
          const now = start + buckets.length * stepMs + 10 * stepMs;
          const link = (seriesId: string, alertId: string) =>
            `http://x/#/series/${seriesId}?alert=${alertId}`;
          const outcome = evaluateSeries({
            series,
            stepMs,
            monitor: emptyMonitor('s1'),
            rules,
            buckets,
            now,
            link,
          });
          expect(survivesJson(outcome)).toBe(true);
          const silence = evaluateSilence({
            series: { ...series, lastTimestamp: now - 10 * stepMs },
            monitor: outcome.monitor,
            rules,
            now: now + 3_600_000,
            link,
          });
          expect(survivesJson(silence)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
