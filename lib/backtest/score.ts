import { median } from '../bands/robust-statistics.ts';
import { dayMs, minuteMs, weekMs } from '../time.ts';

/**
 * Scoring the alerts the product opens on a labelled corpus, exactly as the operations scenarios' README says
 * (`/work/shared/scenarios/README.md`, "Scoring the alerts"):
 *
 * 1. alerts that start in a series' first 14 days (the warm-up) are ignored;
 * 2. an incident is caught when an alert of its series starts within `[onset - 15 min, end + 60 min]`; its
 *    latency runs from the onset to the first such alert's start (0 when that is before the onset);
 * 3. every other alert after the warm-up is a false alert, counted per series-week after the warm-up;
 * 4. a normal weekly event is paged when an alert starts within it; only occurrences after the 2nd count.
 *
 * Pure: it takes the labels and the alerts' start times and returns figures; reading files, running the
 * server and printing are scripts/backtest.ts's and report.ts's.
 */

/** The README's rules, in milliseconds and occurrences. */
export const scenarioRules = {
  /** Alerts that start this soon after a series' first point are ignored. */
  warmUpMs: 14 * dayMs,
  /** An alert this long before an incident's onset still catches it. */
  earlyMs: 15 * minuteMs,
  /** An alert this long after an incident's end still catches it. */
  lateMs: 60 * minuteMs,
  /** The occurrences of a normal weekly event that may page (the engine has not seen it come back yet). */
  forgivenOccurrences: 2,
} as const;

/** A labelled span of time, epoch ms; an incident's `[onset, end]` or a normal event's `[start, end)`. */
export type Span = readonly [start: number, end: number];

/** One series of the corpus with its labels. */
export interface LabelledSeries {
  /** Its file in the corpus, `folder/file.csv`. */
  readonly name: string;
  readonly family: string;
  /** Its step (the latency is also given in these). */
  readonly stepMs: number;
  /** Its first point: the warm-up runs from here. */
  readonly start: number;
  /** The end of its last point's bucket: its series-weeks run to here. */
  readonly end: number;
  readonly incidents: readonly Span[];
  readonly normalEvents: readonly Span[];
}

/** What became of one incident. */
export interface IncidentOutcome {
  readonly onset: number;
  readonly end: number;
  /** The start of the first alert that caught it, or null when none did. */
  readonly caughtBy: number | null;
  /** From the onset to `caughtBy` (0 when the alert started before the onset); null when not caught. */
  readonly latencyMs: number | null;
}

/** One series' score. */
export interface SeriesScore {
  readonly name: string;
  readonly family: string;
  readonly stepMs: number;
  /** Weeks from the end of the warm-up to the series' end (0 when it ends within the warm-up). */
  readonly seriesWeeks: number;
  /** Alerts that started after the warm-up. */
  readonly alerts: number;
  readonly incidents: readonly IncidentOutcome[];
  /** Start times of the alerts after the warm-up that caught no incident. */
  readonly falseAlertStarts: readonly number[];
  /** Normal events after the forgiven occurrences, and which of them an alert started in. */
  readonly normalEvents: number;
  readonly normalEventsPaged: readonly Span[];
}

/** The figures the README asks for, over a series, a family, a corpus or several. */
export interface Figures {
  readonly series: number;
  readonly seriesWeeks: number;
  readonly alerts: number;
  readonly incidents: number;
  readonly caught: number;
  readonly falseAlerts: number;
  /** Null when there is no series-week after the warm-up. */
  readonly falseAlertsPerSeriesWeek: number | null;
  /** Median over the caught incidents; null when none was caught. */
  readonly medianLatencyMinutes: number | null;
  /** Median over the caught incidents of the latency in buckets of each one's series' step. */
  readonly medianLatencyBuckets: number | null;
  /** Normal events after their 2nd occurrence, and how many of them were paged. */
  readonly normalEvents: number;
  readonly normalEventsPaged: number;
}

export interface CorpusScore {
  readonly series: readonly SeriesScore[];
  /** Figures per family, in family order. */
  readonly families: Readonly<Record<string, Figures>>;
  readonly total: Figures;
}

/**
 * Scores one series' alerts (their start times, any order). O(a·(i + e) + e log e) for a alerts, i incidents
 * and e normal events.
 *
 * @example
 * scoreSeries({ name: 's', family: 'f', stepMs: 60_000, start: 0, end: 21 * 86_400_000,
 *   incidents: [[15 * 86_400_000, 15 * 86_400_000 + 3_600_000]], normalEvents: [] },
 *   [15 * 86_400_000 + 120_000, 16 * 86_400_000]).incidents[0].latencyMs // 120_000 (and 1 false alert)
 */
