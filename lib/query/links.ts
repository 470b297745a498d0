/**
 * The dashboard's address of a series view around an instant, relative to the API's root (the dashboard is
 * served at `/`): what an alert or a notification links to. The view opens on `contextMs` either side of
 * `at` and marks `at`.
 *
 * @example seriesViewPath('0123456789abcdef', 1764028800000) // '/#/series/0123456789abcdef?from=...&to=...&at=1764028800000'
 */
export function seriesViewPath(seriesId: string, at: number, contextMs = 6 * 3_600_000): string {
  const query = new URLSearchParams({
    from: String(at - contextMs),
    to: String(at + contextMs),
    at: String(at),
  });
  return `/#/series/${encodeURIComponent(seriesId)}?${query.toString()}`;
}

/** The absolute link for a notification, given the API's base URL (`ApiUrl` output, or the local server). */
export const seriesViewUrl = (baseUrl: string, seriesId: string, at: number): string =>
  `${baseUrl.replace(/\/+$/, '')}${seriesViewPath(seriesId, at)}`;
