import { describe, expect, it } from 'vitest';
import {
  dueTransitions,
  type Incident,
  type IncidentMember,
  incidentFor,
  joinIncident,
  startIncident,
  tieBetween,
  updateMember,
} from '../../lib/alerts/incidents.ts';

const minute = 60_000;
const t0 = Date.UTC(2025, 10, 25, 13, 20);
const link = 'http://dash/#/incidents/x';

function member(alertId: string, overrides: Partial<IncidentMember> = {}): IncidentMember {
  return {
    alertId,
    ruleId: 'default',
    seriesId: `s-${alertId}`,
    name: 'shop.requests',
    dimensions: {},
    severity: 'critical',
    startedAt: t0,
    openedAt: t0 + 5 * minute,
    deviation: 3,
    resolvedAt: null,
    joinedAt: t0 + 6 * minute,
    runAt: t0 + 6 * minute,
    reason: 'below its band for 10 min',
    link: `http://dash/#/series/s-${alertId}?alert=${alertId}`,
    ...overrides,
  };
}

describe('Function: tieBetween', () => {
  it('ties by a shared dimension value first, then the name prefix, then the run', () => {
    const a = member('al_a', { name: 'idp.calls', dimensions: { host: 'web-1', service: 'idp' } });
    expect(tieBetween(a, member('al_b', { name: 'shop.x', dimensions: { service: 'idp' } }))).toEqual({
      strength: 0,
      label: 'service=idp',
    });
    expect(tieBetween(a, member('al_c', { name: 'idp.time', dimensions: { host: 'web-2' } }))).toEqual({
      strength: 1,
      label: 'idp.*',
    });
    expect(tieBetween(a, member('al_d', { name: 'db.queries', dimensions: { host: 'db-1' } }))).toEqual({
      strength: 2,
      label: 'same band job run',
    });
    expect(
      tieBetween(a, member('al_e', { name: 'db.queries', dimensions: { host: 'db-1' }, runAt: 1 })),
    ).toBeUndefined();
  });
});

describe('Function: incidentFor', () => {
  const first = startIncident(member('al_1', { dimensions: { host: 'web-1' } }), t0 + 6 * minute);

  it('takes an alert that opens within the window of the latest member and shares something', () => {
    const near = member('al_2', {
      name: 'other.metric',
      dimensions: { host: 'web-1' },
      openedAt: t0 + 14 * minute,
      runAt: 9,
    });
    expect(incidentFor([first], near)?.incident.id).toBe('in_1');
    const late = { ...near, openedAt: t0 + 16 * minute };
    expect(incidentFor([first], late)).toBeUndefined();
    expect(incidentFor([first], late, 20 * minute)?.tie.label).toBe('host=web-1');
    const unrelated = member('al_3', { name: 'other.metric', dimensions: { host: 'db-1' }, runAt: 9 });
    expect(incidentFor([first], unrelated)).toBeUndefined();
  });

  it('prefers the strongest tie among several open incidents', () => {
    const byPrefix = startIncident(member('al_p', { name: 'idp.calls', dimensions: {} }), t0);
    const byHost = startIncident(member('al_h', { name: 'db.queries', dimensions: { host: 'web-9' } }), t0);
    const candidate = member('al_c', { name: 'idp.time', dimensions: { host: 'web-9' } });
    expect(incidentFor([byPrefix, byHost], candidate)?.incident.id).toBe('in_h');
  });
});

