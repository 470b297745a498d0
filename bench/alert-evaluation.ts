/**
 * What alerting adds to the band job's work: evaluating the default band rule and a threshold rule over a
 * series' buckets, as a ratio to feeding the same buckets to the band engine (the baseline, measured in the
 * same process). Run: `npx tsx bench/alert-evaluation.ts`.
 */
import { type EvaluatedBucket, evaluateSeries } from '../lib/alerts/evaluate.ts';
import { emptyMonitor, type ThresholdRule } from '../lib/alerts/model.ts';
import { builtInDefaultRule } from '../lib/alerts/rules.ts';
import { defaultEngine } from '../lib/bands/index.ts';

const step = 300_000;
const start = Date.UTC(2025, 10, 3);
const count = 4 * 7 * 288; // four weeks of 5-minute buckets
const rounds = 15;

let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const values = Array.from({ length: count }, (_, index) => {
  const t = start + index * step;
  const spike = index % 997 === 0 ? 300 : 0;
  return 100 + 40 * Math.sin((2 * Math.PI * (t % 86_400_000)) / 86_400_000) + 6 * (random() - 0.5) + spike;
});

const threshold: ThresholdRule = {
  id: 'slo',
  name: 'slo',
  kind: 'threshold',
  enabled: true,
  selector: {},
  severity: null,
  reminderIntervalMs: null,
  direction: 'above',
  threshold: 250,
  debounce: { breaches: 2, outOf: 3 },
  minDurationMs: 0,
  recoveryBuckets: 3,
};

function feedEngine(): EvaluatedBucket[] {
  const engine = defaultEngine.create();
  return values.map((value, index) => {
    const timestamp = start + index * step;
    return { timestamp, value, band: engine.update(timestamp, value) };
  });
}

function evaluate(buckets: readonly EvaluatedBucket[]): number {
  const outcome = evaluateSeries({
    series: { id: '0123456789abcdef', name: 'bench', dimensions: {} },
    stepMs: step,
    monitor: emptyMonitor('0123456789abcdef'),
    rules: [builtInDefaultRule, threshold],
    buckets,
    now: start + count * step,
    link: (series, alert) => `http://dash/#/series/${series}?alert=${alert}`,
  });
  return outcome.transitions.length;
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)] ?? 0;
const engineTimes: number[] = [];
const evaluationTimes: number[] = [];
let transitions = 0;
for (let round = 0; round < rounds + 2; round++) {
  const engineStart = performance.now();
  const buckets = feedEngine();
  const engineEnd = performance.now();
  transitions = evaluate(buckets);
  const evaluationEnd = performance.now();
  if (round < 2) continue; // warm-up
  engineTimes.push(engineEnd - engineStart);
  evaluationTimes.push(evaluationEnd - engineEnd);
}
const ratio = median(evaluationTimes) / median(engineTimes);
console.log(
  `${count} buckets, 2 rules, ${transitions} transitions: rule evaluation takes ${ratio.toFixed(3)}x ` +
    `the engine's time for the same buckets (median of ${rounds} rounds; engine ${median(engineTimes).toFixed(1)} ms, ` +
    `evaluation ${median(evaluationTimes).toFixed(1)} ms on this machine)`,
);
