/**
 * Incidents: alerts that open close together and share something are one problem, paged once. Pure: the
 * band job's delivery (lib/jobs/incident-delivery.ts) loads the open incidents, applies these functions and
 * saves the result with optimistic concurrency, so two overlapping runs agree on one incident.
 *
 * An alert joins an open incident when it opened within the window (default 10 minutes) of the incident's
 * latest member and shares something with a member, in this order of strength: a dimension value (same key
 * and value, `host=web-1`), the first dotted segment of the metric name (`shop.*`), or, when nothing else ties
 * them, the band job run that opened both. Several candidates: the strongest tie wins, then the incident whose
 * latest member opened last.
 *
 * An incident is notified OPEN (with every member that joined before its OPEN was recorded), UPDATE when a
 * member joins or the worst severity rises to critical (at most one UPDATE per `updateIntervalMs`, the changes
 * meanwhile folded into it), and RESOLVED once its last member resolved.
 */
import type { Dimensions } from '../metrics/point.ts';
import { minuteMs } from '../time.ts';
import type { Alert, Severity, TransitionStatus } from './model.ts';

/** How close in time an alert must open to an incident's latest member to join it. */
export const defaultIncidentWindowMs = 10 * minuteMs;
/** The shortest time between two UPDATEs of one incident (joins meanwhile are folded into the next). */
export const defaultUpdateIntervalMs = 5 * minuteMs;

export const incidentStates = ['open', 'resolved'] as const;
export type IncidentState = (typeof incidentStates)[number];

/** One alert of an incident, as it was when it joined (and since: severity and end follow the alert). */
export interface IncidentMember {
  readonly alertId: string;
  readonly ruleId: string;
  readonly seriesId: string;
  readonly name: string;
  readonly dimensions: Dimensions;
  readonly severity: Severity;
  /** The alert's first breaching bucket: the member that started first is the incident's likely origin. */
  readonly startedAt: number;
  readonly openedAt: number;
  /**
   * How far out of its band the bucket that opened the alert was, in band half-widths (null for threshold
   * and no-data rules): among members that started in the same bucket, the one furthest out is the origin.
   */
  readonly deviation: number | null;
  readonly resolvedAt: number | null;
  readonly joinedAt: number;
  /** When the band job run that opened the alert recorded its OPEN: alerts of one run share it. */
  readonly runAt: number;
  readonly reason: string;
  /** The dashboard view of the series at the alert. */
  readonly link: string;
}

export const incidentEventKinds = ['opened', 'joined', 'critical', 'member-resolved', 'resolved'] as const;
export type IncidentEventKind = (typeof incidentEventKinds)[number];

/** One line of an incident's timeline. */
export interface IncidentEvent {
  readonly at: number;
  readonly kind: IncidentEventKind;
  /** The member it is about, if any. */
  readonly alertId: string | null;
  readonly detail: string;
}

/** What is still to be notified about an incident, and when it last was (the UPDATE rate limit). */
export interface IncidentNotice {
  /** Whether its OPEN was recorded. */
  readonly opened: boolean;
  /** How many UPDATEs were recorded (the next is `.update.<updates + 1>`). */
  readonly updates: number;
  /** When its OPEN or last UPDATE was recorded. */
  readonly lastAt: number | null;
  /** Members that joined since, not notified yet. */
  readonly joined: readonly string[];
  /** Whether the worst severity rose to critical since, not notified yet. */
  readonly critical: boolean;
  /** Whether its RESOLVED was recorded. */
  readonly resolved: boolean;
}

export interface Incident {
  /** `in_` and the hex of its first member's alert id: two runs seeing the same data make the same id. */
  readonly id: string;
  readonly state: IncidentState;
  /** The worst severity of its members. */
  readonly severity: Severity;
  /** When its origin started (the earliest member start). */
  readonly startedAt: number;
  /** When its last member resolved; null while one is open. */
  readonly resolvedAt: number | null;
  /**
   * The member that left its band first: earliest start; among those that started in the same bucket, the
   * furthest out of its band when it opened; then earliest opening, then earliest join.
   */
  readonly originAlertId: string;
  /** What tied its members together, strongest first as they joined (`service=idp`, `shop.*`...). */
  readonly tiedBy: readonly string[];
  /** In the order they joined. */
  readonly members: readonly IncidentMember[];
  readonly timeline: readonly IncidentEvent[];
  readonly acknowledgedAt: number | null;
  readonly acknowledgedBy: string | null;
  readonly notice: IncidentNotice;
}