export function scoreSeries(series: LabelledSeries, alertStarts: readonly number[]): SeriesScore {
  const warmUpEnd = series.start + scenarioRules.warmUpMs;
  const alerts = alertStarts.filter((startedAt) => startedAt >= warmUpEnd).sort((a, b) => a - b);
  const catches = (startedAt: number, [onset, end]: Span) =>
    startedAt >= onset - scenarioRules.earlyMs && startedAt <= end + scenarioRules.lateMs;

  const incidents = [...series.incidents]
    .sort((a, b) => a[0] - b[0])
    .map(([onset, end]): IncidentOutcome => {
      const caughtBy = alerts.find((startedAt) => catches(startedAt, [onset, end])) ?? null;
      return { onset, end, caughtBy, latencyMs: caughtBy === null ? null : Math.max(0, caughtBy - onset) };
    });
  const falseAlertStarts = alerts.filter(
    (startedAt) => !series.incidents.some((incident) => catches(startedAt, incident)),
  );
  const counted = [...series.normalEvents]
    .sort((a, b) => a[0] - b[0])
    .slice(scenarioRules.forgivenOccurrences);
  const normalEventsPaged = counted.filter(([start, end]) =>
    alerts.some((startedAt) => startedAt >= start && startedAt < end),
  );
  return {
    name: series.name,
    family: series.family,
    stepMs: series.stepMs,
    seriesWeeks: Math.max(0, series.end - warmUpEnd) / weekMs,
    alerts: alerts.length,
    incidents,
    falseAlertStarts,
    normalEvents: counted.length,
    normalEventsPaged,
  };
}

/**
 * The figures over some series' scores (of one corpus or of several): sums, and medians over every caught
 * incident. O(n log n) in the incidents.
 *
 * @example summarize([]).falseAlertsPerSeriesWeek // null
 */
export function summarize(scores: readonly SeriesScore[]): Figures {
  const minutes: number[] = [];
  const buckets: number[] = [];
  let seriesWeeks = 0;
  let alerts = 0;
  let incidents = 0;
  let falseAlerts = 0;
  let normalEvents = 0;
  let normalEventsPaged = 0;
  for (const score of scores) {
    seriesWeeks += score.seriesWeeks;
    alerts += score.alerts;
    incidents += score.incidents.length;
    falseAlerts += score.falseAlertStarts.length;
    normalEvents += score.normalEvents;
    normalEventsPaged += score.normalEventsPaged.length;
    for (const incident of score.incidents) {
      if (incident.latencyMs === null) continue;
      minutes.push(incident.latencyMs / minuteMs);
      buckets.push(incident.latencyMs / score.stepMs);
    }
  }
  return {
    series: scores.length,
    seriesWeeks,
    alerts,
    incidents,
    caught: minutes.length,
    falseAlerts,
    falseAlertsPerSeriesWeek: seriesWeeks > 0 ? falseAlerts / seriesWeeks : null,
    medianLatencyMinutes: minutes.length > 0 ? median(minutes) : null,
    medianLatencyBuckets: buckets.length > 0 ? median(buckets) : null,
    normalEvents,
    normalEventsPaged,
  };
}

/** Figures per family (sorted by family name). O(n log n). */
export function byFamily(scores: readonly SeriesScore[]): Record<string, Figures> {
  const groups = new Map<string, SeriesScore[]>();
  for (const score of scores) {
    const group = groups.get(score.family);
    if (group) group.push(score);
    else groups.set(score.family, [score]);
  }
  return Object.fromEntries(
    [...groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([family, group]) => [family, summarize(group)]),
  );
}

/** An alert as the scorer needs it: its series' corpus name and when it started. */
export interface AlertStart {
  readonly series: string;
  readonly startedAt: number;
}

export class UnlabelledAlertError extends Error {
  override name = 'UnlabelledAlertError';
}

/**
 * Scores a corpus: every series (in the order given) with its alerts, per family and in total. Throws
 * {@link UnlabelledAlertError} for an alert of a series the corpus does not have (the server was not fresh).
 */
export function scoreCorpus(series: readonly LabelledSeries[], alerts: readonly AlertStart[]): CorpusScore {
  const startsBySeries = new Map<string, number[]>(series.map((entry) => [entry.name, []]));
  for (const alert of alerts) {
    const starts = startsBySeries.get(alert.series);
    if (!starts)
      throw new UnlabelledAlertError(`an alert of "${alert.series}", a series the corpus does not have`);
    starts.push(alert.startedAt);
  }
  const scores = series.map((entry) => scoreSeries(entry, startsBySeries.get(entry.name) ?? []));
  return { series: scores, families: byFamily(scores), total: summarize(scores) };
}
