import { defaultEngine, detectorEngine } from '../lib/bands/index.ts';
import { aggregate } from '../lib/metrics/aggregate.ts';
import { inferStep } from '../lib/metrics/step.ts';
import { readCorpus } from '../scripts/backtest-corpus.ts';

const [dir, name, engineName, from, to] = process.argv.slice(2);
const series = readCorpus(dir ?? '').find((s) => s.name === name);
if (!series) throw new Error('no series');
const points = series.timestamps.map((timestamp, i) => ({ timestamp, value: series.values[i] ?? 0 }));
const stepMs = inferStep(series.timestamps.slice(0, 60)) ?? 60_000;
const engine = (engineName === 'detector' ? detectorEngine : defaultEngine).create({
  kind: series.type === 'counter' ? 'count' : series.type === 'timer' ? 'latency' : 'auto',
});
const f = from ? Date.parse(from) : 0;
const t = to ? Date.parse(to) : Number.MAX_SAFE_INTEGER;
console.log(
  'incidents',
  series.incidents.map(([a, b]) => [new Date(a).toISOString(), new Date(b).toISOString()]),
);
for (const b of aggregate(series.type, points, stepMs)) {
  const r = engine.update(b.start, b.value);
  if (b.start >= f && b.start < t) {
    console.log(
      new Date(b.start).toISOString().slice(5, 16),
      b.value.toFixed(3),
      r.expected.toFixed(3),
      r.lower.toFixed(3),
      r.upper.toFixed(3),
      r.score.toFixed(2),
      r.anomaly ? 'A' : '',
      (r as { extreme?: boolean }).extreme ? 'X' : '',
    );
  }
}
const st = engine.toState() as Record<string, unknown>;
console.log(
  JSON.stringify({ ...st, daily: undefined, weekly: undefined, dailyScale: undefined }).slice(0, 1500),
);
