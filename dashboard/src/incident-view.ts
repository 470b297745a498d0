import { alertViewFragment } from '../../lib/dashboard-links.ts';
import { alertItem } from './alert-item.ts';
import type {
  Alert,
  IncidentDetail,
  IncidentMemberView,
  IncidentTimelineEvent,
  PointsResponse,
} from './api.ts';
import { chartColumns } from './chart-data.ts';
import { bandChart, fitToWidth } from './charts.ts';
import type { ViewContext } from './context.ts';
import { h, replace } from './dom.ts';
import { formatDuration, formatTime, seriesLabel } from './format.ts';
import {
  eventDetail,
  incidentFragment,
  incidentRange,
  incidentsApi,
  incidentTiming,
  originOf,
} from './incident-list.ts';
import type { Route } from './route.ts';

type IncidentRoute = Extract<Route, { view: 'incident' }>;

/** Stacked charts: each shorter than a series view's, so several fit on a screen. */
const chartHeight = (width: number): number => (width < 600 ? 150 : 180);
const chartWidth = (box: HTMLElement): number => Math.max(200, Math.floor(box.clientWidth));

/** The fragment of an incident's view zoomed to a range. */
const zoomedFragment = (incidentId: string, from: number, to: number): string =>
  `${incidentFragment(incidentId)}?from=${Math.round(from)}&to=${Math.round(to)}`;

/** The members of each series, in the order the incident lists them (origin first). */
function bySeries(members: readonly IncidentMemberView[]): IncidentMemberView[][] {
  const groups = new Map<string, IncidentMemberView[]>();
  for (const member of members) {
    const group = groups.get(member.seriesId);
    if (group) group.push(member);
    else groups.set(member.seriesId, [member]);
  }
  return [...groups.values()];
}

const eventLabels: Readonly<Record<IncidentTimelineEvent['kind'], string>> = {
  opened: 'opened',
  joined: 'joined',
  critical: 'rose to critical',
  'member-resolved': 'member resolved',
  resolved: 'resolved',
  acknowledged: 'acknowledged',
};

/**
 * One incident (`#/incidents/<id>`, where its notifications link): what it is (worst severity, where it
 * started, when, what tied it), its member series drawn stacked on ONE time axis (each with its band, as the
 * series view draws it; every chart shows the same range, their cursors move together, a dashed line on each
 * where the origin left its band, each member's own span shaded), the origin said to have left its band
 * first, its timeline, and its alerts (explained, with their buttons).
 */
