/**
 * The engine's tuning bench: the scenario corpora's alerts, fast. Each series is aggregated to its step as the
 * band job does, fed to the engine bucket by bucket, and judged by the effective alert rules (the shipped
 * default unless `--rule` overrides its fields) through the same pure evaluator the band job calls; the alerts
 * are scored as `npm run backtest` scores them (lib/backtest/score.ts). No server, no store: seconds per
 * seed, for trying engines on many seeds. The figures to report come from `npm run backtest` (the real thing).
 *
 *   npx tsx bench/scenario-tune.ts --seeds 1-20 [--weeks 6] [--rule '{"debounce":{"breaches":2,"outOf":3}}']
 *     [--family latency] [--series] [--json FILE] [--round-trip N]
 *
 * `--round-trip N` stores and restores the engine (toState, JSON, restore) after every N buckets, as the band
 * job does between its runs (N = 1: a run a bucket): what the stored state keeps, and what it rounds, shows.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type EvaluatedBucket, evaluateSeries } from '../lib/alerts/evaluate.ts';
import { type BandRule, emptyMonitor } from '../lib/alerts/model.ts';
import { builtInDefaultRule } from '../lib/alerts/rules.ts';
import { familyTable, seriesTable } from '../lib/backtest/report.ts';
import { byFamily, type SeriesScore, scoreSeries, summarize } from '../lib/backtest/score.ts';
import type { BandEngineFactory } from '../lib/bands/engine.ts';
import { defaultEngine, detectorEngine } from '../lib/bands/index.ts';
import { aggregate } from '../lib/metrics/aggregate.ts';
import { inferStep } from '../lib/metrics/step.ts';
import { readCorpus } from '../scripts/backtest-corpus.ts';

const { values: options } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1-20' },
    weeks: { type: 'string', default: '6' },
    cache: { type: 'string', default: join(tmpdir(), 'normalcy-scenarios') },
    generator: { type: 'string', default: resolve('../shared/scenarios/generate.mjs') },
    rule: { type: 'string' },
    family: { type: 'string' },
    series: { type: 'boolean', default: false },
    json: { type: 'string' },
    engine: { type: 'string', default: 'normalcy' },
    'show-false': { type: 'boolean', default: false },
    'show-missed': { type: 'boolean', default: false },
    'round-trip': { type: 'string', default: '0' },
  },
});
const engines: Record<string, BandEngineFactory> = { normalcy: defaultEngine, detector: detectorEngine };
const factory = engines[options.engine] ?? defaultEngine;

const seeds = options.seeds.split(',').flatMap((part) => {
  const [from, to = from] = part.split('-').map(Number);
  return Array.from({ length: (to ?? 0) - (from ?? 0) + 1 }, (_, index) => (from ?? 0) + index);
});
const roundTripEvery = Number(options['round-trip']);
const rule: BandRule = { ...builtInDefaultRule, ...(options.rule ? JSON.parse(options.rule) : {}) };

function corpusOf(seed: number): string {
  const dir = join(options.cache, `w${options.weeks}-s${seed}`);
  if (!existsSync(join(dir, 'labels', 'series.json'))) {
    mkdirSync(dir, { recursive: true });
    execFileSync(
      process.execPath,
      [options.generator, dir, '--seed', String(seed), '--weeks', options.weeks, '--start', '2026-01-05'],
      { stdio: 'ignore' },
    );
  }
  return dir;
}

const started = performance.now();
let updates = 0;
let engineMs = 0;
const scores: SeriesScore[] = [];
for (const seed of seeds) {
  for (const series of readCorpus(corpusOf(seed))) {
    if (options.family && series.family !== options.family) continue;
    const points = series.timestamps.map((timestamp, index) => ({
      timestamp,
      value: series.values[index] ?? 0,
    }));
    const stepMs = inferStep(series.timestamps.slice(0, 60)) ?? 60_000;
    const buckets = aggregate(series.type, points, stepMs);
    const settings = {
      kind:
        series.type === 'counter'
          ? ('count' as const)
          : series.type === 'timer'
            ? ('latency' as const)
            : ('auto' as const),
    };
    let engine = factory.create(settings);
    const before = performance.now();
    const evaluated: EvaluatedBucket[] = buckets.map((bucket, index) => {
      if (roundTripEvery > 0 && index > 0 && index % roundTripEvery === 0)
        engine = factory.restore(JSON.parse(JSON.stringify(engine.toState())), settings);
      return {
        timestamp: bucket.start,
        value: bucket.value,
        band: engine.update(bucket.start, bucket.value),
      };
    });
    engineMs += performance.now() - before;
    updates += buckets.length;
    const identity = { id: series.metric, name: series.metric, dimensions: {} };
    const outcome = evaluateSeries({
      series: identity,
      stepMs,
      monitor: emptyMonitor(identity.id),
      rules: [rule],
      buckets: evaluated,
      now: series.end + 86_400_000,
      link: () => '',
    });
    const starts = outcome.alerts.map((alert) => alert.startedAt);
    const score = scoreSeries(series, starts);
    scores.push({ ...score, name: `s${seed}/${series.name}` });
    const iso = (t: number) => new Date(t).toISOString().slice(0, 16);
    if (options['show-false']) {
      const warm = series.start + 14 * 86_400_000;
      for (const t of starts) {
        if (t < warm) continue;
        const caught = series.incidents.some(([a, b]) => t >= a - 15 * 60_000 && t <= b + 60 * 60_000);
        const inNormal = series.normalEvents.some(([a, b]) => t >= a && t < b);
        if (!caught)
          console.log(`false s${seed} ${series.name} ${iso(t)}${inNormal ? ' (normal event)' : ''}`);
      }
    }
    if (options['show-missed']) {
      for (const incident of score.incidents) {
        if (incident.caughtBy === null)
          console.log(
            `missed s${seed} ${series.name} ${iso(incident.onset)} → ${iso(incident.end)}` +
              // The alerts that opened within 12 hours before it, and when they resolved: caught early, or not at all.
              outcome.alerts
                .filter(
                  (alert) =>
                    alert.startedAt < incident.onset && alert.startedAt > incident.onset - 12 * 3_600_000,
                )
                .map(
                  (alert) =>
                    ` (alert ${iso(alert.startedAt)}${alert.resolvedAt ? ` → ${iso(alert.resolvedAt)}` : ''})`,
                )
                .join(''),
          );
      }
    }
  }
}
const total = summarize(scores);
if (options.series) console.log(seriesTable(scores));
console.log(familyTable(byFamily(scores), total));
console.log(
  `${seeds.length} seeds, ${updates} buckets, engine ${(updates / engineMs / 1000).toFixed(2)} M updates/s, ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s`,
);
if (options.json)
  writeFileSync(
    options.json,
    `${JSON.stringify({ seeds, rule, total, families: byFamily(scores), series: scores }, null, 1)}\n`,
  );