describe('Function: dueTransitions', () => {
  it('pages one OPEN for members that joined in one pass, then folds joins into rate-limited UPDATEs', () => {
    let incident: Incident = startIncident(
      member('al_1', { name: 'idp.calls', startedAt: t0 + 5 * minute }),
      t0,
    );
    incident = joinIncident(
      incident,
      member('al_2', { name: 'idp.time' }),
      { strength: 1, label: 'idp.*' },
      t0,
    );
    expect(incident.originAlertId).toBe('al_2');
    const opened = dueTransitions(incident, { now: t0, link });
    expect(opened.transitions.map((t) => [t.id, t.notification.members.map((m) => m.alertId)])).toEqual([
      ['in_1.open', ['al_2', 'al_1']],
    ]);
    incident = opened.incident;
    expect(dueTransitions(incident, { now: t0 + minute, link }).transitions).toEqual([]);

    const tie = { strength: 1, label: 'idp.*' } as const;
    incident = joinIncident(incident, member('al_3', { name: 'idp.errors' }), tie, t0 + minute);
    incident = joinIncident(incident, member('al_4', { name: 'idp.latency' }), tie, t0 + 2 * minute);
    expect(dueTransitions(incident, { now: t0 + 4 * minute, link }).transitions).toEqual([]);
    const update = dueTransitions(incident, { now: t0 + 5 * minute, link });
    expect(update.transitions.map((t) => [t.id, t.notification.joined])).toEqual([
      ['in_1.update.1', ['al_3', 'al_4']],
    ]);
    incident = update.incident;

    for (const id of ['al_1', 'al_2', 'al_3']) {
      incident = updateMember(incident, id, { resolvedAt: t0 + 50 * minute }, t0 + 51 * minute);
    }
    expect(dueTransitions(incident, { now: t0 + 52 * minute, link }).transitions).toEqual([]);
    incident = updateMember(incident, 'al_4', { resolvedAt: t0 + 55 * minute }, t0 + 56 * minute);
    const resolved = dueTransitions(incident, { now: t0 + 56 * minute, link });
    expect(resolved.incident).toMatchObject({ state: 'resolved', resolvedAt: t0 + 55 * minute });
    expect(resolved.transitions.map((t) => t.id)).toEqual(['in_1.resolved']);
    expect(dueTransitions(resolved.incident, { now: t0 + 60 * minute, link }).transitions).toEqual([]);
  });

  it('resolves only once the window after its latest opening passed: a member may still join until then', () => {
    // A blip: opened at t0 + 5 min, back at t0 + 10 min, in one band job run.
    let incident = startIncident(member('al_1', { resolvedAt: null }), t0 + 6 * minute);
    incident = updateMember(incident, 'al_1', { resolvedAt: t0 + 10 * minute }, t0 + 11 * minute);
    const early = dueTransitions(incident, { now: t0 + 11 * minute, link });
    expect(early.transitions.map((t) => t.kind)).toEqual(['OPEN']);
    expect(early.incident.state).toBe('open');
    const late = member('al_2', { openedAt: t0 + 12 * minute });
    expect(incidentFor([early.incident], late)?.incident.id).toBe('in_1');
    const over = dueTransitions(early.incident, { now: t0 + 15 * minute, link });
    expect(over.transitions.map((t) => t.kind)).toEqual(['RESOLVED']);
    expect(over.incident).toMatchObject({ state: 'resolved', resolvedAt: t0 + 10 * minute });
    expect(incidentFor([over.incident], late)).toBeUndefined();
  });

  it('sends an UPDATE when the worst severity rises to critical', () => {
    let incident = startIncident(member('al_1', { severity: 'warning' }), t0);
    incident = dueTransitions(incident, { now: t0, link }).incident;
    incident = updateMember(incident, 'al_1', { severity: 'critical' }, t0 + minute);
    expect(incident.severity).toBe('critical');
    const due = dueTransitions(incident, { now: t0 + 5 * minute, link });
    expect(due.transitions.map((t) => [t.kind, t.notification.escalated, t.notification.severity])).toEqual([
      ['UPDATE', true, 'critical'],
    ]);
  });

  it('names as origin the member that started first, and among equal starts the one furthest out', () => {
    const tie = { strength: 1, label: 'shop.*' } as const;
    let incident = startIncident(member('al_1', { deviation: 2 }), t0);
    incident = joinIncident(incident, member('al_2', { deviation: 9 }), tie, t0 + minute);
    expect(incident.originAlertId).toBe('al_2');
    incident = joinIncident(incident, member('al_3', { deviation: 1, startedAt: t0 - 5 * minute }), tie, t0);
    expect(incident.originAlertId).toBe('al_3');
    expect(dueTransitions(incident, { now: t0, link }).transitions[0]?.notification.origin.alertId).toBe(
      'al_3',
    );
  });

  it('makes the same ids from the same data (two runs agree)', () => {
    const make = () =>
      dueTransitions(
        joinIncident(startIncident(member('al_1'), t0), member('al_2'), { strength: 1, label: 'shop.*' }, t0),
        {
          now: t0,
          link,
        },
      );
    expect(make()).toEqual(make());
  });
});
