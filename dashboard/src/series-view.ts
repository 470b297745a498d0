import type { PointsResponse, SeriesView } from './api.ts';
import { chartColumns } from './chart-data.ts';
import { bandChart } from './charts.ts';
import type { ViewContext } from './context.ts';
import { h, replace } from './dom.ts';
import { formatAgo, formatDuration, formatTime, formatValue } from './format.ts';
import { type Route, rangePresets, seriesHash } from './route.ts';
import { alertItem } from './series-list.ts';

type SeriesRoute = Extract<Route, { view: 'series' }>;

/** The smallest range a zoom may narrow to, in series steps (a band needs a few buckets to be seen). */
const minimumZoomSteps = 6;

/**
 * One series: its line, the band of normalcy shaded around it, anomalies marked, the alert the view was
 * opened for marked with a vertical line; range presets, drag to zoom, and the series' alert history.
 */
export async function seriesDetailView(context: ViewContext, route: SeriesRoute): Promise<void> {
  const { app, api, now } = context;
  const to = route.to ?? now;
  const from =
    route.from ?? to - (rangePresets[route.range as keyof typeof rangePresets] ?? rangePresets['7d']);
  const [{ series }, points] = await Promise.all([
    api.get<{ series: SeriesView }>(`/v1/series/${encodeURIComponent(route.id)}`),
    api.get<PointsResponse>(`/v1/series/${encodeURIComponent(route.id)}/points`, { from, to }),
  ]);
  if (!context.isCurrent()) return;

  const chartBox = h('div', { class: 'chart', 'data-testid': 'band-chart' });
  const alertList = h(
    'ol',
    { class: 'alerts', 'data-testid': 'series-alerts' },
    h('li', { class: 'muted' }, 'Loading…'),
  );
  const presets = Object.keys(rangePresets).map((preset) =>
    h(
      'a',
      {
        href: seriesHash(series.id, { range: preset }),
        class: `preset${route.range === preset ? ' selected' : ''}`,
      },
      preset,
    ),
  );
  const zoomed = route.range === undefined;
  const dimensions = Object.entries(series.dimensions).map(([key, value]) =>
    h('span', { class: 'chip' }, `${key}=${value}`),
  );
  const facts = [
    ['type', series.type],
    ['step', series.stepMs === null ? 'not learned yet' : formatDuration(series.stepMs)],
    ['seasonality', series.seasonality ?? 'not reported'],
    ['kind', series.kind ?? 'not reported'],
    ['last value', `${formatValue(series.lastValue)} (${formatAgo(series.lastTimestamp, now)})`],
  ];
  replace(
    app,
    h('p', {}, h('a', { href: '#/' }, '← All series')),
    h(
      'section',
      { class: 'card' },
      h(
        'div',
        { class: 'title' },
        h('span', { class: `status ${series.anomalous ? 'bad' : 'good'}` }),
        h('h1', {}, series.name),
        h('div', { class: 'chips' }, ...dimensions),
        series.anomalous
          ? h('span', { class: 'badge bad' }, 'outside its band now')
          : h('span', { class: 'badge good' }, 'within its band'),
      ),
      h(
        'dl',
        { class: 'facts' },
        ...facts.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
      ),
      h(
        'div',
        { class: 'toolbar' },
        h('span', { class: 'presets' }, ...presets),
        zoomed ? h('a', { href: seriesHash(series.id), class: 'preset' }, 'reset zoom') : null,
        h(
          'span',
          { class: 'muted small' },
          `${formatTime(from)} – ${formatTime(to)}, step ${points.step}`,
          ' · drag across the chart to zoom',
        ),
      ),
      chartBox,
      h(
        'p',
        { class: 'legend-note muted small' },
        h('span', { class: 'swatch band' }),
        ' band of normalcy  ',
        h('span', { class: 'swatch anomaly' }),
        ' anomaly',
        points.stepMs > points.seriesStepMs ? '  · lighter shade: min–max of the values in each step' : '',
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Alert history ', h('span', { class: 'muted' }, '(this range)')),
      alertList,
    ),
  );

  if (points.points.length === 0) {
    replace(chartBox, h('p', { class: 'muted' }, 'No points in this range.'));
  } else {
    const draw = () => {
      chartBox.replaceChildren();
      context.own(
        bandChart(chartBox, chartColumns(points), {
          width: Math.max(320, chartBox.clientWidth),
          height: 360,
          envelope: points.stepMs > points.seriesStepMs,
          markAt: route.at,
          onZoom: (zoomFrom, zoomTo) => {
            const minimum = minimumZoomSteps * points.seriesStepMs;
            const middle = (zoomFrom + zoomTo) / 2;
            const [start, end] =
              zoomTo - zoomFrom >= minimum
                ? [zoomFrom, zoomTo]
                : [middle - minimum / 2, middle + minimum / 2];
            location.hash = seriesHash(series.id, {
              from: Math.round(start),
              to: Math.round(end),
              at: route.at,
            });
          },
        }),
      );
    };
    draw();
    chartBox.dataset.points = String(points.points.length);
    chartBox.dataset.bands = String(points.points.filter((point) => point.lower !== null).length);
    chartBox.dataset.anomalies = String(points.points.filter((point) => point.anomaly).length);
    chartBox.dataset.state = 'drawn';
  }

  const episodes = await context.alerts.history({ from, to }, series.id);
  if (!context.isCurrent()) return;
  replace(
    alertList,
    ...(episodes.length === 0
      ? [h('li', { class: 'muted' }, 'No alerts in this range.')]
      : episodes.map((episode) => alertItem(episode, now))),
  );
}
