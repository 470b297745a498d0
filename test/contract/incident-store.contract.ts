import { describe, expect, it } from 'vitest';
import {
  dueTransitions,
  type Incident,
  type IncidentMember,
  joinIncident,
  startIncident,
  updateMember,
} from '../../lib/alerts/incidents.ts';
import type { IncidentStore } from '../../lib/ports/incident-store.ts';

const minute = 60_000;
const t0 = Date.UTC(2025, 10, 25, 13, 20);
const link = (id: string) => `http://dash/#/incidents/${id}`;

function member(alertId: string, startedAt: number): IncidentMember {
  return {
    alertId,
    ruleId: 'default',
    seriesId: `s${alertId}`,
    name: `shop.${alertId}`,
    dimensions: { service: 'idp' },
    severity: 'critical',
    startedAt,
    openedAt: startedAt + 5 * minute,
    deviation: 3,
    resolvedAt: null,
    joinedAt: startedAt + 6 * minute,
    runAt: startedAt + 6 * minute,
    reason: 'above its band for 10 min',
    link: `http://dash/#/series/s${alertId}?alert=${alertId}`,
  };
}

/** A change of the board: the incident with its due transitions. */
const changeOf = (due: ReturnType<typeof dueTransitions>) => ({
  incident: due.incident,
  incidents: [due.incident],
  transitions: due.transitions,
});

/** An incident of one member, its OPEN recorded: what a band job saves after its first alert. */
function opened(alertId: string, startedAt: number) {
  return changeOf(
    dueTransitions(startIncident(member(alertId, startedAt), startedAt + 6 * minute), {
      now: startedAt + 6 * minute,
      link: link(`in_${alertId.slice(3)}`),
    }),
  );
}

/** The incident resolved and its RESOLVED recorded. */
function resolved(incident: Incident, at: number) {
  let done = incident;
  for (const { alertId } of incident.members) done = updateMember(done, alertId, { resolvedAt: at }, at);
  return changeOf(dueTransitions(done, { now: at, link: link(incident.id) }));
}

/**
 * What every IncidentStore adapter must do, whatever it stores in: run against each one so that local mode
 * behaves like the cloud.
 */
