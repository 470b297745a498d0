import { type SeriesViewWindow, seriesViewFragment, windowAround } from '../../lib/dashboard-links.ts';
import type { Alert, AlertPageResponse, ApiClient, Feedback } from './api.ts';
import { endingByNow } from './route.ts';

/** The most alerts one request of `GET /v1/alerts` returns. */
export const alertPageLimit = 1000;

/** Alerts of a range, newest first, and whether the API had more than it returned. */
export interface AlertHistory {
  readonly alerts: readonly Alert[];
  /** The API returned its maximum: older alerts of the range may be missing. */
  readonly truncated: boolean;
}

/** Where the dashboard reads alerts and acts on them: `GET /v1/alerts` and its neighbours. */
export interface AlertHistorySource {
  /** Alerts active in the range, newest first; one series' only when `seriesId` is given. */
  history(range: { from: number; to: number }, seriesId?: string): Promise<AlertHistory>;
  /** One alert, by id (what a notification's link names). */
  alert(id: string): Promise<Alert>;
  /** Acknowledges an alert; returns it as it is now. */
  acknowledge(id: string): Promise<Alert>;
  /** Says an alert was normal (`POST /v1/alerts/{id}/feedback`); returns it as it is now, marked. */
  sayNormal(id: string): Promise<Alert>;
  /** Withdraws feedback (`DELETE /v1/feedback/{id}`); returns it, withdrawn. */
  withdrawFeedback(feedbackId: string): Promise<Feedback>;
}

/** The alerts API as the dashboard's alert source: a series' alerts are asked for by its id. */
export function alertsApi(api: ApiClient): AlertHistorySource {
  return {
    async history(range, seriesId) {
      const page = await api.get<AlertPageResponse>('/v1/alerts', {
        from: range.from,
        to: range.to,
        ...(seriesId !== undefined && { series: seriesId }),
        limit: alertPageLimit,
      });
      return { alerts: page.alerts, truncated: page.alerts.length >= alertPageLimit };
    },
    async alert(id) {
      const answer = await api.get<{ alert: Alert }>(`/v1/alerts/${encodeURIComponent(id)}`);
      return answer.alert;
    },
    async acknowledge(id) {
      const answer = await api.post<{ alert: Alert }>(`/v1/alerts/${encodeURIComponent(id)}/acknowledge`);
      return answer.alert;
    },
    async sayNormal(id) {
      const answer = await api.post<{ alert: Alert }>(`/v1/alerts/${encodeURIComponent(id)}/feedback`, {
        verdict: 'normal',
      });
      return answer.alert;
    },
    async withdrawFeedback(feedbackId) {
      const answer = await api.delete<{ feedback: Feedback }>(
        `/v1/feedback/${encodeURIComponent(feedbackId)}`,
      );
      return answer.feedback;
    },
  };
}

/**
 * The window a series view shows around an alert, marking its start: centred on it, but ending at now (an
 * open or recent alert is shown with the hours before it and up to now, not half a chart of future).
 */
export const alertWindow = (alert: Alert, now: number): SeriesViewWindow =>
  endingByNow(windowAround(alert.startedAt, alert.resolvedAt ?? Math.max(now, alert.startedAt)), now);

/** The dashboard link of an alert: its series view around it (the shape anomalies link with too). */
export const alertHref = (alert: Alert, now: number): string =>
  seriesViewFragment(alert.seriesId, alertWindow(alert, now));

/**
 * Whether an alert is the one a view was opened for: the view marks the alert's start (`at`), or names it.
 */
export const isMarkedAlert = (alert: Alert, marked: { at?: number; alert?: string }): boolean =>
  alert.id === marked.alert || alert.startedAt === marked.at;

/** Open alerts first (the ones to act on), then the newest. */
export function byUrgency(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort((a, b) =>
    a.state === b.state ? b.startedAt - a.startedAt || a.id.localeCompare(b.id) : a.state === 'open' ? -1 : 1,
  );
}
