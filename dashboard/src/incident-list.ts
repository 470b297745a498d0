import { alertViewFragment, windowAround } from '../../lib/dashboard-links.ts';
import { hourMs } from '../../lib/time.ts';
import type { AlertHistorySource } from './alert-history.ts';
import { alertItem } from './alert-item.ts';
import type {
  Alert,
  ApiClient,
  IncidentDetail,
  IncidentMemberView,
  IncidentPageResponse,
  IncidentTimelineEvent,
  IncidentView,
} from './api.ts';
import { h } from './dom.ts';
import { formatAgo, formatDuration, formatTime, seriesLabel } from './format.ts';
import { endingByNow } from './route.ts';

/** The dashboard's view of an incident: its members on one time axis (`#/incidents/<id>`). */
export const incidentFragment = (incidentId: string): string =>
  `#/incidents/${encodeURIComponent(incidentId)}`;

/** Where the dashboard reads incidents and acts on them: `GET /v1/incidents` and its neighbours. */
export interface IncidentSource {
  /** Incidents active in the range (open ones whenever they started), at most `limit`. */
  list(range: { from: number; to: number }, limit: number): Promise<IncidentView[]>;
  incident(id: string): Promise<IncidentDetail>;
  /** Acknowledges an incident and its members; returns it as it is now. */
  acknowledge(id: string): Promise<IncidentDetail>;
}

export function incidentsApi(api: ApiClient): IncidentSource {
  return {
    async list(range, limit) {
      const page = await api.get<IncidentPageResponse>('/v1/incidents', { ...range, limit });
      return page.incidents;
    },
    async incident(id) {
      return (await api.get<{ incident: IncidentDetail }>(`/v1/incidents/${encodeURIComponent(id)}`))
        .incident;
    },
    async acknowledge(id) {
      const answer = await api.post<{ incident: IncidentDetail }>(
        `/v1/incidents/${encodeURIComponent(id)}/acknowledge`,
      );
      return answer.incident;
    },
  };
}

/** The hours shown either side of an incident, at least (its own length when longer). */
const incidentContextMs = 2 * hourMs;

/**
 * The range an incident's view shows: the incident with two hours (or its own length) either side, ending at
 * now at the latest; or the range zoomed to.
 *
 * @example incidentRange({ startedAt: 10 * hour, resolvedAt: 11 * hour }, {}, 20 * hour) // { from: 8h, to: 13h }
 */
export function incidentRange(
  incident: { readonly startedAt: number; readonly resolvedAt: number | null },
  zoom: { readonly from?: number; readonly to?: number },
  now: number,
): { from: number; to: number } {
  if (zoom.from !== undefined && zoom.to !== undefined)
    return endingByNow({ from: zoom.from, to: zoom.to }, now);
  const end = incident.resolvedAt ?? Math.max(now, incident.startedAt);
  const { from, to } = windowAround(incident.startedAt, end, incidentContextMs);
  return endingByNow({ from, to }, now);
}

/**
 * What a timeline event adds to its member's name: the API's detail names the member too (`opened by
 * shop.requests{service=web}`, `shop.login.time{service=web} (service=web)`), said once here.
 *
 * @example eventDetail({ alertId: 'a', detail: 'x{k=v} (k=v)', ... }, new Map([['a', 'x{k=v}']])) // '(k=v)'
 */
export function eventDetail(
  event: Pick<IncidentTimelineEvent, 'alertId' | 'detail'>,
  labelOf: ReadonlyMap<string, string>,
): string {
  const label = event.alertId === null ? undefined : labelOf.get(event.alertId);
  if (!label) return event.detail;
  return event.detail
    .replace(label, '')
    .replace(/^opened by\s*$/, '')
    .trim();
}

/** Open incidents first (the ones to act on), then the newest. */
export function incidentsByUrgency(incidents: readonly IncidentView[]): IncidentView[] {
  return [...incidents].sort((a, b) =>
    a.state === b.state ? b.startedAt - a.startedAt || a.id.localeCompare(b.id) : a.state === 'open' ? -1 : 1,
  );
}

/** The member that left its band first (the API lists it first; `originAlertId` names it). */
export const originOf = (incident: IncidentView): IncidentMemberView | undefined =>
  incident.members.find((member) => member.alertId === incident.originAlertId) ?? incident.members[0];

/** When it started and ended (or how long it has been open). */
export function incidentTiming(incident: IncidentView, now: number): string {
  const started = `started ${formatTime(incident.startedAt)} (${formatAgo(incident.startedAt, now)})`;
  return incident.resolvedAt === null
    ? `${started}, open for ${formatDuration(Math.max(0, now - incident.startedAt))}`
    : `${started}, ended ${formatTime(incident.resolvedAt)} after ${formatDuration(incident.resolvedAt - incident.startedAt)}`;
}

/** What tied the members: `tied by service=web, shop.*`. */
export const tiedByText = (incident: IncidentView): string =>
  incident.tiedBy.length === 0 ? 'one alert' : `tied by ${incident.tiedBy.join(', ')}`;