export const incidentTransitionKinds = ['OPEN', 'UPDATE', 'RESOLVED'] as const;
export type IncidentTransitionKind = (typeof incidentTransitionKinds)[number];

/** Delivery order of an incident's transitions recorded at the same instant. */
export const incidentTransitionRank: Readonly<Record<IncidentTransitionKind, number>> = {
  OPEN: 0,
  UPDATE: 1,
  RESOLVED: 2,
};

/** A member as a notification names it. */
export interface IncidentNotificationMember {
  readonly alertId: string;
  readonly seriesId: string;
  readonly name: string;
  readonly dimensions: Dimensions;
  readonly severity: Severity;
  readonly state: 'open' | 'resolved';
  readonly startedAt: number;
  readonly resolvedAt: number | null;
  readonly reason: string;
  readonly link: string;
}

/** What subscribers receive about an incident: fixed when recorded, so a retry sends the same message. */
export interface IncidentNotification {
  readonly transitionId: string;
  readonly incidentId: string;
  readonly state: IncidentTransitionKind;
  readonly severity: Severity;
  readonly startedAt: number;
  readonly resolvedAt: number | null;
  /** When the transition was recorded. */
  readonly at: number;
  readonly origin: IncidentNotificationMember;
  /** Every member, origin first, then in the order they joined. */
  readonly members: readonly IncidentNotificationMember[];
  /** Members new since the last notification (an UPDATE's joins; every member for an OPEN). */
  readonly joined: readonly string[];
  /** Whether the severity rose to critical since the last notification. */
  readonly escalated: boolean;
  readonly tiedBy: readonly string[];
  /** The dashboard view of the incident. */
  readonly link: string;
}

/** What is notified about an incident, recorded before it is published (an outbox, as for alerts). */
export interface IncidentTransition {
  /** `<incidentId>.open`, `<incidentId>.update.<n>` (n from 1), `<incidentId>.resolved`. */
  readonly id: string;
  readonly incidentId: string;
  readonly kind: IncidentTransitionKind;
  readonly at: number;
  readonly createdAt: number;
  readonly status: TransitionStatus;
  readonly reason: string | null;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly deliverAfter: number;
  readonly decidedAt: number | null;
  readonly notification: IncidentNotification;
}

const severityRank: Readonly<Record<Severity, number>> = { warning: 0, critical: 1 };

/** The id of the incident an alert starts: `al_<hex>` gives `in_<hex>`. */
export const incidentIdOf = (alertId: string): string => `in_${alertId.replace(/^al_/, '')}`;

/** A series as people write it: `shop.login.time{host=web-1}`. */
export function memberLabel(member: Pick<IncidentMember, 'name' | 'dimensions'>): string {
  const dimensions = Object.entries(member.dimensions)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  return dimensions ? `${member.name}{${dimensions}}` : member.name;
}

/** What an alert brings to an incident. */
export function memberOf(
  alert: Alert,
  context: { readonly runAt: number; readonly joinedAt: number; readonly link: string },
): IncidentMember {
  return {
    alertId: alert.id,
    ruleId: alert.ruleId,
    seriesId: alert.seriesId,
    name: alert.name,
    dimensions: alert.dimensions,
    severity: alert.severity,
    startedAt: alert.startedAt,
    openedAt: alert.openedAt,
    deviation: openingDeviation(alert),
    resolvedAt: alert.resolvedAt,
    joinedAt: context.joinedAt,
    runAt: context.runAt,
    reason: alert.reason,
    link: context.link,
  };
}

