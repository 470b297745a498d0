/**
 * The port incidents need from a store: the board of incidents still open (read whole and saved with
 * optimistic concurrency, so that two overlapping band jobs group alerts into the same incidents), every
 * incident for listing, and the incident transitions waiting to be delivered (an outbox, as for alerts).
 */
import type { Incident, IncidentState, IncidentTransition } from '../alerts/incidents.ts';

/** The incidents still open (or resolved with their RESOLVED not recorded yet), at a version. */
export interface IncidentBoard {
  readonly incidents: readonly Incident[];
  /** Pass back to {@link IncidentStore.commitBoard}: 0 for a store that never saved a board. */
  readonly version: number;
}

export interface IncidentBoardChange {
  /**
   * Incidents that changed: saved whole (acknowledgement excepted, which the store keeps). Those resolved with
   * their RESOLVED recorded leave the board; the others are on it.
   */
  readonly incidents: readonly Incident[];
  /** Transitions to record, each once (ids follow from the data). */
  readonly transitions: readonly IncidentTransition[];
}

/** Where a page of incidents stopped (the last incident of the previous page). */
export interface IncidentPosition {
  readonly startedAt: number;
  readonly id: string;
}

export interface IncidentQuery {
  readonly state?: IncidentState;
  /** Incidents active at some time in `[from, to)`: started before `to`, not resolved before `from`. */
  readonly from?: number;
  readonly to?: number;
  readonly limit: number;
  readonly after?: IncidentPosition;
}

export interface IncidentStore {
  loadBoard(): Promise<IncidentBoard>;
  /**
   * Saves a change of the board, all of it or nothing: only if the board is still at `version`. 'conflict'
   * when another run saved first (then load the board again and redo the change).
   */
  commitBoard(version: number, change: IncidentBoardChange): Promise<'committed' | 'conflict'>;

  /** Transitions not delivered yet, in the order they happened (then OPEN, UPDATE, RESOLVED), at most `limit`. */
  pendingIncidentTransitions(limit: number): Promise<IncidentTransition[]>;
  /** Takes a pending transition for publishing until `leaseUntil`; false when another run holds it or it is done. */
  claimIncidentTransition(id: string, leaseUntil: number, now: number): Promise<boolean>;
  finishIncidentTransition(
    id: string,
    outcome: { readonly status: 'sent' | 'suppressed'; readonly at: number; readonly reason: string | null },
  ): Promise<void>;
  /** Leaves a transition pending, not to be tried before `deliverAfter`, noting why. */
  deferIncidentTransition(id: string, deliverAfter: number, error: string | null): Promise<void>;

  getIncident(id: string): Promise<Incident | undefined>;
  /** At most `limit` incidents after `after`, newest first by start, then by id (`incidentListingOrder`). */
  listIncidents(query: IncidentQuery): Promise<Incident[]>;
  incidentTransitionsOf(incidentId: string): Promise<IncidentTransition[]>;
  /** Records who acknowledged an incident (the first acknowledgement stays); undefined for an unknown one. */
  acknowledgeIncident(id: string, by: string, at: number): Promise<Incident | undefined>;
}
