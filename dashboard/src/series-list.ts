import { type AlertHistory, byUrgency } from './alert-history.ts';
import { alertItem } from './alert-item.ts';
import type { Alert, IncidentView, PointsResponse, SeriesPageResponse, SeriesView } from './api.ts';
import { chartColumns } from './chart-data.ts';
import { fitToWidth, sparkline } from './charts.ts';
import type { ViewContext } from './context.ts';
import { h, replace } from './dom.ts';
import { formatAgo, formatDuration, formatValue } from './format.ts';
import { incidentItem, incidentsApi, incidentsByUrgency } from './incident-list.ts';

const sparklineRangeMs = 7 * 86_400_000;
const sparklineHeight = 36;
const alertRangeMs = 7 * 86_400_000;
const alertsShown = 12;
const incidentsShown = 12;
const pageSize = 100;

/** A filter as typed: a glob when it has `*` or `?`, otherwise a part of the name. */
const toPattern = (text: string): string | undefined => {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return /[*?]/.test(trimmed) ? trimmed : `*${trimmed}*`;
};

/**
 * The first view: recent incidents (their alerts folded under them) and the alerts of none, then every series with a sparkline of its last week and its band, the
 * anomalous ones first.
 */
export async function seriesListView(context: ViewContext, filter: string | undefined): Promise<void> {
  const { app, api, now } = context;
  const pattern = toPattern(filter ?? '');
  const alertList = h(
    'ol',
    { class: 'alerts', 'data-testid': 'alerts' },
    h('li', { class: 'muted' }, 'Loading…'),
  );
  const rows = h('tbody', {});
  const count = h('span', { class: 'muted' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more');
  const search = h('input', {
    type: 'search',
    placeholder: 'Filter by name (shop.* or part of a name)',
    value: filter ?? '',
    'aria-label': 'Filter series',
  });
  search.addEventListener('change', () => {
    const value = search.value.trim();
    location.hash = value ? `#/?pattern=${encodeURIComponent(value)}` : '#/';
  });
  replace(
    app,
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Recent incidents and alerts ', h('span', { class: 'muted' }, '(last 7 days)')),
      alertList,
    ),
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'toolbar' }, h('h2', {}, 'Series'), search, count),
      h(
        'table',
        { class: 'series-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, ''),
            h('th', {}, 'series'),
            h('th', {}, 'last 7 days'),
            h('th', {}, 'last value'),
            h('th', {}, 'learned'),
          ),
        ),
        rows,
      ),
      more,
    ),
  );

  const sparklines = lazySparklines(context);
  const shown: SeriesView[] = [];
  const add = (series: readonly SeriesView[]) => {
    for (const entry of series) {
      const row = seriesRow(entry, now);
      rows.append(row);
      sparklines.observe(row, entry);
      shown.push(entry);
    }
    count.textContent = `${shown.length} shown, ${shown.filter((s) => s.anomalous).length} anomalous now`;
  };

  const recentRange = { from: now - alertRangeMs, to: now + 60_000 };
  const loadAlerts = Promise.all([
    context.alerts.history(recentRange),
    incidentsApi(api).list(recentRange, incidentsShown * 4),
  ])
    .then(
      ([history, incidents]) =>
        context.isCurrent() && replace(alertList, ...recentItems(context, history, incidents)),
    )
    .catch((error: unknown) => {
      if (context.isCurrent()) {
        replace(alertList, h('li', { class: 'error', role: 'alert' }, `Alerts: ${(error as Error).message}`));
      }
    });

  // Anomalous series first (every page of them), then the rest a page at a time.
  const anomalous = await api.all<SeriesView, SeriesPageResponse>(
    '/v1/series',
    { anomalous: true, pattern, limit: 500 },
    (page) => page.series,
  );
  if (!context.isCurrent()) return;
  add(anomalous);
  let cursor: string | undefined;
  const nextPage = async () => {
    const page = await api.get<SeriesPageResponse>('/v1/series', {
      anomalous: false,
      pattern,
      limit: pageSize,
      cursor,
    });
    if (!context.isCurrent()) return;
    add(page.series);
    cursor = page.nextCursor ?? undefined;
    more.hidden = cursor === undefined;
  };
  more.addEventListener('click', () => {
    more.disabled = true;
    nextPage().finally(() => {
      more.disabled = false;
    });
  });
  await nextPage();
  if (shown.length === 0) {
    rows.append(
      h(
        'tr',
        {},
        h(
          'td',
          { colspan: '5', class: 'muted' },
          pattern ? 'No series match this filter.' : 'No series yet: send metrics to POST /v1/metrics.',
        ),
      ),
    );
  }
  await loadAlerts;
}

