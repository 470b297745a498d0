/**
 * How an incident notification reads: its subject (SNS and mail: under 100 characters however many and long
 * its members), the JSON document subscribers and the webhook receive, and the plain-text form for email.
 */
import type { IncidentNotification, IncidentNotificationMember } from '../alerts/incidents.ts';

const maxSubjectLength = 99;

/** A series as people write it: `shop.login.time{host=web-1}`. */
const label = (member: Pick<IncidentNotificationMember, 'name' | 'dimensions'>): string => {
  const dimensions = Object.entries(member.dimensions)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  return dimensions ? `${member.name}{${dimensions}}` : member.name;
};

const iso = (instant: number | null): string | null =>
  instant === null ? null : new Date(instant).toISOString();

function heading(notification: IncidentNotification): string {
  switch (notification.state) {
    case 'OPEN':
      return `INCIDENT ${notification.severity}`;
    case 'UPDATE':
      return notification.escalated ? 'INCIDENT now critical' : `INCIDENT UPDATE ${notification.severity}`;
    case 'RESOLVED':
      return 'INCIDENT RESOLVED';
  }
}

/**
 * A one-line subject naming the origin and how many others: `[Normalcy] INCIDENT critical
 * shop.idp.time{provider=identity} + 4 more`. Printable ASCII, at most 99 characters: a long origin name is
 * cut (ending in `~`), never the count.
 */
export function incidentSubject(notification: IncidentNotification): string {
  const others = notification.members.length - 1;
  const tail = others > 0 ? ` + ${others} more` : '';
  const head = `[Normalcy] ${heading(notification)} `;
  const ascii = (text: string) => text.replace(/[^\x20-\x7e]/g, '?');
  const room = maxSubjectLength - head.length - tail.length;
  const origin = ascii(label(notification.origin));
  const cut = origin.length > room ? `${origin.slice(0, Math.max(0, room - 1))}~` : origin;
  return `${ascii(head)}${cut}${tail}`;
}

const memberDocument = (member: IncidentNotificationMember) => ({
  alertId: member.alertId,
  seriesId: member.seriesId,
  name: member.name,
  dimensions: member.dimensions,
  severity: member.severity,
  state: member.state,
  startedAt: iso(member.startedAt),
  resolvedAt: iso(member.resolvedAt),
  reason: member.reason,
  link: member.link,
});

/** The JSON document of an incident notification (SQS, Lambda, HTTPS, email-json, the webhook). Version 1. */
export function incidentDocument(notification: IncidentNotification) {
  return {
    version: 1,
    kind: 'incident' as const,
    state: notification.state,
    severity: notification.severity,
    incidentId: notification.incidentId,
    transitionId: notification.transitionId,
    startedAt: iso(notification.startedAt),
    resolvedAt: iso(notification.resolvedAt),
    time: iso(notification.at),
    origin: memberDocument(notification.origin),
    members: notification.members.map(memberDocument),
    joined: notification.joined,
    escalated: notification.escalated,
    tiedBy: notification.tiedBy,
    link: notification.link,
  };
}

function summaryLine(notification: IncidentNotification): string {
  const count = notification.members.length;
  const alerts = `${count} alert${count === 1 ? '' : 's'}`;
  const origin = label(notification.origin);
  switch (notification.state) {
    case 'OPEN':
      return `Incident: ${alerts}, first ${origin}.`;
    case 'UPDATE':
      return notification.escalated && notification.joined.length === 0
        ? `Incident now critical: ${alerts}, first ${origin}.`
        : `Incident grew: ${notification.joined.length} more, ${alerts} in all, first ${origin}.`;
    case 'RESOLVED':
      return `Incident resolved: all ${alerts} back to normal, first ${origin}.`;
  }
}

/** The plain-text form for email subscribers: every member, the origin first and marked. */
export function incidentText(notification: IncidentNotification): string {
  const joined = new Set(notification.joined);
  const lines = [
    summaryLine(notification),
    '',
    `Severity:  ${notification.severity} (worst of its members)`,
    `Origin:    ${label(notification.origin)} (left its band first)`,
    `Started:   ${iso(notification.startedAt)}`,
    ...(notification.resolvedAt === null ? [] : [`Resolved:  ${iso(notification.resolvedAt)}`]),
    ...(notification.tiedBy.length > 0 ? [`Tied by:   ${notification.tiedBy.join(', ')}`] : []),
    '',
    'Members:',
    ...notification.members.map((member) => {
      const marks = [
        member.alertId === notification.origin.alertId ? 'origin' : '',
        notification.state === 'UPDATE' && joined.has(member.alertId) ? 'new' : '',
      ].filter(Boolean);
      const mark = marks.length > 0 ? ` [${marks.join(', ')}]` : '';
      return `  - ${label(member)}: ${member.severity}, ${member.state}, ${member.reason}${mark}`;
    }),
    '',
    `Dashboard: ${notification.link}`,
    '',
    `Incident ${notification.incidentId}, notification ${notification.transitionId}`,
  ];
  return `${lines.join('\n')}\n`;
}
