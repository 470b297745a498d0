/**
 * `npm run backtest`: the alerts the product opens on labelled corpora, scored as the operations scenarios'
 * README says (lib/backtest/score.ts). Each corpus goes through the real thing: a fresh local server (SQLite,
 * the ingest, alerts and band-job code the Lambdas run), every series posted through `POST /v1/metrics` with its
 * type, the band job run with the shipped defaults until it has processed everything, and every alert read
 * back from `GET /v1/alerts`.
 */
import '../functions/local/quiet-logs.ts';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startLocalServer } from '../functions/local/server.ts';
import { baselineEngines } from '../lib/backtest/baseline-engines.ts';
import { corpusTable, familyTable, seriesTable } from '../lib/backtest/report.ts';
import { byFamily, type CorpusScore, scenarioRules, scoreCorpus, summarize } from '../lib/backtest/score.ts';
import type { BandEngineFactory } from '../lib/bands/engine.ts';
import { generateKey, hashKey } from '../lib/keys.ts';
import type { MetricType } from '../lib/metrics/point.ts';
import { minuteMs, weekMs } from '../lib/time.ts';
import { readCorpus, UsageError } from './backtest-corpus.ts';

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const generatorVariable = 'NORMALCY_SCENARIO_GENERATOR';
const defaultGenerator = resolve(repositoryRoot, '../shared/scenarios/generate.mjs');

const usage = `Backtests the alerts Normalcy opens on labelled corpora, through the real local server.

  npm run backtest -- --data DIR [--json FILE]
  npm run backtest -- --seeds 21-40 [--weeks 6] [--copies 3] [--generator FILE] [--json FILE]

  --data       a corpus: DIR/data/<folder>/<file>.csv (timestamp,value), DIR/labels/events.json,
               DIR/labels/series.json (type and stepSeconds per series), DIR/labels/normal-events.json (optional)
  --seeds      seeds to generate with the scenario generator, each into a temporary folder: 7, 1-20, 1,3,5-9
  --weeks      weeks per generated corpus (default 6, the generator's)
  --copies     draws of each family per generated corpus (default 1); with more than one, each draw is posted
               with the dimension host=host-<n> (its file's number), so that ten series share a host
  --generator  the scenario generator (default $${generatorVariable}, else ../shared/scenarios/generate.mjs
               beside the repository)
  --engine     normalcy (default: the product's) or a baseline for calibration: ${Object.keys(baselineEngines).join(', ')}
  --json FILE  also write every figure as JSON

Prints, per series, per family and in total: incidents caught, false alerts per series-week after the 14-day
warm-up, median latency (minutes and buckets of the series' step), normal weekly events paged after their
2nd occurrence; and the pages a person would have had after the warm-up (every notification but RESOLVED,
as if the corpus were live); with several corpora, the totals over all of them.`;

/** What one corpus gave. */
interface CorpusRun {
  readonly label: string;
  readonly score: CorpusScore;
  /** Whole weeks the corpus was moved forward to end just before now (labels and alerts are in its own time). */
  readonly shiftWeeks: number;
  readonly points: number;
  readonly bandJobRuns: number;
  readonly seconds: number;
  readonly pages: PageCount;
}

/** Notifications after the warm-up, by kind: an alert's (OPEN...), or an incident's ("incident OPEN"...). */
type PageCount = Record<string, number>;

/** Everything but RESOLVED wakes someone: OPEN, ESCALATED, REMINDER, an incident's OPEN and UPDATE. */
const pagesIn = (count: PageCount): number =>
  Object.entries(count).reduce((sum, [kind, n]) => (kind.endsWith('RESOLVED') ? sum : sum + n), 0);

/** Points per ingest request: a few thousand, well under the 5 MB body limit. */
const pointsPerRequest = 5_000;
/** The corpus ends at least this long before now, so the band job closes its last buckets at once. */
const endMarginMs = 15 * minuteMs;
/** A band job run takes up to 50,000 buckets per series; a year of minutes is 11 runs. */
const maxBandJobRuns = 100;
const alertsPageSize = 1_000;
/** Counts every page as if the corpus were live: no alert is old enough to be history. */
const pageEverythingMs = 100 * 365 * 24 * 60 * minuteMs;