export interface IncidentItemOptions {
  readonly now: number;
  readonly incidents: IncidentSource;
  readonly alerts: AlertHistorySource;
  /** The member alerts as the alerts API gives them (with their explanation line), by id. */
  readonly alertsById: ReadonlyMap<string, Alert>;
}

/**
 * One incident as the front page lists it: its worst severity, its state, where it started ("started with
 * <series>", a link to the incident's view), how many alerts, who acknowledged it (or a button to), when it
 * started and ended, what tied it, and its member alerts folded under it (each as the alert lists show it,
 * its explanation line first; the origin says it left its band first). An incident of one alert shows it
 * unfolded.
 */
export function incidentItem(incident: IncidentView, options: IncidentItemOptions): HTMLLIElement {
  const origin = originOf(incident);
  const count = incident.memberCount === 1 ? '1 alert' : `${incident.memberCount} alerts`;
  const acknowledgement =
    incident.acknowledgedAt !== null
      ? h(
          'span',
          { class: 'acknowledged' },
          `acknowledged by ${incident.acknowledgedBy ?? 'someone'}, ${formatTime(incident.acknowledgedAt)}`,
        )
      : incident.state === 'open'
        ? acknowledgeIncidentButton(incident, options)
        : null;
  const members = incident.members.map((member) => {
    const alert = options.alertsById.get(member.alertId);
    const isOrigin = member.alertId === incident.originAlertId;
    return alert
      ? alertItem(alert, { now: options.now, source: options.alerts, origin: isOrigin })
      : memberItem(member, isOrigin);
  });
  return h(
    'li',
    {
      class: `incident ${incident.severity} ${incident.state}`,
      'data-incident-id': incident.id,
      'data-state': incident.state,
      'data-severity': incident.severity,
    },
    h('span', { class: `severity ${incident.severity}` }, incident.severity),
    h('span', { class: `state ${incident.state}` }, incident.state),
    h(
      'a',
      { href: incidentFragment(incident.id), class: 'incident-link' },
      'started with ',
      h('span', { class: 'origin-name' }, origin ? seriesLabel(origin.name, origin.dimensions) : '–'),
    ),
    h('span', { class: 'muted small member-count' }, count),
    acknowledgement,
    h('div', { class: 'incident-detail muted small' }, incidentTiming(incident, options.now)),
    h('div', { class: 'incident-detail muted small tied-by' }, tiedByText(incident)),
    h(
      'details',
      { class: 'members', open: incident.memberCount === 1 },
      h('summary', { class: 'small' }, `its ${count}`),
      h('ol', { class: 'alerts member-alerts' }, ...members),
    ),
  );
}

/**
 * A member whose alert the alerts API did not return (older than the list's range): what the incident
 * recorded of it, linked to its series around the alert.
 */
function memberItem(member: IncidentMemberView, isOrigin: boolean): HTMLLIElement {
  return h(
    'li',
    {
      class: `alert ${member.severity} ${member.state}`,
      'data-alert-id': member.alertId,
      'data-state': member.state,
      'data-severity': member.severity,
    },
    h('span', { class: `severity ${member.severity}` }, member.severity),
    h('span', { class: `state ${member.state}` }, member.state),
    h(
      'a',
      { href: alertViewFragment(member.seriesId, member.alertId), class: 'alert-link' },
      seriesLabel(member.name, member.dimensions),
    ),
    isOrigin ? h('span', { class: 'origin-badge' }, 'left its band first') : null,
    h('div', { class: 'alert-detail muted small' }, member.reason),
  );
}

/** "Acknowledge incident": records who is on it and stops its members' reminders; the item is redrawn. */
function acknowledgeIncidentButton(incident: IncidentView, options: IncidentItemOptions): HTMLElement {
  const label = 'Acknowledge incident';
  const button = h('button', { type: 'button', class: 'secondary acknowledge' }, label);
  const problem = h('span', { class: 'error small', role: 'alert', hidden: true });
  button.addEventListener('click', () => {
    const item = button.closest('li.incident');
    button.disabled = true;
    button.textContent = 'Acknowledging…';
    options.incidents
      .acknowledge(incident.id)
      .then(async (acknowledged) => {
        // Its members were acknowledged with it: read them again, so that their items say so too.
        const members = await Promise.all(
          acknowledged.members.map((member) => options.alerts.alert(member.alertId).catch(() => undefined)),
        );
        const alertsById = new Map(options.alertsById);
        for (const alert of members) if (alert) alertsById.set(alert.id, alert);
        const redrawn = incidentItem(acknowledged, { ...options, alertsById });
        const folded = item?.querySelector('details');
        if (folded?.open) redrawn.querySelector('details')?.setAttribute('open', '');
        item?.replaceWith(redrawn);
      })
      .catch((error: unknown) => {
        button.disabled = false;
        button.textContent = label;
        problem.hidden = false;
        problem.textContent = `Not acknowledged: ${(error as Error).message}`;
      });
  });
  return h('span', { class: 'acknowledge-box' }, button, problem);
}