/** The opening bucket's distance from the expected value in band half-widths; null without a band. */
function openingDeviation(alert: Alert): number | null {
  const { value, expected, lower, upper } = alert;
  if (value === null || expected === null || lower === null || upper === null) return null;
  const halfWidth = (upper - lower) / 2;
  return halfWidth > 0 ? Math.abs(value - expected) / halfWidth : null;
}

/** How two alerts are tied: 0 a dimension value, 1 a name prefix, 2 the same run (lower is stronger). */
export interface Tie {
  readonly strength: 0 | 1 | 2;
  readonly label: string;
}

type Tieable = Pick<IncidentMember, 'name' | 'dimensions' | 'runAt'>;

/**
 * What ties two alerts, if anything: a shared dimension value (keys in sorted order), the first dotted
 * segment of their names, or the band job run that opened both.
 *
 * @example tieBetween({ name: 'a.x', dimensions: { host: 'w1' }, runAt: 1 }, { name: 'b.y', dimensions: { host: 'w1' }, runAt: 2 })
 * // { strength: 0, label: 'host=w1' }
 */
export function tieBetween(a: Tieable, b: Tieable): Tie | undefined {
  for (const key of Object.keys(a.dimensions).sort()) {
    if (Object.hasOwn(b.dimensions, key) && b.dimensions[key] === a.dimensions[key]) {
      return { strength: 0, label: `${key}=${a.dimensions[key]}` };
    }
  }
  const prefix = namePrefix(a.name);
  if (prefix === namePrefix(b.name)) return { strength: 1, label: `${prefix}.*` };
  if (a.runAt === b.runAt) return { strength: 2, label: 'same band job run' };
  return undefined;
}

const namePrefix = (name: string): string => name.split('.', 1)[0] ?? name;

/** When the incident's latest member opened. */
const latestOpening = (incident: Incident): number =>
  Math.max(...incident.members.map((member) => member.openedAt));

/**
 * The open incident an alert joins, and what ties it, or undefined when none takes it. O(incidents × members).
 */
export function incidentFor(
  open: readonly Incident[],
  candidate: IncidentMember,
  windowMs: number = defaultIncidentWindowMs,
): { readonly incident: Incident; readonly tie: Tie } | undefined {
  let best: { incident: Incident; tie: Tie; latest: number } | undefined;
  for (const incident of open) {
    if (incident.state !== 'open') continue;
    const latest = latestOpening(incident);
    if (Math.abs(candidate.openedAt - latest) > windowMs) continue;
    let tie: Tie | undefined;
    for (const member of incident.members) {
      const found = tieBetween(candidate, member);
      if (found && (!tie || found.strength < tie.strength)) tie = found;
    }
    if (!tie) continue;
    const better =
      !best ||
      tie.strength < best.tie.strength ||
      (tie.strength === best.tie.strength && latest > best.latest) ||
      (tie.strength === best.tie.strength && latest === best.latest && incident.id < best.incident.id);
    if (better) best = { incident, tie, latest };
  }
  return best && { incident: best.incident, tie: best.tie };
}

/** A new incident with one member; its OPEN is recorded by {@link dueTransitions}. */
export function startIncident(member: IncidentMember, now: number): Incident {
  return withMembers(
    {
      id: incidentIdOf(member.alertId),
      state: 'open',
      severity: member.severity,
      startedAt: member.startedAt,
      resolvedAt: null,
      originAlertId: member.alertId,
      tiedBy: [],
      members: [],
      timeline: [
        { at: now, kind: 'opened', alertId: member.alertId, detail: `opened by ${memberLabel(member)}` },
      ],
      acknowledgedAt: null,
      acknowledgedBy: null,
      notice: { opened: false, updates: 0, lastAt: null, joined: [], critical: false, resolved: false },
    },
    [member],
  );
}

