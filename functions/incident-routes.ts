/**
 * Incidents through the API (served by the alerts function, as its other routes): listed and read with a
 * read key, and acknowledged with a read key too (it changes no configuration: it stops the members'
 * reminders and tells the team someone is on it).
 */
import {
  type Incident,
  type IncidentEventKind,
  type IncidentMember,
  type IncidentTransition,
  incidentStates,
  orderedMembers,
} from '../lib/alerts/incidents.ts';
import { NotFoundError } from '../lib/errors.ts';
import type { IncidentPosition, IncidentStore } from '../lib/ports/incident-store.ts';
import { encodeCursor } from '../lib/query/cursor.ts';
import type { AlertsDependencies } from './shared/dependencies.ts';
import { type HttpEvent, json, type RouteDefinition } from './shared/http.ts';
import { listingQuery } from './shared/listing-query.ts';

const maxIncidents = 1000;

const pathId = (event: HttpEvent): string => event.pathParameters?.id ?? '';

function storeOf(dependencies: AlertsDependencies): IncidentStore {
  // Every composition wires it; a library user's own may not.
  if (!dependencies.incidents) throw new NotFoundError('this deployment keeps no incidents');
  return dependencies.incidents;
}

/** A member as the API shows it. */
const memberView = (member: IncidentMember) => ({
  alertId: member.alertId,
  ruleId: member.ruleId,
  seriesId: member.seriesId,
  name: member.name,
  dimensions: member.dimensions,
  severity: member.severity,
  state: member.resolvedAt === null ? ('open' as const) : ('resolved' as const),
  startedAt: member.startedAt,
  openedAt: member.openedAt,
  resolvedAt: member.resolvedAt,
  joinedAt: member.joinedAt,
  reason: member.reason,
  link: member.link,
});

/** An incident as `GET /v1/incidents` lists it: its members, the origin first. */
export function incidentView(incident: Incident) {
  const members = orderedMembers(incident).map(memberView);
  return {
    id: incident.id,
    state: incident.state,
    severity: incident.severity,
    startedAt: incident.startedAt,
    resolvedAt: incident.resolvedAt,
    originAlertId: incident.originAlertId,
    tiedBy: incident.tiedBy,
    memberCount: members.length,
    members,
    acknowledgedAt: incident.acknowledgedAt,
    acknowledgedBy: incident.acknowledgedBy,
  };
}

/** An incident with its timeline (the acknowledgement included), as `GET /v1/incidents/{id}` gives it. */
function incidentDetail(incident: Incident) {
  const timeline: {
    at: number;
    kind: IncidentEventKind | 'acknowledged';
    alertId: string | null;
    detail: string;
  }[] = [...incident.timeline];
  if (incident.acknowledgedAt !== null) {
    timeline.push({
      at: incident.acknowledgedAt,
      kind: 'acknowledged',
      alertId: null,
      detail: `by ${incident.acknowledgedBy ?? 'unknown'}`,
    });
  }
  timeline.sort((a, b) => a.at - b.at);
  return { ...incidentView(incident), timeline };
}

/** What was, is or will be notified about an incident. */
const transitionView = (transition: IncidentTransition) => ({
  id: transition.id,
  kind: transition.kind,
  at: transition.at,
  status: transition.status,
  reason: transition.reason,
  attempts: transition.attempts,
  lastError: transition.lastError,
  deliverAfter: transition.deliverAfter,
  decidedAt: transition.decidedAt,
  joined: transition.notification.joined,
});

/** `state`, `from`, `to`, `limit` and `cursor` of `GET /v1/incidents`, each checked by name. */
const incidentQuery = (parameters: Readonly<Record<string, string | undefined>>) =>
  listingQuery(parameters, incidentStates, maxIncidents);

export const incidentRoutes: readonly RouteDefinition<AlertsDependencies>[] = [
  {
    method: 'GET',
    path: '/v1/incidents',
    scope: 'read',
    async handle(event, { dependencies }) {
      const { after, ...query } = incidentQuery(event.queryStringParameters ?? {});
      const incidents = await storeOf(dependencies).listIncidents({ ...query, after });
      const last = incidents.at(-1);
      const nextCursor =
        incidents.length === query.limit && last
          ? encodeCursor({ startedAt: last.startedAt, id: last.id } satisfies IncidentPosition)
          : null;
      return json(200, { ...query, incidents: incidents.map(incidentView), nextCursor });
    },
  },
  {
    method: 'GET',
    path: '/v1/incidents/{id}',
    scope: 'read',
    async handle(event, { dependencies }) {
      const id = pathId(event);
      const store = storeOf(dependencies);
      const incident = await store.getIncident(id);
      if (!incident) throw new NotFoundError(`no incident with id "${id}"`);
      const transitions = await store.incidentTransitionsOf(id);
      return json(200, { incident: incidentDetail(incident), transitions: transitions.map(transitionView) });
    },
  },
  {
    method: 'POST',
    path: '/v1/incidents/{id}/acknowledge',
    scope: 'read',
    async handle(event, { dependencies, key }) {
      const id = pathId(event);
      const by = key?.name ?? 'unknown';
      const now = dependencies.clock.now();
      const incident = await storeOf(dependencies).acknowledgeIncident(id, by, now);
      if (!incident) throw new NotFoundError(`no incident with id "${id}"`);
      // Its members too, so that their reminders stop (each keeps its own first acknowledgement).
      for (const member of incident.members)
        await dependencies.alerts.acknowledgeAlert(member.alertId, by, now);
      return json(200, { incident: incidentDetail(incident) });
    },
  },
];