function seriesRow(series: SeriesView, now: number): HTMLTableRowElement {
  const link = h(
    'a',
    { href: `#/series/${encodeURIComponent(series.id)}`, class: 'series-name' },
    series.name,
  );
  const dimensions = Object.entries(series.dimensions).map(([key, value]) =>
    h('span', { class: 'chip' }, `${key}=${value}`),
  );
  const learned = [
    series.stepMs === null ? null : `step ${formatDuration(series.stepMs)}`,
    series.seasonality,
    series.kind,
  ].filter(Boolean);
  return h(
    'tr',
    { class: series.anomalous ? 'anomalous' : undefined, 'data-series-id': series.id },
    h(
      'td',
      { class: 'status-cell' },
      h('span', {
        class: `status ${series.anomalous ? 'bad' : 'good'}`,
        title: series.anomalous ? 'outside its band now' : 'within its band',
      }),
    ),
    h(
      'td',
      { class: 'name-cell' },
      link,
      h('div', { class: 'chips' }, h('span', { class: 'chip type' }, series.type), ...dimensions),
    ),
    // A placeholder until the sparkline is drawn, as the row comes near the screen (see lazySparklines).
    h(
      'td',
      { class: 'spark' },
      h('div', { class: 'spark-box', 'data-state': 'waiting', title: 'drawn as it comes into view' }),
    ),
    h(
      'td',
      { class: 'value-cell' },
      h('strong', {}, formatValue(series.lastValue)),
      h('div', { class: 'muted small' }, formatAgo(series.lastTimestamp, now)),
    ),
    h('td', { class: 'muted small learned-cell' }, learned.join(' · ') || '–'),
  );
}

/**
 * The incidents (open first, then the newest), each with its alerts folded under it, then the alerts that
 * belong to no incident (open first, then the newest), with a note when there are more than shown.
 */
function recentItems(
  context: ViewContext,
  history: AlertHistory,
  incidents: readonly IncidentView[],
): HTMLElement[] {
  if (history.alerts.length === 0 && incidents.length === 0) {
    return [h('li', { class: 'muted' }, 'No alerts in the last 7 days.')];
  }
  const alertsById = new Map<string, Alert>(history.alerts.map((alert) => [alert.id, alert]));
  const members = new Set(incidents.flatMap((incident) => incident.members.map((member) => member.alertId)));
  const shownIncidents = incidentsByUrgency(incidents).slice(0, incidentsShown);
  const items: HTMLElement[] = shownIncidents.map((incident) =>
    incidentItem(incident, {
      now: context.now,
      incidents: incidentsApi(context.api),
      alerts: context.alerts,
      alertsById,
    }),
  );
  const loose = history.alerts.filter((alert) => !members.has(alert.id));
  const shownAlerts = byUrgency(loose).slice(0, alertsShown);
  items.push(...shownAlerts.map((alert) => alertItem(alert, { now: context.now, source: context.alerts })));
  const hiddenIncidents = incidents.length - shownIncidents.length;
  const hidden = loose.length - shownAlerts.length;
  if (hidden > 0 || history.truncated || hiddenIncidents > 0) {
    const parts = [
      hiddenIncidents > 0 ? `${hiddenIncidents} more incidents` : null,
      hidden > 0 || history.truncated
        ? `${history.truncated ? 'more than ' : ''}${hidden} more alerts`
        : null,
    ].filter(Boolean);
    items.push(
      h(
        'li',
        { class: 'muted small' },
        `${capitalised(parts.join(' and '))} in the last 7 days: open a series to see its alerts.`,
      ),
    );
  }
  return items;
}

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** Draws sparklines as their rows scroll into view, a few requests at a time. */
function lazySparklines(context: ViewContext) {
  const pending = new Map<Element, SeriesView>();
  const queue: [Element, SeriesView][] = [];
  let running = 0;
  const pump = () => {
    while (running < 4 && queue.length > 0) {
      const next = queue.shift();
      if (!next) break;
      running += 1;
      drawSparkline(context, next[0], next[1]).finally(() => {
        running -= 1;
        pump();
      });
    }
  };
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        const series = pending.get(entry.target);
        if (!entry.isIntersecting || !series) continue;
        pending.delete(entry.target);
        observer.unobserve(entry.target);
        queue.push([entry.target, series]);
      }
      pump();
    },
    // Rows a little below the screen load too, so a sparkline is there by the time it is scrolled to.
    { rootMargin: '300px 0px' },
  );
  return {
    observe(row: Element, series: SeriesView) {
      pending.set(row, series);
      observer.observe(row);
    },
  };
}

async function drawSparkline(context: ViewContext, row: Element, series: SeriesView): Promise<void> {
  const box = row.querySelector<HTMLElement>('.spark-box');
  if (!box) return;
  box.dataset.state = 'loading';
  try {
    const response = await context.api.get<PointsResponse>(
      `/v1/series/${encodeURIComponent(series.id)}/points`,
      {
        from: context.now - sparklineRangeMs,
        to: context.now,
        maxPoints: 168,
      },
    );
    if (!context.isCurrent()) return;
    if (response.points.length === 0) {
      box.textContent = 'no data this week';
      box.dataset.state = 'empty';
      return;
    }
    // As wide as its cell: 180 px in the wide table, the row's width on a phone.
    const width = () => Math.max(120, Math.floor(box.clientWidth));
    const chart = context.own(sparkline(box, chartColumns(response), width(), sparklineHeight));
    fitToWidth(chart, box, () => sparklineHeight);
    box.dataset.state = 'drawn';
  } catch {
    box.textContent = '–';
    box.dataset.state = 'failed';
  }
}