/** The incident with `member` added (unchanged if it is a member already). */
export function joinIncident(incident: Incident, member: IncidentMember, tie: Tie, now: number): Incident {
  if (incident.members.some((known) => known.alertId === member.alertId)) return incident;
  const joined = withMembers(
    {
      ...incident,
      tiedBy: incident.tiedBy.includes(tie.label) ? incident.tiedBy : [...incident.tiedBy, tie.label],
      timeline: [
        ...incident.timeline,
        { at: now, kind: 'joined', alertId: member.alertId, detail: `${memberLabel(member)} (${tie.label})` },
      ],
      notice: incident.notice.opened
        ? { ...incident.notice, joined: [...incident.notice.joined, member.alertId] }
        : incident.notice,
    },
    [...incident.members, member],
  );
  return noteEscalation(incident, joined, now);
}

/**
 * The incident after one of its members changed: it escalated (`severity`) or resolved (`resolvedAt`).
 * Severity follows; unchanged when the alert is not a member or nothing it says is new. The incident itself
 * resolves in {@link dueTransitions}, once no other alert may still join it.
 */
export function updateMember(
  incident: Incident,
  alertId: string,
  change: { readonly severity?: Severity; readonly resolvedAt?: number },
  now: number,
): Incident {
  const member = incident.members.find((known) => known.alertId === alertId);
  if (!member) return incident;
  const severity =
    change.severity && severityRank[change.severity] > severityRank[member.severity]
      ? change.severity
      : member.severity;
  const resolvedAt = member.resolvedAt ?? change.resolvedAt ?? null;
  if (severity === member.severity && resolvedAt === member.resolvedAt) return incident;
  const changed: IncidentMember = { ...member, severity, resolvedAt };
  const events: IncidentEvent[] = [];
  if (resolvedAt !== null && member.resolvedAt === null) {
    events.push({
      at: now,
      kind: 'member-resolved',
      alertId,
      detail: `${memberLabel(member)} back to normal`,
    });
  }
  const updated = withMembers(
    { ...incident, timeline: [...incident.timeline, ...events] },
    incident.members.map((known) => (known.alertId === alertId ? changed : known)),
  );
  return noteEscalation(incident, updated, now);
}

/** Notes a rise to critical in the timeline, and for the next UPDATE once the OPEN went out. */
function noteEscalation(before: Incident, after: Incident, now: number): Incident {
  if (after.severity !== 'critical' || before.severity === 'critical') return after;
  return {
    ...after,
    timeline: [...after.timeline, { at: now, kind: 'critical', alertId: null, detail: 'now critical' }],
    notice: after.notice.opened ? { ...after.notice, critical: true } : after.notice,
  };
}

/** Members set anew, with what follows from them: worst severity, start and origin. */
function withMembers(incident: Incident, members: readonly IncidentMember[]): Incident {
  const origin = [...members].sort(
    (a, b) =>
      a.startedAt - b.startedAt ||
      (b.deviation ?? -1) - (a.deviation ?? -1) ||
      a.openedAt - b.openedAt ||
      a.joinedAt - b.joinedAt,
  )[0];
  if (!origin) throw new Error(`incident ${incident.id} has no member`);
  const severity = members.some((member) => member.severity === 'critical') ? 'critical' : 'warning';
  return { ...incident, members, severity, startedAt: origin.startedAt, originAlertId: origin.alertId };
}

export interface DueOptions {
  readonly now: number;
  readonly updateIntervalMs?: number;
  /** The grouping window (see {@link incidentFor}). */
  readonly windowMs?: number;
  /** The dashboard view of the incident. */
  readonly link: string;
}

/**
 * The transitions an incident is due now, and the incident with them noted: its OPEN (with every member so
 * far) if not recorded yet; an UPDATE when members joined or it turned critical since, once
 * `updateIntervalMs` passed since the last one; its RESOLVED once every member resolved and the grouping
 * window after its latest member's opening has passed (until then a related alert may still join it: an
 * incident whose alerts come and go within minutes is one incident, not several). Pending changes are then
 * told by the RESOLVED, which names every member.
 */
