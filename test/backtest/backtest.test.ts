import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Figures } from '../../lib/backtest/score.ts';

/**
 * `npm run backtest` end to end: a tiny corpus from the shared scenario generator (one seed, three weeks: one
 * week after the warm-up) through the real local server, band job and GET /v1/alerts.
 */

const generator = resolve('../shared/scenarios/generate.mjs');
const seed = '7';
const weeks = '3';
const scratch = mkdtempSync(join(tmpdir(), 'backtest-test-'));
const corpusDir = join(scratch, 'corpus');

/** Runs the backtest program; the generator comes from --generator or the default, never the environment. */
function backtest(...args: string[]) {
  const { NORMALCY_SCENARIO_GENERATOR: _ignored, ...env } = process.env;
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/backtest.ts', ...args], {
    encoding: 'utf8',
    env,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

interface SeriesResult {
  readonly name: string;
  readonly family: string;
  readonly incidents: readonly { onset: number; caughtBy: number | null; latencyMs: number | null }[];
  readonly falseAlertStarts: readonly number[];
  readonly figures: Figures;
}

interface BacktestJson {
  readonly engine: string;
  readonly corpora: readonly {
    readonly label: string;
    readonly total: Figures;
    readonly families: Record<string, Figures>;
    readonly series: readonly SeriesResult[];
  }[];
  readonly families: Record<string, Figures>;
  readonly total: Figures;
}

/** Every figure of the README that can be checked without knowing the engine: they must add up. */
function expectConsistent(figures: Figures): void {
  expect(figures.caught).toBeLessThanOrEqual(figures.incidents);
  expect(figures.falseAlerts).toBeLessThanOrEqual(figures.alerts);
  expect(figures.normalEventsPaged).toBeLessThanOrEqual(figures.normalEvents);
  if (figures.seriesWeeks > 0) {
    expect(figures.falseAlertsPerSeriesWeek).toBeCloseTo(figures.falseAlerts / figures.seriesWeeks, 9);
  }
  expect(figures.medianLatencyMinutes === null).toBe(figures.caught === 0);
  if (figures.medianLatencyMinutes !== null) expect(figures.medianLatencyMinutes).toBeGreaterThanOrEqual(0);
}

const sum = (list: readonly Figures[], key: keyof Figures) =>
  list.reduce((total, figures) => total + Number(figures[key]), 0);

beforeAll(() => {
  execFileSync(process.execPath, [generator, corpusDir, '--seed', seed, '--weeks', weeks], {
    stdio: 'ignore',
  });
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('Harness: npm run backtest', () => {
  let fromData: BacktestJson;

  it('backtests a generated corpus through the real server and prints and writes figures that add up', () => {
    const jsonFile = join(scratch, 'data.json');
    const run = backtest('--data', corpusDir, '--json', jsonFile);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    for (const heading of [
      'series',
      'family',
      'caught',
      'false/series-week',
      'median latency',
      'normal events paged',
    ]) {
      expect(run.stdout).toContain(heading);
    }
    expect(run.stdout).toMatch(/^total +10 /m);

    fromData = JSON.parse(readFileSync(jsonFile, 'utf8')) as BacktestJson;
    expect(fromData.engine).toBe('normalcy');
    expect(fromData.corpora).toHaveLength(1);
    const [corpus] = fromData.corpora;
    if (!corpus) throw new Error('no corpus in the JSON');
    expect(fromData.total).toEqual(corpus.total);

    // Every labelled incident and series is scored; three weeks leave one week per series after the warm-up.
    const labels = JSON.parse(readFileSync(join(corpusDir, 'labels', 'events.json'), 'utf8')) as Record<
      string,
      unknown[]
    >;
    const labelled = Object.values(labels).reduce((total, incidents) => total + incidents.length, 0);
    expect(corpus.series.map((series) => series.name).sort()).toEqual(Object.keys(labels).sort());
    expect(corpus.total).toMatchObject({ series: 10, incidents: labelled, seriesWeeks: 10 });

    expectConsistent(corpus.total);
    const families = Object.values(corpus.families);
    for (const figures of families) expectConsistent(figures);
    for (const key of [
      'series',
      'incidents',
      'caught',
      'falseAlerts',
      'alerts',
      'normalEventsPaged',
    ] as const) {
      expect(sum(families, key)).toBe(corpus.total[key]);
      expect(
        sum(
          corpus.series.map((series) => series.figures),
          key,
        ),
      ).toBe(corpus.total[key]);
    }
    for (const series of corpus.series) {
      expectConsistent(series.figures);
      expect(series.figures.falseAlerts).toBe(series.falseAlertStarts.length);
      for (const incident of series.incidents) {
        expect(incident.latencyMs === null).toBe(incident.caughtBy === null);
      }
    }
  });

  it('generates the same corpus with --seeds and gives the same figures', () => {
    const jsonFile = join(scratch, 'seeds.json');
    const run = backtest('--seeds', seed, '--weeks', weeks, '--generator', generator, '--json', jsonFile);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`== seed ${seed}: 10 series`);
    const fromSeeds = JSON.parse(readFileSync(jsonFile, 'utf8')) as BacktestJson;
    expect(fromSeeds.corpora[0]?.label).toBe(`seed ${seed}`);
    expect(fromSeeds.corpora[0]?.series).toEqual(fromData.corpora[0]?.series);
    expect(fromSeeds.total).toEqual(fromData.total);
  });

  it('posts each copy of a family on its own host and counts the pages', () => {
    const jsonFile = join(scratch, 'copies.json');
    const run = backtest(
      '--seeds',
      seed,
      '--weeks',
      weeks,
      '--copies',
      '2',
      '--generator',
      generator,
      '--json',
      jsonFile,
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`== seed ${seed}: 20 series`);
    expect(run.stdout).toMatch(/pages after the warm-up: \d+ \([\d.]+ per series-week/);
    const corpus = (JSON.parse(readFileSync(jsonFile, 'utf8')) as BacktestJson).corpora[0];
    expect(corpus?.series.map((series) => series.name)).toContain('ops/traffic-2.csv');
    // Alerts are paged through incidents: at least one page when anything opened, at most one OPEN per alert.
    const pages = (corpus as unknown as { pages: Record<string, number> }).pages;
    const opens = pages['incident OPEN'] ?? 0;
    expect(opens).toBeLessThanOrEqual(corpus?.total.alerts ?? 0);
    if ((corpus?.total.alerts ?? 0) > 0) expect(opens).toBeGreaterThan(0);
  });

  it('refuses --copies without --seeds', () => {
    const run = backtest('--data', scratch, '--copies', '3');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--copies goes with --seeds');
  });

  it('fails with a clear message when the generator is absent', () => {
    const run = backtest('--seeds', '1-2', '--generator', join(scratch, 'missing', 'generate.mjs'));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      `the scenario generator is not at ${join(scratch, 'missing', 'generate.mjs')}: pass --generator FILE or set NORMALCY_SCENARIO_GENERATOR`,
    );
  });

  it('fails with a clear message when --data is not a corpus', () => {
    const run = backtest('--data', scratch);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`${scratch} is not a scenario corpus: ${join(scratch, 'data')} is missing`);
  });
});
