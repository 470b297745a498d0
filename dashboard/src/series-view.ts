import { seriesViewFragment } from '../../lib/dashboard-links.ts';
import { type AlertHistory, alertWindow, isMarkedAlert } from './alert-history.ts';
import { alertItem } from './alert-item.ts';
import type { PointsResponse, SeriesView } from './api.ts';
import { chartColumns, hasNonPositive, linearBelow } from './chart-data.ts';
import { bandChart, fitToWidth, type ReplayedSpan } from './charts.ts';
import type { ViewContext } from './context.ts';
import { h, replace } from './dom.ts';
import { feedbackPanel } from './feedback-panel.ts';
import { formatAgo, formatDuration, formatTime, formatValue } from './format.ts';
import { replayPanel } from './replay-panel.ts';
import { type Route, rangePresets, seriesViewRange } from './route.ts';

type SeriesRoute = Extract<Route, { view: 'series' }>;

/** The chart fills its box (a phone's 390 px as well as a wide screen), never less than a usable 200 px. */
const chartWidth = (box: HTMLElement): number => Math.max(200, Math.floor(box.clientWidth));
/** A shorter chart on a narrow screen, so the legend and the alerts below it stay in reach. */
const chartHeight = (width: number): number => (width < 600 ? 240 : 360);

/** The smallest range a zoom may narrow to, in series steps (a band needs a few buckets to be seen). */
const minimumZoomSteps = 6;

/**
 * A notification's link (`?alert=<id>`) names an alert, not a window: reads the alert, then shows the window
 * around it, putting the same link the dashboard's own lists use (`?from=&to=&at=`) in the address bar.
 */
async function resolveAlertLink(context: ViewContext, route: SeriesRoute): Promise<SeriesRoute> {
  if (route.alert === undefined || route.from !== undefined) return route;
  const alert = await context.alerts.alert(route.alert);
  const window = alertWindow(alert, context.now);
  if (context.isCurrent()) {
    const fragment = seriesViewFragment(alert.seriesId, window);
    history.replaceState(null, '', `${location.pathname}${location.search}${fragment}`);
  }
  return { ...route, id: alert.seriesId, range: undefined, ...window };
}

/**
 * One series: its line, the band of normalcy shaded around it, anomalies marked, the alert the view was
 * opened for marked (a line at its start, its span shaded, highlighted in the list); range presets, drag to
 * zoom, "what would a rule page?" (a replay of a saved or draft rule over the range, its would-be alerts
 * listed and marked on the chart in violet), the series' alerts in the range, open ones with a button to
 * acknowledge them, each with "This was normal", and what people said of the series ("Mark as incident" on the
 * range shown, the feedback listed with buttons to withdraw it).
 */