export async function incidentDetailView(context: ViewContext, route: IncidentRoute): Promise<void> {
  const { app, api, now } = context;
  const incidents = incidentsApi(api);
  const incident = await incidents.incident(route.id);
  if (!context.isCurrent()) return;
  const { from, to } = incidentRange(incident, route, now);
  const origin = originOf(incident);
  const groups = bySeries(incident.members);
  const [pointsBySeries, history] = await Promise.all([
    Promise.all(
      groups.map((group) =>
        api
          .get<PointsResponse>(`/v1/series/${encodeURIComponent(group[0]?.seriesId ?? '')}/points`, {
            from,
            to,
          })
          .catch((error: unknown) => error as Error),
      ),
    ),
    context.alerts.history({ from, to }).catch((error: unknown) => error as Error),
  ]);
  if (!context.isCurrent()) return;
  const memberIds = new Set(incident.members.map((member) => member.alertId));
  const alertsById = new Map<string, Alert>(
    history instanceof Error
      ? []
      : history.alerts.filter((alert) => memberIds.has(alert.id)).map((alert) => [alert.id, alert]),
  );
  const labelOf = new Map(
    incident.members.map((member) => [member.alertId, seriesLabel(member.name, member.dimensions)]),
  );

  const charts = h('div', { class: 'incident-charts', 'data-testid': 'incident-charts' });
  const zoomed = route.from !== undefined;
  replace(
    app,
    h('p', {}, h('a', { href: '#/' }, '← All series')),
    h(
      'section',
      { class: 'card', 'data-testid': 'incident', 'data-incident-id': incident.id },
      h(
        'div',
        { class: 'title' },
        h('span', { class: `severity ${incident.severity}` }, incident.severity),
        h('span', { class: `state ${incident.state}` }, incident.state),
        h('h1', {}, 'Incident: started with ', origin ? seriesLabel(origin.name, origin.dimensions) : '–'),
      ),
      h(
        'dl',
        { class: 'facts' },
        ...[
          ['when', incidentTiming(incident, now)],
          ['alerts', String(incident.memberCount)],
          ['tied by', incident.tiedBy.length === 0 ? 'one alert' : incident.tiedBy.join(', ')],
          [
            'acknowledged',
            incident.acknowledgedAt === null
              ? 'not yet'
              : `by ${incident.acknowledgedBy ?? 'someone'}, ${formatTime(incident.acknowledgedAt)}`,
          ],
        ].flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
      ),
      incident.state === 'open' && incident.acknowledgedAt === null
        ? acknowledgeButton(context, incident)
        : null,
    ),
    h(
      'section',
      { class: 'card' },
      h(
        'div',
        { class: 'toolbar' },
        h('h2', {}, 'Its series, on one time axis'),
        zoomed ? h('a', { href: incidentFragment(incident.id), class: 'preset' }, 'reset zoom') : null,
        h(
          'span',
          { class: 'muted small' },
          `${formatTime(from)} – ${formatTime(to)}`,
          ' · drag across a chart to zoom them all',
        ),
      ),
      h(
        'p',
        { class: 'legend-note muted small' },
        h('span', { class: 'swatch band' }),
        ' band of normalcy  ',
        h('span', { class: 'swatch anomaly' }),
        ' anomaly  ',
        h('span', { class: 'swatch marker' }),
        ' where the origin left its band (dashed), each alert its span',
      ),
      charts,
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Timeline'),
      h(
        'ol',
        { class: 'timeline', 'data-testid': 'incident-timeline' },
        ...incident.timeline.map((event) =>
          h(
            'li',
            { 'data-kind': event.kind },
            h('span', { class: 'when muted small' }, formatTime(event.at)),
            h('span', { class: `event ${event.kind}` }, eventLabels[event.kind] ?? event.kind),
            event.alertId
              ? h('span', { class: 'event-series' }, labelOf.get(event.alertId) ?? event.alertId)
              : null,
            eventDetail(event, labelOf) === ''
              ? null
              : h('span', { class: 'muted small event-detail' }, eventDetail(event, labelOf)),
          ),
        ),
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Its alerts'),
      h(
        'ol',
        { class: 'alerts', 'data-testid': 'incident-alerts' },
        ...(history instanceof Error
          ? [h('li', { class: 'error', role: 'alert' }, `Alerts: ${history.message}`)]
          : []),
        ...incident.members.map((member) => {
          const alert = alertsById.get(member.alertId);
          const isOrigin = member.alertId === incident.originAlertId;
          return alert
            ? alertItem(alert, { now, source: context.alerts, origin: isOrigin })
            : h(
                'li',
                { class: 'alert', 'data-alert-id': member.alertId },
                h('span', { class: `severity ${member.severity}` }, member.severity),
                h(
                  'a',
                  { href: alertViewFragment(member.seriesId, member.alertId), class: 'alert-link' },
                  labelOf.get(member.alertId),
                ),
                h('div', { class: 'alert-detail muted small' }, member.reason),
              );
        }),
      ),
    ),
  );

  groups.forEach((group, index) => {
    const first = group[0];
    const points = pointsBySeries[index];
    if (!first || !points) return;
    const isOrigin = group.some((member) => member.alertId === incident.originAlertId);
    const box = h('div', {
      class: 'chart',
      'data-testid': 'incident-chart',
      'data-series-id': first.seriesId,
      'data-origin': isOrigin ? 'true' : undefined,
    });
    const worst = group.some((member) => member.severity === 'critical') ? 'critical' : first.severity;
    const span = group
      .map((member) =>
        member.resolvedAt === null
          ? `from ${formatTime(member.startedAt)}, open`
          : `${formatTime(member.startedAt)}, ${formatDuration(member.resolvedAt - member.startedAt)}`,
      )
      .join('; ');
    charts.append(
      h(
        'section',
        { class: `incident-series${isOrigin ? ' origin' : ''}` },
        h(
          'div',
          { class: 'incident-series-title' },
          h('span', { class: `severity ${worst}` }, worst),
          h(
            'a',
            { href: alertViewFragment(first.seriesId, first.alertId), class: 'alert-link' },
            seriesLabel(first.name, first.dimensions),
          ),
          isOrigin ? h('span', { class: 'origin-badge' }, 'left its band first') : null,
          h('span', { class: 'muted small' }, span),
        ),
        box,
      ),
    );
    if (points instanceof Error) {
      replace(box, h('p', { class: 'error', role: 'alert' }, `Points: ${points.message}`));
      return;
    }
    if (points.points.length === 0) {
      replace(box, h('p', { class: 'muted' }, 'No points in this range.'));
      return;
    }
    const chart = context.own(
      bandChart(box, chartColumns(points), {
        width: chartWidth(box),
        height: chartHeight(chartWidth(box)),
        envelope: points.stepMs > points.seriesStepMs,
        range: { from, to },
        markAt: origin?.startedAt,
        markSpans: group.map((member) => ({ from: member.startedAt, to: member.resolvedAt ?? now })),
        syncKey: `incident-${incident.id}`,
        onZoom: (zoomFrom, zoomTo) => {
          if (zoomTo - zoomFrom < 6 * points.seriesStepMs) return;
          location.hash = zoomedFragment(incident.id, zoomFrom, zoomTo);
        },
      }),
    );
    fitToWidth(chart, box, chartHeight);
    box.dataset.from = String(from);
    box.dataset.to = String(to);
    box.dataset.points = String(points.points.length);
    box.dataset.state = 'drawn';
  });
  charts.dataset.from = String(from);
  charts.dataset.to = String(to);
  if (origin) charts.dataset.markAt = String(origin.startedAt);
}

/** "Acknowledge incident": records who is on it, stops its members' reminders; the view is drawn again. */
function acknowledgeButton(context: ViewContext, incident: IncidentDetail): HTMLElement {
  const label = 'Acknowledge incident';
  const button = h('button', { type: 'button', class: 'secondary acknowledge' }, label);
  const problem = h('span', { class: 'error small', role: 'alert', hidden: true });
  button.addEventListener('click', () => {
    button.disabled = true;
    button.textContent = 'Acknowledging…';
    incidentsApi(context.api)
      .acknowledge(incident.id)
      .then(() => window.dispatchEvent(new HashChangeEvent('hashchange')))
      .catch((error: unknown) => {
        button.disabled = false;
        button.textContent = label;
        problem.hidden = false;
        problem.textContent = `Not acknowledged: ${(error as Error).message}`;
      });
  });
  return h('p', { class: 'acknowledge-box' }, button, problem);
}
