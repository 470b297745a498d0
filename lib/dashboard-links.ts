/**
 * Every link into the dashboard is built here: the query API's anomalies, the alerts' notifications and the
 * dashboard's own lists all use these builders, so the dashboard has one set of shapes to route. A leaf
 * module (it imports nothing) at the top of lib/, so the query API, the band job and the dashboard each import
 * it from below.
 *
 * The dashboard is served at `/` and addresses its views in the fragment:
 * - `#/series/<seriesId>?from=&to=&at=`: a series between `from` and `to` (epoch ms), marking the instant `at`
 *   (an anomaly, or an alert's start). The dashboard's own alert links and the anomalies' `link` take this
 *   shape.
 * - `#/series/<seriesId>?alert=<alertId>`: a series around one alert. Notifications carry this shape because
 *   an alert's end is not known when it opens; the dashboard reads the alert, then shows the window around it
 *   (the first shape) with the alert marked.
 */
import { hourMs } from './time.ts';

/** What a series view shows: a range and an instant to mark. */
export interface SeriesViewWindow {
  readonly from: number;
  readonly to: number;
  readonly at: number;
}

/** The context shown either side of an instant or an alert, at least. */
export const defaultContextMs = 6 * hourMs;

/**
 * The window centred on `[start, end]`: the span with `contextMs`, or its own length if longer, either side,
 * marking `start`.
 *
 * @example windowAround(100_000_000, 100_900_000) // { from: 78_400_000, to: 122_500_000, at: 100_000_000 }
 */
export function windowAround(start: number, end = start, contextMs = defaultContextMs): SeriesViewWindow {
  const context = Math.max(contextMs, end - start);
  return { from: start - context, to: end + context, at: start };
}

/** What a series view's fragment may say: an absolute range (`from`, `to`), a preset range, an instant to mark. */
export interface SeriesViewQuery {
  readonly from?: number;
  readonly to?: number;
  readonly at?: number;
  /** A range preset relative to now (`6h`, `1d`, `7d`, `30d`), when there is no absolute range. */
  readonly range?: string;
}

/**
 * The fragment of a series view (`#/series/<id>?from=&to=&at=`), with the parameters given, in that order.
 *
 * @example seriesViewFragment('abc', { from: 1, to: 3, at: 2 }) // '#/series/abc?from=1&to=3&at=2'
 * @example seriesViewFragment('abc', { range: '30d' }) // '#/series/abc?range=30d'
 */
export function seriesViewFragment(seriesId: string, view: SeriesViewQuery = {}): string {
  const query = new URLSearchParams();
  for (const name of ['from', 'to', 'at', 'range'] as const) {
    const value = view[name];
    if (value !== undefined) query.set(name, String(value));
  }
  const search = query.toString();
  return `#/series/${encodeURIComponent(seriesId)}${search === '' ? '' : `?${search}`}`;
}

/**
 * The fragment of a series view around an alert (`#/series/<id>?alert=<alertId>`).
 *
 * @example alertViewFragment('0123456789abcdef', 'al_3f9c') // '#/series/0123456789abcdef?alert=al_3f9c'
 */
export const alertViewFragment = (seriesId: string, alertId: string): string =>
  `#/series/${encodeURIComponent(seriesId)}?alert=${encodeURIComponent(alertId)}`;

/**
 * The dashboard's address of a series view around an instant, relative to the API's root: what an anomaly
 * links to. The view opens on `contextMs` either side of `at` and marks `at`.
 *
 * @example seriesViewPath('0123456789abcdef', 1764028800000) // '/#/series/0123456789abcdef?from=...&to=...&at=1764028800000'
 */
export const seriesViewPath = (seriesId: string, at: number, contextMs = defaultContextMs): string =>
  `/${seriesViewFragment(seriesId, windowAround(at, at, contextMs))}`;

/** An absolute dashboard link: `<baseUrl>/<fragment>`, given the dashboard's base URL. */
export const dashboardLink = (baseUrl: string, fragment: string): string =>
  `${baseUrl.replace(/\/+$/, '')}/${fragment}`;

/** The absolute link of a series view around an instant, given the dashboard's base URL. */
export const seriesViewUrl = (baseUrl: string, seriesId: string, at: number): string =>
  dashboardLink(baseUrl, seriesViewFragment(seriesId, windowAround(at)));

/**
 * The absolute link of a series view around an alert, as notifications carry it:
 * `<dashboardUrl>/#/series/<seriesId>?alert=<alertId>`.
 */
export const alertViewUrl = (baseUrl: string, seriesId: string, alertId: string): string =>
  dashboardLink(baseUrl, alertViewFragment(seriesId, alertId));

/**
 * The absolute link of an incident's view, as incident notifications carry it:
 * `<dashboardUrl>/#/incidents/<incidentId>` (the view draws its members on one time axis).
 */
export const incidentViewUrl = (baseUrl: string, incidentId: string): string =>
  dashboardLink(baseUrl, `#/incidents/${encodeURIComponent(incidentId)}`);