export function dueTransitions(
  current: Incident,
  options: DueOptions,
): { readonly incident: Incident; readonly transitions: readonly IncidentTransition[] } {
  const { now } = options;
  const interval = options.updateIntervalMs ?? defaultUpdateIntervalMs;
  const transitions: IncidentTransition[] = [];
  let incident = current;
  const over =
    incident.state === 'open' &&
    incident.members.every((member) => member.resolvedAt !== null) &&
    now >= latestOpening(incident) + (options.windowMs ?? defaultIncidentWindowMs);
  if (over) incident = resolvedIncident(incident, now);
  let notice = incident.notice;
  if (!notice.opened) {
    transitions.push(
      transitionOf(incident, 'OPEN', `${incident.id}.open`, options, {
        joined: incident.members.map((member) => member.alertId),
        escalated: false,
      }),
    );
    notice = { ...notice, opened: true, lastAt: now, joined: [], critical: false };
  }
  if (incident.state === 'resolved') {
    if (!notice.resolved) {
      transitions.push(
        transitionOf(incident, 'RESOLVED', `${incident.id}.resolved`, options, {
          joined: [],
          escalated: false,
        }),
      );
      notice = { ...notice, resolved: true, joined: [], critical: false };
    }
  } else if (
    (notice.joined.length > 0 || notice.critical) &&
    (notice.lastAt === null || now >= notice.lastAt + interval)
  ) {
    const updates = notice.updates + 1;
    transitions.push(
      transitionOf(incident, 'UPDATE', `${incident.id}.update.${updates}`, options, {
        joined: notice.joined,
        escalated: notice.critical,
      }),
    );
    notice = { ...notice, updates, lastAt: now, joined: [], critical: false };
  }
  return { incident: transitions.length === 0 ? incident : { ...incident, notice }, transitions };
}

/** The incident resolved: it ended when its last member did. */
function resolvedIncident(incident: Incident, now: number): Incident {
  return {
    ...incident,
    state: 'resolved',
    resolvedAt: Math.max(...incident.members.map((member) => member.resolvedAt ?? 0)),
    timeline: [
      ...incident.timeline,
      { at: now, kind: 'resolved', alertId: null, detail: 'every member is back to normal' },
    ],
  };
}

function transitionOf(
  incident: Incident,
  kind: IncidentTransitionKind,
  id: string,
  options: DueOptions,
  change: { readonly joined: readonly string[]; readonly escalated: boolean },
): IncidentTransition {
  const members = orderedMembers(incident).map(notificationMember);
  const origin = members[0];
  if (!origin) throw new Error(`incident ${incident.id} has no member`);
  return {
    id,
    incidentId: incident.id,
    kind,
    at: options.now,
    createdAt: options.now,
    status: 'pending',
    reason: null,
    attempts: 0,
    lastError: null,
    deliverAfter: options.now,
    decidedAt: null,
    notification: {
      transitionId: id,
      incidentId: incident.id,
      state: kind,
      severity: incident.severity,
      startedAt: incident.startedAt,
      resolvedAt: incident.resolvedAt,
      at: options.now,
      origin,
      members,
      joined: change.joined,
      escalated: change.escalated,
      tiedBy: incident.tiedBy,
      link: options.link,
    },
  };
}

/** The origin first, then the others in the order they joined. */
export function orderedMembers(incident: Incident): IncidentMember[] {
  const origin = incident.members.filter((member) => member.alertId === incident.originAlertId);
  return [...origin, ...incident.members.filter((member) => member.alertId !== incident.originAlertId)];
}

const notificationMember = (member: IncidentMember): IncidentNotificationMember => ({
  alertId: member.alertId,
  seriesId: member.seriesId,
  name: member.name,
  dimensions: member.dimensions,
  severity: member.severity,
  state: member.resolvedAt === null ? 'open' : 'resolved',
  startedAt: member.startedAt,
  resolvedAt: member.resolvedAt,
  reason: member.reason,
  link: member.link,
});

/** Incidents in listing order: newest first by start, then by id (as bytes). */
export const incidentListingOrder = (
  a: Pick<Incident, 'startedAt' | 'id'>,
  b: Pick<Incident, 'startedAt' | 'id'>,
): number => b.startedAt - a.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A resolved incident whose RESOLVED is recorded needs no more grouping nor notifying: it leaves the board. */
export const leavesBoard = (incident: Incident): boolean =>
  incident.state === 'resolved' && incident.notice.resolved;