export async function seriesDetailView(context: ViewContext, opened: SeriesRoute): Promise<void> {
  const { app, api, now } = context;
  const route = await resolveAlertLink(context, opened);
  if (!context.isCurrent()) return;
  const { from, to } = seriesViewRange(route, now);
  const [{ series }, points, history] = await Promise.all([
    api.get<{ series: SeriesView }>(`/v1/series/${encodeURIComponent(route.id)}`),
    api.get<PointsResponse>(`/v1/series/${encodeURIComponent(route.id)}/points`, { from, to }),
    // Without alerts the chart is still worth showing: the list says what went wrong.
    context.alerts.history({ from, to }, route.id).catch((error: unknown) => error as Error),
  ]);
  if (!context.isCurrent()) return;
  const marked =
    history instanceof Error ? [] : history.alerts.filter((alert) => isMarkedAlert(alert, route));

  const chartBox = h('div', { class: 'chart', 'data-testid': 'band-chart' });
  const scale = logScaleToggle(series.id);
  const scaleNote = h('span', { 'data-testid': 'scale-note' });
  // The would-be alerts of the last replay, drawn over the chart (violet) until the view changes.
  let replayed: readonly ReplayedSpan[] = [];
  let redraw = () => {};
  const replay = replayPanel({
    api,
    seriesId: series.id,
    range: { from, to },
    isCurrent: context.isCurrent,
    onReplay(alerts) {
      replayed = alerts.map(({ alert }) => ({
        from: alert.startedAt,
        to: alert.resolvedAt ?? to,
        openedAt: alert.openedAt,
      }));
      chartBox.dataset.replayedAlerts = alerts.map(({ alert }) => alert.id).join(' ');
      redraw();
    },
  });
  const alertList = h('ol', { class: 'alerts', 'data-testid': 'series-alerts' });
  const presets = Object.keys(rangePresets).map((preset) =>
    h(
      'a',
      {
        href: seriesViewFragment(series.id, { range: preset }),
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
    ...(series.fault
      ? [
          [
            'not banded',
            `kept aside since ${formatTime(series.fault.since)}: ${series.fault.reason} ` +
              `(tried again at ${formatTime(series.fault.retryAt)})`,
          ],
        ]
      : []),
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
        series.fault
          ? h('span', { class: 'badge bad', 'data-testid': 'series-fault' }, 'kept aside: not banded')
          : series.anomalous
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
        zoomed ? h('a', { href: seriesViewFragment(series.id), class: 'preset' }, 'reset zoom') : null,
        points.points.length === 0 ? null : scale.button,
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
        route.at === undefined ? '' : '  ',
        route.at === undefined ? null : h('span', { class: 'swatch marker' }),
        route.at === undefined ? '' : marked.length > 0 ? ' the alert you opened' : ' the instant you opened',
        points.stepMs > points.seriesStepMs ? '  · lighter shade: min–max of the values in each step' : '',
        scaleNote,
      ),
    ),
    replay,
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Alert history ', h('span', { class: 'muted' }, '(this range)')),
      alertList,
    ),
    feedbackPanel({ api, seriesId: series.id, range: { from, to }, now, isCurrent: context.isCurrent }),
  );

  if (points.points.length === 0) {
    replace(chartBox, h('p', { class: 'muted' }, 'No points in this range.'));
  } else {
    const columns = chartColumns(points);
    let chart: uPlot | undefined;
    let stopFitting = () => {};
    const draw = () => {
      chart?.destroy();
      stopFitting();
      chart = context.own(
        bandChart(chartBox, columns, {
          width: chartWidth(chartBox),
          height: chartHeight(chartWidth(chartBox)),
          envelope: points.stepMs > points.seriesStepMs,
          logScale: scale.isLog(),
          range: { from, to },
          markAt: route.at,
          markSpans: marked.map((alert) => ({ from: alert.startedAt, to: alert.resolvedAt ?? now })),
          replayed: () => replayed,
          onZoom: (zoomFrom, zoomTo) => {
            const minimum = minimumZoomSteps * points.seriesStepMs;
            const middle = (zoomFrom + zoomTo) / 2;
            const [start, end] =
              zoomTo - zoomFrom >= minimum
                ? [zoomFrom, zoomTo]
                : [middle - minimum / 2, middle + minimum / 2];
            location.hash = seriesViewFragment(series.id, {
              from: Math.round(start),
              to: Math.round(end),
              at: route.at,
            });
          },
        }),
      );
      stopFitting = fitToWidth(chart, chartBox, chartHeight);
      chartBox.dataset.scale = scale.isLog() ? 'log' : 'linear';
      scaleNote.textContent = !scale.isLog()
        ? ''
        : hasNonPositive(columns)
          ? `  · log scale; values under ${formatValue(linearBelow(columns))}, 0 and below on a linear stretch`
          : '  · log scale';
    };
    scale.onChange(draw);
    draw();
    redraw = () => chart?.redraw(false);
    chartBox.dataset.points = String(points.points.length);
    chartBox.dataset.bands = String(points.points.filter((point) => point.lower !== null).length);
    chartBox.dataset.anomalies = String(points.points.filter((point) => point.anomaly).length);
    chartBox.dataset.from = String(from);
    chartBox.dataset.to = String(to);
    chartBox.dataset.state = 'drawn';
  }
  if (route.at !== undefined) chartBox.dataset.markAt = String(route.at);
  chartBox.dataset.markedAlerts = marked.map((alert) => alert.id).join(' ');

  replace(alertList, ...seriesAlertItems(context, history, route));
}

function seriesAlertItems(context: ViewContext, history: AlertHistory | Error, route: SeriesRoute) {
  if (history instanceof Error) {
    return [h('li', { class: 'error', role: 'alert' }, `Alerts: ${history.message}`)];
  }
  if (history.alerts.length === 0) return [h('li', { class: 'muted' }, 'No alerts in this range.')];
  const items = history.alerts.map((alert) =>
    alertItem(alert, { now: context.now, source: context.alerts, marked: isMarkedAlert(alert, route) }),
  );
  if (history.truncated) {
    items.push(
      h(
        'li',
        { class: 'muted small' },
        'Only the newest alerts of every series were read: zoom in to see older ones.',
      ),
    );
  }
  return items;
}

/** Where a series' choice of scale is kept: this browser, per series, so its view opens as it was left. */
const logScaleItem = (seriesId: string) => `normalcy.logScale.${seriesId}`;

/**
 * The "log scale" toggle of a series' chart (pressed: logarithmic). The choice is kept in this browser for
 * the series, across its ranges and visits; `onChange` redraws the chart.
 */
function logScaleToggle(seriesId: string) {
  let log = localStorage.getItem(logScaleItem(seriesId)) === 'on';
  let changed = () => {};
  const button = h(
    'button',
    {
      type: 'button',
      class: 'toggle',
      'aria-pressed': String(log),
      'data-testid': 'log-scale',
      title: 'A logarithmic value axis: a spike far above the usual level no longer flattens the band',
    },
    'log scale',
  );
  button.addEventListener('click', () => {
    log = !log;
    if (log) localStorage.setItem(logScaleItem(seriesId), 'on');
    else localStorage.removeItem(logScaleItem(seriesId));
    button.setAttribute('aria-pressed', String(log));
    changed();
  });
  return {
    button,
    isLog: () => log,
    onChange(draw: () => void) {
      changed = draw;
    },
  };
}
