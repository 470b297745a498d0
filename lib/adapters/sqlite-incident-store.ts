import type Database from 'better-sqlite3';
import {
  type Incident,
  type IncidentTransition,
  incidentTransitionRank,
  leavesBoard,
} from '../alerts/incidents.ts';
import type {
  IncidentBoard,
  IncidentBoardChange,
  IncidentQuery,
  IncidentStore,
} from '../ports/incident-store.ts';

const schema = `
CREATE TABLE IF NOT EXISTS incident_board (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  resolved_at INTEGER,
  body TEXT NOT NULL,
  acknowledged_at INTEGER,
  acknowledged_by TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS incidents_by_start ON incidents(started_at);
CREATE TABLE IF NOT EXISTS incident_transitions (
  id TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  deliver_after INTEGER NOT NULL DEFAULT 0,
  claimed_until INTEGER,
  decided_at INTEGER,
  body TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS incident_transitions_pending ON incident_transitions(at, rank, id)
  WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS incident_transitions_by_incident ON incident_transitions(incident_id);
`;

interface IncidentRow {
  body: string;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
}

interface TransitionRow {
  status: IncidentTransition['status'];
  reason: string | null;
  attempts: number;
  last_error: string | null;
  deliver_after: number;
  decided_at: number | null;
  body: string;
}

/**
 * Local mode's incident store: tables beside the alerts in the same SQLite file. The board is one row with a
 * version; a change of it is one transaction.
 */
export class SqliteIncidentStore implements IncidentStore {
  constructor(private readonly database: Database.Database) {
    database.exec(schema);
  }

  async loadBoard(): Promise<IncidentBoard> {
    const row = this.database
      .prepare<[], { version: number; body: string }>('SELECT version, body FROM incident_board WHERE id = 1')
      .get();
    if (!row) return { incidents: [], version: 0 };
    const ids = JSON.parse(row.body) as string[];
    const incidents = ids.map((id) => this.incidentNow(id)).filter((incident) => incident !== undefined);
    return { incidents, version: row.version };
  }

  async commitBoard(version: number, change: IncidentBoardChange): Promise<'committed' | 'conflict'> {
    const commit = this.database.transaction((): 'committed' | 'conflict' => {
      const row = this.database
        .prepare<[], { version: number; body: string }>(
          'SELECT version, body FROM incident_board WHERE id = 1',
        )
        .get();
      if ((row?.version ?? 0) !== version) return 'conflict';
      const onBoard = new Set<string>(row ? (JSON.parse(row.body) as string[]) : []);
      const save = this.database.prepare(`
        INSERT INTO incidents (id, state, started_at, resolved_at, body) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET state = excluded.state, started_at = excluded.started_at,
          resolved_at = excluded.resolved_at, body = excluded.body`);
      for (const incident of change.incidents) {
        save.run(
          incident.id,
          incident.state,
          incident.startedAt,
          incident.resolvedAt,
          JSON.stringify(incident),
        );
        if (leavesBoard(incident)) onBoard.delete(incident.id);
        else onBoard.add(incident.id);
      }
      const record = this.database.prepare(`
        INSERT INTO incident_transitions (id, incident_id, at, rank, status, reason, attempts, last_error,
          deliver_after, decided_at, body)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`);
      for (const transition of change.transitions) {
        record.run(
          transition.id,
          transition.incidentId,
          transition.at,
          incidentTransitionRank[transition.kind],
          transition.status,
          transition.reason,
          transition.attempts,
          transition.lastError,
          transition.deliverAfter,
          transition.decidedAt,
          JSON.stringify(transition),
        );
      }
      this.database
        .prepare(
          `INSERT INTO incident_board (id, version, body) VALUES (1, ?, ?)
           ON CONFLICT (id) DO UPDATE SET version = excluded.version, body = excluded.body`,
        )
        .run(version + 1, JSON.stringify([...onBoard].sort()));
      return 'committed';
    });
    return commit.immediate();
  }

