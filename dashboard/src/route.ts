/**
 * The dashboard's views, addressed in the URL fragment so that links (from alerts, notifications, anomalies)
 * open them. The links are built in `lib/dashboard-links.ts`, for the API and the dashboard alike.
 */
export type Route =
  | { readonly view: 'list'; readonly pattern: string | undefined }
  | {
      readonly view: 'incident';
      readonly id: string;
      /** A range zoomed to (epoch ms); undefined: the incident with hours either side. */
      readonly from: number | undefined;
      readonly to: number | undefined;
    }
  | {
      readonly view: 'series';
      readonly id: string;
      /** A preset relative to now (`7d`), or undefined when `from`/`to` are given. */
      readonly range: string | undefined;
      readonly from: number | undefined;
      readonly to: number | undefined;
      /** An instant to mark (the alert or anomaly the view was opened for). */
      readonly at: number | undefined;
      /** An alert to show the view around (a notification's link): its window and start are read from the API. */
      readonly alert: string | undefined;
    };

export const rangePresets = {
  '6h': 6 * 3_600_000,
  '1d': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};
export type RangePreset = keyof typeof rangePresets;
export const defaultRange: RangePreset = '7d';

const number = (text: string | null): number | undefined =>
  text !== null && /^\d+$/.test(text) ? Number(text) : undefined;

/**
 * Reads a fragment such as `#/series/0123456789abcdef?from=1&to=2&at=1`, `#/series/0123456789abcdef?alert=al_1`
 * or `#/incidents/in_0123…?from=1&to=2`.
 * Anything unknown is the list.
 */
export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?', 2);
  const query = new URLSearchParams(search);
  const incident = /^\/incidents\/([^/]+)$/.exec(path);
  if (incident?.[1]) {
    const from = number(query.get('from'));
    const to = number(query.get('to'));
    const absolute = from !== undefined && to !== undefined && from < to;
    return {
      view: 'incident',
      id: decodeURIComponent(incident[1]),
      from: absolute ? from : undefined,
      to: absolute ? to : undefined,
    };
  }
  const series = /^\/series\/([^/]+)$/.exec(path);
  if (series?.[1]) {
    const from = number(query.get('from'));
    const to = number(query.get('to'));
    const absolute = from !== undefined && to !== undefined && from < to;
    const range = query.get('range');
    return {
      view: 'series',
      id: decodeURIComponent(series[1]),
      range: absolute ? undefined : range !== null && range in rangePresets ? range : defaultRange,
      from: absolute ? from : undefined,
      to: absolute ? to : undefined,
      at: number(query.get('at')),
      alert: query.get('alert') || undefined,
    };
  }
  return { view: 'list', pattern: query.get('pattern') || undefined };
}

/**
 * A range cut at now, so a view shows no empty future: a link made around a recent alert or anomaly reaches
 * hours past it. A range wholly ahead of now (a clock set wrong) is kept as asked.
 *
 * @example endingByNow({ from: 10, to: 30 }, 20) // { from: 10, to: 20 }
 */
export const endingByNow = <Range extends { readonly from: number; readonly to: number }>(
  range: Range,
  now: number,
): Range => (range.to > now && now > range.from ? { ...range, to: now } : range);

/** The range (epoch ms) a series view shows: its absolute range or its preset, ending at now at the latest. */
export function seriesViewRange(
  route: Pick<Extract<Route, { view: 'series' }>, 'from' | 'to' | 'range'>,
  now: number,
): { from: number; to: number } {
  if (route.from !== undefined && route.to !== undefined) {
    return endingByNow({ from: route.from, to: route.to }, now);
  }
  const length = rangePresets[route.range as RangePreset] ?? rangePresets[defaultRange];
  return { from: now - length, to: now };
}