export function describeIncidentStoreContract(
  name: string,
  open: () => Promise<{ store: IncidentStore; close(): Promise<void> }>,
) {
  const withStore = (test: (store: IncidentStore) => Promise<void>) => async () => {
    const { store, close } = await open();
    try {
      await test(store);
    } finally {
      await close();
    }
  };

  describe(`IncidentStore contract: ${name}`, () => {
    it(
      'saves a change of the board only at the version read, all of it',
      withStore(async (store) => {
        const empty = await store.loadBoard();
        expect(empty.incidents).toEqual([]);
        const first = opened('al_01', t0);
        expect(await store.commitBoard(empty.version, first)).toBe('committed');
        // A run that read the board before that commit must not save over it.
        const second = opened('al_02', t0);
        expect(await store.commitBoard(empty.version, second)).toBe('conflict');
        const board = await store.loadBoard();
        expect(board.incidents).toEqual([first.incident]);
        expect(await store.getIncident('in_02')).toBeUndefined();
        expect((await store.pendingIncidentTransitions(10)).map((t) => t.id)).toEqual(['in_01.open']);

        const joined = joinIncident(
          first.incident,
          member('al_03', t0 - minute),
          { strength: 0, label: 'service=idp' },
          t0 + 7 * minute,
        );
        expect(await store.commitBoard(board.version, { incidents: [joined], transitions: [] })).toBe(
          'committed',
        );
        const after = await store.loadBoard();
        expect(after.incidents).toEqual([joined]);
        expect(after.version).not.toBe(board.version);
        expect(await store.getIncident('in_01')).toEqual(joined);
      }),
    );

    it(
      'records each transition once: a second record of an id leaves the first as it was',
      withStore(async (store) => {
        const first = opened('al_01', t0);
        await store.commitBoard((await store.loadBoard()).version, first);
        const again = {
          incidents: [first.incident],
          transitions: first.transitions.map((t) => ({ ...t, at: t.at + minute })),
        };
        expect(await store.commitBoard((await store.loadBoard()).version, again)).toBe('committed');
        expect(await store.incidentTransitionsOf('in_01')).toEqual(first.transitions);
      }),
    );

    it(
      'claims a pending transition once per lease, and never again once finished',
      withStore(async (store) => {
        const first = opened('al_01', t0);
        await store.commitBoard(0, first);
        const now = t0 + 10 * minute;
        expect(await store.claimIncidentTransition('in_01.open', now + 2 * minute, now)).toBe(true);
        expect(await store.claimIncidentTransition('in_01.open', now + 3 * minute, now + minute)).toBe(false);
        await store.deferIncidentTransition('in_01.open', now + 5 * minute, 'Throttled: Rate exceeded');
        const [deferred] = await store.pendingIncidentTransitions(10);
        expect(deferred).toMatchObject({
          id: 'in_01.open',
          attempts: 1,
          deliverAfter: now + 5 * minute,
          lastError: 'Throttled: Rate exceeded',
          status: 'pending',
        });
        expect(await store.claimIncidentTransition('in_01.open', now + 7 * minute, now + 5 * minute)).toBe(
          true,
        );
        await store.finishIncidentTransition('in_01.open', {
          status: 'sent',
          at: now + 5 * minute,
          reason: null,
        });
        expect(await store.pendingIncidentTransitions(10)).toEqual([]);
        expect(await store.claimIncidentTransition('in_01.open', now + 30 * minute, now + 20 * minute)).toBe(
          false,
        );
        await store.deferIncidentTransition('in_01.open', now + 40 * minute, 'late');
        const [sent] = await store.incidentTransitionsOf('in_01');
        expect(sent).toMatchObject({ status: 'sent', attempts: 2, decidedAt: now + 5 * minute });
      }),
    );

    it(
      'lists pending transitions in the order they happened, then OPEN, UPDATE, RESOLVED',
      withStore(async (store) => {
        const late = opened('al_02', t0 + 20 * minute);
        const early = opened('al_01', t0);
        await store.commitBoard(0, late);
        await store.commitBoard((await store.loadBoard()).version, early);
        const done = resolved(early.incident, t0 + 20 * minute + 6 * minute);
        await store.commitBoard((await store.loadBoard()).version, done);
        expect((await store.pendingIncidentTransitions(10)).map((t) => t.id)).toEqual([
          'in_01.open',
          'in_02.open',
          'in_01.resolved',
        ]);
        expect(await store.pendingIncidentTransitions(1)).toHaveLength(1);
      }),
    );

    it(
      'takes a resolved incident off the board once its RESOLVED is recorded, and lists incidents newest first',
      withStore(async (store) => {
        const incidents: Incident[] = [];
        for (const [id, start] of [
          ['al_01', t0],
          ['al_02', t0 + 60 * minute],
          ['al_03', t0 + 60 * minute],
          ['al_04', t0 + 120 * minute],
        ] as const) {
          const made = opened(id, start);
          await store.commitBoard((await store.loadBoard()).version, made);
          incidents.push(made.incident);
        }
        const [first] = incidents;
        if (!first) throw new Error('no incident');
        const done = resolved(first, t0 + 30 * minute);
        await store.commitBoard((await store.loadBoard()).version, done);
        expect((await store.loadBoard()).incidents.map((i) => i.id).sort()).toEqual([
          'in_02',
          'in_03',
          'in_04',
        ]);
        expect(await store.getIncident('in_01')).toMatchObject({
          state: 'resolved',
          resolvedAt: t0 + 30 * minute,
        });

        const ids = async (query: Parameters<IncidentStore['listIncidents']>[0]) =>
          (await store.listIncidents(query)).map((incident) => incident.id);
        expect(await ids({ limit: 10 })).toEqual(['in_04', 'in_02', 'in_03', 'in_01']);
        expect(await ids({ limit: 10, state: 'resolved' })).toEqual(['in_01']);
        expect(await ids({ limit: 10, state: 'open', to: t0 + 61 * minute })).toEqual(['in_02', 'in_03']);
        expect(await ids({ limit: 10, from: t0 + 31 * minute })).toEqual(['in_04', 'in_02', 'in_03']);
        const page = await store.listIncidents({ limit: 2 });
        const last = page.at(-1);
        if (!last) throw new Error('empty page');
        expect(await ids({ limit: 2, after: { startedAt: last.startedAt, id: last.id } })).toEqual([
          'in_03',
          'in_01',
        ]);
      }),
    );

    it(
      'keeps the first acknowledgement, through later changes of the incident',
      withStore(async (store) => {
        const first = opened('al_01', t0);
        await store.commitBoard(0, first);
        expect(await store.acknowledgeIncident('in_01', 'alice', t0 + 8 * minute)).toMatchObject({
          acknowledgedBy: 'alice',
          acknowledgedAt: t0 + 8 * minute,
        });
        await store.acknowledgeIncident('in_01', 'bob', t0 + 9 * minute);
        const done = resolved(first.incident, t0 + 30 * minute);
        await store.commitBoard((await store.loadBoard()).version, done);
        expect(await store.getIncident('in_01')).toMatchObject({
          state: 'resolved',
          acknowledgedBy: 'alice',
          acknowledgedAt: t0 + 8 * minute,
        });
        expect(await store.acknowledgeIncident('in_99', 'alice', t0)).toBeUndefined();
      }),
    );
  });
}