  async pendingIncidentTransitions(limit: number): Promise<IncidentTransition[]> {
    return this.database
      .prepare<[number], TransitionRow>(
        "SELECT * FROM incident_transitions WHERE status = 'pending' ORDER BY at, rank, id LIMIT ?",
      )
      .all(limit)
      .map(toTransition);
  }

  async claimIncidentTransition(id: string, leaseUntil: number, now: number): Promise<boolean> {
    const { changes } = this.database
      .prepare(
        `UPDATE incident_transitions SET claimed_until = ?, attempts = attempts + 1
         WHERE id = ? AND status = 'pending' AND (claimed_until IS NULL OR claimed_until <= ?)`,
      )
      .run(leaseUntil, id, now);
    return changes === 1;
  }

  async finishIncidentTransition(
    id: string,
    outcome: { status: 'sent' | 'suppressed'; at: number; reason: string | null },
  ): Promise<void> {
    this.database
      .prepare(
        `UPDATE incident_transitions SET status = ?, reason = ?, decided_at = ?, claimed_until = NULL
         WHERE id = ? AND status = 'pending'`,
      )
      .run(outcome.status, outcome.reason, outcome.at, id);
  }

  async deferIncidentTransition(id: string, deliverAfter: number, error: string | null): Promise<void> {
    this.database
      .prepare(
        `UPDATE incident_transitions SET deliver_after = ?, last_error = coalesce(?, last_error),
           claimed_until = NULL
         WHERE id = ? AND status = 'pending'`,
      )
      .run(deliverAfter, error, id);
  }

  async getIncident(id: string): Promise<Incident | undefined> {
    return this.incidentNow(id);
  }

  async listIncidents(query: IncidentQuery): Promise<Incident[]> {
    return this.database
      .prepare<
        [
          {
            state: string | null;
            from: number;
            to: number;
            limit: number;
            afterStarted: number | null;
            afterId: string | null;
          },
        ],
        IncidentRow
      >(
        `SELECT body, acknowledged_at, acknowledged_by FROM incidents
         WHERE (@state IS NULL OR state = @state) AND started_at < @to
           AND (resolved_at IS NULL OR resolved_at >= @from)
           AND (@afterStarted IS NULL OR started_at < @afterStarted
                OR (started_at = @afterStarted AND id > @afterId))
         ORDER BY started_at DESC, id LIMIT @limit`,
      )
      .all({
        state: query.state ?? null,
        to: query.to ?? Number.MAX_SAFE_INTEGER,
        from: query.from ?? Number.MIN_SAFE_INTEGER,
        limit: query.limit,
        afterStarted: query.after?.startedAt ?? null,
        afterId: query.after?.id ?? null,
      })
      .map(toIncident);
  }

  async incidentTransitionsOf(incidentId: string): Promise<IncidentTransition[]> {
    return this.database
      .prepare<[string], TransitionRow>(
        'SELECT * FROM incident_transitions WHERE incident_id = ? ORDER BY at, rank, id',
      )
      .all(incidentId)
      .map(toTransition);
  }

  async acknowledgeIncident(id: string, by: string, at: number): Promise<Incident | undefined> {
    this.database
      .prepare(
        'UPDATE incidents SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL',
      )
      .run(at, by, id);
    return this.incidentNow(id);
  }

  private incidentNow(id: string): Incident | undefined {
    const row = this.database
      .prepare<[string], IncidentRow>(
        'SELECT body, acknowledged_at, acknowledged_by FROM incidents WHERE id = ?',
      )
      .get(id);
    return row && toIncident(row);
  }
}

const toIncident = (row: IncidentRow): Incident => ({
  ...(JSON.parse(row.body) as Incident),
  acknowledgedAt: row.acknowledged_at,
  acknowledgedBy: row.acknowledged_by,
});

const toTransition = (row: TransitionRow): IncidentTransition => ({
  ...(JSON.parse(row.body) as IncidentTransition),
  status: row.status,
  reason: row.reason,
  attempts: row.attempts,
  lastError: row.last_error,
  deliverAfter: row.deliver_after,
  decidedAt: row.decided_at,
});