async function main(): Promise<void> {
  const { values: options } = parseArgs({
    options: {
      data: { type: 'string' },
      seeds: { type: 'string' },
      weeks: { type: 'string' },
      copies: { type: 'string' },
      generator: { type: 'string' },
      engine: { type: 'string', default: 'normalcy' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (options.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if ((options.data === undefined) === (options.seeds === undefined)) {
    throw new UsageError('give either --data DIR or --seeds N-M');
  }
  if (options.weeks !== undefined && options.seeds === undefined) {
    throw new UsageError('--weeks goes with --seeds (a --data corpus has its own length)');
  }
  if (options.copies !== undefined && options.seeds === undefined) {
    throw new UsageError('--copies goes with --seeds (a --data corpus has its own series)');
  }
  const engineName = options.engine;
  const engine =
    engineName === 'normalcy' ? undefined : baselineEngines[engineName as keyof typeof baselineEngines];
  if (engineName !== 'normalcy' && !engine) {
    throw new UsageError(
      `--engine must be normalcy or one of ${Object.keys(baselineEngines).join(', ')}, got "${engineName}"`,
    );
  }

  const began = Date.now();
  const runs: CorpusRun[] = [];
  if (options.data !== undefined) {
    const dataDir = resolve(options.data);
    runs.push(await backtestCorpus(dataDir, dataDir, engine, false));
    printCorpus(runs[0]);
  } else {
    const seeds = parseSeeds(options.seeds ?? '');
    const weeks = options.weeks === undefined ? undefined : parseWeeks(options.weeks);
    const copies = options.copies === undefined ? 1 : parseCopies(options.copies);
    const generator = resolve(options.generator ?? (process.env[generatorVariable] || defaultGenerator));
    if (!existsSync(generator) || !statSync(generator).isFile()) {
      throw new UsageError(
        `the scenario generator is not at ${generator}: pass --generator FILE or set ${generatorVariable}`,
      );
    }
    for (const seed of seeds) {
      const corpusDir = mkdtempSync(join(tmpdir(), `normalcy-backtest-seed${seed}-`));
      try {
        const startedAt = Date.now();
        execFileSync(
          process.execPath,
          [
            generator,
            corpusDir,
            '--seed',
            String(seed),
            ...(weeks ? ['--weeks', String(weeks)] : []),
            ...(copies > 1 ? ['--copies', String(copies)] : []),
          ],
          { stdio: ['ignore', 'ignore', 'inherit'] },
        );
        const run = await backtestCorpus(corpusDir, `seed ${seed}`, engine, copies > 1);
        // The seed's wall time includes generating it.
        runs.push({ ...run, seconds: (Date.now() - startedAt) / 1000 });
        printCorpus(runs[runs.length - 1]);
      } finally {
        rmSync(corpusDir, { recursive: true, force: true });
      }
    }
  }

  const allSeries = runs.flatMap((run) => run.score.series);
  const families = byFamily(allSeries);
  const total = summarize(allSeries);
  const seconds = (Date.now() - began) / 1000;
  if (runs.length > 1) {
    console.log(`\n== all ${runs.length} corpora (${engineName}) ==\n`);
    console.log(familyTable(families, total));
    console.log('');
    console.log(
      corpusTable(
        runs.map((run) => ({ label: run.label, total: run.score.total, seconds: run.seconds })),
        total,
      ),
    );
  }
  if (runs.length > 1) console.log(`\n${pagesLine(runs)}`);
  console.log(`\nwall time ${seconds.toFixed(1)} s`);
  if (options.json !== undefined) {
    const file = resolve(options.json);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          engine: engineName,
          rules: scenarioRules,
          seconds,
          corpora: runs.map((run) => ({
            label: run.label,
            shiftWeeks: run.shiftWeeks,
            points: run.points,
            bandJobRuns: run.bandJobRuns,
            seconds: run.seconds,
            pages: run.pages,
            total: run.score.total,
            families: run.score.families,
            series: run.score.series.map((score) => ({ ...score, figures: summarize([score]) })),
          })),
          families,
          total,
        },
        null,
        1,
      )}\n`,
    );
  }
}

function printCorpus(run: CorpusRun | undefined): void {
  if (!run) return;
  const { total } = run.score;
  console.log(
    `\n== ${run.label}: ${total.series} series, ${total.incidents} incidents, ` +
      `${total.seriesWeeks.toFixed(1)} series-weeks after the warm-up, ${run.points} points, ` +
      `${run.bandJobRuns} band job runs, ${run.seconds.toFixed(1)} s ==\n`,
  );
  console.log(seriesTable(run.score.series));
  console.log('');
  console.log(familyTable(run.score.families, total));
  console.log(`\n${pagesLine([run])}`);
}

/** "pages: 41 (0.23 per series-week, 1.4 per incident caught; OPEN 38, ESCALATED 3)". */
function pagesLine(runs: readonly CorpusRun[]): string {
  const count: PageCount = {};
  for (const run of runs) {
    for (const [kind, n] of Object.entries(run.pages)) count[kind] = (count[kind] ?? 0) + n;
  }
  const pages = pagesIn(count);
  const total = summarize(runs.flatMap((run) => run.score.series));
  const perWeek = total.seriesWeeks > 0 ? (pages / total.seriesWeeks).toFixed(3) : '-';
  const perIncident = total.caught > 0 ? (pages / total.caught).toFixed(2) : '-';
  const kinds = Object.entries(count)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  return `pages after the warm-up: ${pages} (${perWeek} per series-week, ${perIncident} per incident caught; ${kinds || 'none'})`;
}

/**
 * Backtests one corpus: reads it, moves it forward by whole weeks so that it ends just before now (the
 * store refuses points older than its retention or ahead of the clock; whole weeks keep every weekday and
 * time of day), posts it into a fresh local server, runs the band job until it has nothing left, reads the
 * alerts, moves them back and scores them against the labels.
 */
async function backtestCorpus(
  corpusDir: string,
  label: string,
  engine: BandEngineFactory | undefined,
  hostPerCopy: boolean,
): Promise<CorpusRun> {
  const startedAt = Date.now();
  const series = readCorpus(corpusDir);
  const lastEnd = Math.max(...series.map((entry) => entry.end));
  const shiftWeeks = Math.floor((Date.now() - endMarginMs - lastEnd) / weekMs);
  const shiftMs = shiftWeeks * weekMs;

  const warmUpEnd = Math.min(...series.map((entry) => entry.start)) + scenarioRules.warmUpMs + shiftMs;
  const pages: PageCount = {};
  const dataDir = mkdtempSync(join(tmpdir(), 'normalcy-backtest-store-'));
  const server = await startLocalServer({
    dataDir,
    port: 0,
    // History is judged as it would have been live without any band job option: buckets and alerts carry the
    // data's own times (an alert starts at its first breaching bucket), and every bucket is closed at once
    // (the corpus ends at least endMarginMs before now, the job waits latenessMs = 15 s). The clock decides
    // only paging, which is counted as if the corpus were live: nothing is history.
    notifier: {
      notify: async ({ state, at }) => {
        if (at >= warmUpEnd) pages[state] = (pages[state] ?? 0) + 1;
      },
      // An incident's transitions happen when they are recorded (the run's clock): judged by its start.
      notifyIncident: async ({ state, startedAt }) => {
        const kind = `incident ${state}`;
        if (startedAt >= warmUpEnd) pages[kind] = (pages[kind] ?? 0) + 1;
      },
    },
    pageWindowMs: pageEverythingMs,
    ...(engine && { engine }),
  });
  try {
    const key = generateKey();
    await server.stores.keys.putKey({
      hash: hashKey(key),
      name: 'backtest',
      scopes: ['ingest', 'read'],
      createdAt: Date.now(),
      revokedAt: null,
    });
    const api = apiClient(server.url, key);
    let points = 0;
    for (const entry of series) {
      for (let offset = 0; offset < entry.timestamps.length; offset += pointsPerRequest) {
        const pairs: [number, number][] = [];
        const end = Math.min(entry.timestamps.length, offset + pointsPerRequest);
        for (let i = offset; i < end; i++) {
          pairs.push([(entry.timestamps[i] ?? 0) + shiftMs, entry.values[i] ?? 0]);
        }
        await api.postPoints(entry.metric, entry.type, pairs, hostPerCopy ? hostOf(entry.metric) : undefined);
        points += pairs.length;
      }
    }

    let bandJobRuns = 0;
    let last: Awaited<ReturnType<typeof server.runBandJob>> | undefined;
    for (;;) {
      if (bandJobRuns >= maxBandJobRuns) {
        const { seriesProcessed, bucketsProcessed, seriesReadAlone, seriesRewound, seriesQuarantined } =
          last ?? {};
        throw new Error(
          `${label}: the band job still had buckets to process after ${maxBandJobRuns} runs (the last: ` +
            `${JSON.stringify({ seriesProcessed, bucketsProcessed, seriesReadAlone, seriesRewound, seriesQuarantined })})`,
        );
      }
      const summary = await server.runBandJob();
      last = summary;
      bandJobRuns += 1;
      if (summary.bucketsProcessed === 0) break;
    }

    const byMetric = new Map(series.map((entry) => [entry.metric, entry.name]));
    const alerts = (await api.allAlerts()).map((alert) => {
      const name = byMetric.get(alert.name);
      const dimensions = alert.dimensions ?? {};
      const expected = name !== undefined && hostPerCopy ? hostOf(alert.name) : undefined;
      if (name === undefined || JSON.stringify(dimensions) !== JSON.stringify(expected ?? {})) {
        throw new Error(`${label}: GET /v1/alerts has an alert of ${alert.name}, which was not posted`);
      }
      return { series: name, startedAt: alert.startedAt - shiftMs };
    });
    return {
      label,
      score: scoreCorpus(series, alerts),
      shiftWeeks,
      points,
      bandJobRuns,
      seconds: (Date.now() - startedAt) / 1000,
      pages,
    };
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface ListedAlert {
  readonly id: string;
  readonly name: string;
  readonly dimensions?: Readonly<Record<string, string>>;
  readonly startedAt: number;
}

/** The two calls the backtest makes, with the key, failing loudly on anything but success. */
function apiClient(url: string, key: string) {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  return {
    async postPoints(
      name: string,
      type: MetricType,
      points: readonly [number, number][],
      dimensions: Readonly<Record<string, string>> | undefined,
    ): Promise<void> {
      const response = await fetch(`${url}/v1/metrics`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ metrics: [{ name, type, points, ...(dimensions && { dimensions }) }] }),
      });
      const text = await response.text();
      const outcome = response.ok ? (JSON.parse(text) as { accepted: number; rejected: number }) : undefined;
      if (outcome?.rejected !== 0 || outcome.accepted !== points.length) {
        throw new Error(
          `POST /v1/metrics of ${name} (${points.length} points): ${response.status} ${text.slice(0, 500)}`,
        );
      }
    },

    /**
     * Every alert: follows `nextCursor` when the route gives one; otherwise pages back in time with `to` (the
     * oldest start of the page, plus one: alerts that start at the same instant are read again and kept once).
     */
    async allAlerts(): Promise<ListedAlert[]> {
      const seen = new Map<string, ListedAlert>();
      let query = new URLSearchParams({ limit: String(alertsPageSize) });
      for (;;) {
        const response = await getWithRetry(`${url}/v1/alerts?${query}`, headers);
        const text = await response.text();
        if (!response.ok)
          throw new Error(`GET /v1/alerts?${query}: ${response.status} ${text.slice(0, 500)}`);
        const page = JSON.parse(text) as { alerts: ListedAlert[]; nextCursor?: string | null };
        let added = 0;
        for (const alert of page.alerts) {
          if (seen.has(alert.id)) continue;
          seen.set(alert.id, alert);
          added += 1;
        }
        if ('nextCursor' in page) {
          if (!page.nextCursor) break;
          query = new URLSearchParams({ limit: String(alertsPageSize), cursor: page.nextCursor });
          continue;
        }
        if (page.alerts.length < alertsPageSize) break;
        if (added === 0) {
          throw new Error(
            `GET /v1/alerts: more than ${alertsPageSize} alerts start at the same instant and the route has no cursor`,
          );
        }
        const oldest = Math.min(...page.alerts.map((alert) => alert.startedAt));
        query = new URLSearchParams({ limit: String(alertsPageSize), to: String(oldest + 1) });
      }
      return [...seen.values()];
    },
  };
}

/**
 * A GET that is tried once more when the connection was reset. The server runs in this process: while a
 * band job run holds the event loop for longer than the server's keep-alive timeout, fetch may reuse a pooled
 * connection that the server closes as soon as its timers run again. A GET is safe to send again.
 */
async function getWithRetry(url: string, headers: Record<string, string>): Promise<Response> {
  try {
    return await fetch(url, { headers });
  } catch (error) {
    const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
    if (cause?.code !== 'ECONNRESET' && cause?.code !== 'UND_ERR_SOCKET') throw error;
    return fetch(url, { headers });
  }
}

/** Reads a corpus in the scenarios' layout; throws naming the file and entry that is missing or wrong. */
/** "7", "1-20", "1,3,5-9" → the seeds, in order. */
function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const from = Number(match?.[1]);
    const to = Number(match?.[2] ?? match?.[1]);
    if (!match || to < from) throw new UsageError(`--seeds: "${part}" is not a seed or a range N-M`);
    for (let seed = from; seed <= to; seed++) seeds.push(seed);
  }
  return seeds;
}

function parseCopies(text: string): number {
  const copies = Number(text);
  if (!Number.isInteger(copies) || copies < 1 || copies > 20)
    throw new UsageError(`--copies must be a whole number from 1 to 20, got "${text}"`);
  return copies;
}

/** The generator numbers each family's draws: `ops.traffic-2` is the second draw, on host-2. */
function hostOf(metric: string): Readonly<Record<string, string>> {
  return { host: `host-${/-(\d+)$/.exec(metric)?.[1] ?? '1'}` };
}

function parseWeeks(text: string): number {
  const weeks = Number(text);
  // The generator places incidents after the 14-day warm-up and two days before the end.
  if (!Number.isInteger(weeks) || weeks < 3)
    throw new UsageError(`--weeks must be a whole number from 3, got "${text}"`);
  return weeks;
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${usage}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
