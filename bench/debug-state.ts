import { readCorpus } from '../scripts/backtest-corpus.ts';
import { normalcy6Engine } from '../lib/bands/normalcy6.ts';
import { aggregate } from '../lib/metrics/aggregate.ts';
import { inferStep } from '../lib/metrics/step.ts';
import { tailShape, independence, pairDeviationAt, deviationAt } from '../lib/bands/tails.ts';
const [dir, name, at] = process.argv.slice(2);
const series = readCorpus(dir ?? '').find((s) => s.name === name);
if (!series) throw new Error('no series');
const points = series.timestamps.map((timestamp, i) => ({ timestamp, value: series.values[i] ?? 0 }));
const stepMs = inferStep(series.timestamps.slice(0, 60)) ?? 60_000;
const engine = normalcy6Engine.create({ kind: series.type === 'counter' ? 'count' : series.type === 'timer' ? 'latency' : 'auto' });
const stop = Date.parse(at ?? '');
for (const b of aggregate(series.type, points, stepMs)) { if (b.start >= stop) break; engine.update(b.start, b.value); }
const s = engine.toState() as any;
const f = (a: number[]) => a.map((c: number) => (c / s.counted).toExponential(1)).join(' ');
console.log('counted', s.counted.toFixed(0), 'scale', s.scale, 'level', s.level, 'season', s.season, 'edges', s.edgeUp, s.edgeDown, 'errs', s.errNone, s.errDaily, s.errWeekly);
console.log('up  ', f(s.up)); console.log('down', f(s.down)); console.log('pUp ', f(s.pairUp)); console.log('pDn ', f(s.pairDown));
console.log('weekday', JSON.stringify(s.weekday));
{
  const su = tailShape(s.up, s.counted), sd = tailShape(s.down, s.counted);
  const target = 0.5 * 60000 / (365 * 86400000);
  console.log('shapeUp', su, 'shapeDown', sd, 'indep', independence(s.pairUp, su, s.counted), independence(s.pairDown, sd, s.counted));
  console.log('edges', pairDeviationAt(su, independence(s.pairUp, su, s.counted), target), pairDeviationAt(sd, independence(s.pairDown, sd, s.counted), target), 'extreme', deviationAt(su, target));
}
