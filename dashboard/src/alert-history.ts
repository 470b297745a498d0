import type { AnomalyPageResponse, AnomalyView, ApiClient } from './api.ts';

/**
 * One alert as the dashboard lists it: a run of consecutive anomalous buckets of one series. The dashboard
 * reads alert history through an {@link AlertHistorySource}, so that the alerts of `/v1/alerts` (rules,
 * severities, acknowledgements) can replace anomaly runs without touching the views.
 */
export interface AlertEpisode {
  readonly seriesId: string;
  readonly name: string | null;
  readonly dimensions: Readonly<Record<string, string>> | null;
  /** Start of the first anomalous bucket. */
  readonly start: number;
  /** End of the last anomalous bucket. */
  readonly end: number;
  readonly buckets: number;
  readonly severity: 'critical' | 'warning';
  /** The bucket furthest outside the band. */
  readonly peak: { readonly timestamp: number; readonly value: number; readonly expected: number };
  /** The dashboard view of the series around the alert. */
  readonly link: string;
}

export interface AlertHistorySource {
  /** Alerts that started in the range, newest first; one series' only when `seriesId` is given. */
  history(range: { from: number; to: number }, seriesId?: string): Promise<AlertEpisode[]>;
}

const defaultStepMs = 60_000;

/**
 * Groups anomalous buckets into alerts: buckets of one series at most one step apart belong to the same
 * alert. The severity follows the band job's notifications: critical when the peak is three band
 * half-widths or more from the expected value. Newest alert first. O(n log n).
 */
export function groupIntoEpisodes(anomalies: readonly AnomalyView[]): AlertEpisode[] {
  const sorted = [...anomalies].sort((a, b) =>
    a.seriesId === b.seriesId ? a.timestamp - b.timestamp : a.seriesId < b.seriesId ? -1 : 1,
  );
  const episodes: AlertEpisode[] = [];
  let run: AnomalyView[] = [];
  const close = () => {
    const first = run[0];
    const last = run.at(-1);
    if (!first || !last) return;
    const step = first.stepMs ?? defaultStepMs;
    const distance = (a: AnomalyView) =>
      Math.abs(a.value - a.expected) / Math.max(a.upper - a.expected, a.expected - a.lower, Number.EPSILON);
    const peak = run.reduce((best, a) => (distance(a) > distance(best) ? a : best), first);
    episodes.push({
      seriesId: first.seriesId,
      name: first.name,
      dimensions: first.dimensions,
      start: first.timestamp,
      end: last.timestamp + step,
      buckets: run.length,
      severity: distance(peak) >= 3 ? 'critical' : 'warning',
      peak: { timestamp: peak.timestamp, value: peak.value, expected: peak.expected },
      link: episodeLink(first.seriesId, first.timestamp, last.timestamp + step),
    });
    run = [];
  };
  for (const anomaly of sorted) {
    const previous = run.at(-1);
    const step = anomaly.stepMs ?? defaultStepMs;
    if (
      previous &&
      (previous.seriesId !== anomaly.seriesId || anomaly.timestamp - previous.timestamp > step)
    ) {
      close();
    }
    run.push(anomaly);
  }
  close();
  return episodes.sort((a, b) => b.start - a.start);
}

/** The series view around an alert: the alert with half a day of context either side, marking its start. */
export function episodeLink(seriesId: string, start: number, end: number): string {
  const context = Math.max(6 * 3_600_000, end - start);
  const query = new URLSearchParams({
    from: String(start - context),
    to: String(end + context),
    at: String(start),
  });
  return `#/series/${encodeURIComponent(seriesId)}?${query}`;
}

/** Today's alert history: the anomalous buckets of `GET /v1/anomalies`, grouped into alerts. */
export function anomalyHistory(api: ApiClient): AlertHistorySource {
  return {
    async history(range, seriesId) {
      const anomalies = await api.all<AnomalyView, AnomalyPageResponse>(
        '/v1/anomalies',
        { from: range.from, to: range.to, series: seriesId, limit: 1000 },
        (page) => page.anomalies,
        5,
      );
      return groupIntoEpisodes(anomalies);
    },
  };
}
