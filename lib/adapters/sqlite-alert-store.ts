import type Database from 'better-sqlite3';
import {
  type Alert,
  type AlertTransition,
  type EvaluationOutcome,
  type Exclusion,
  type Mute,
  type Rule,
  type SeriesMonitor,
  transitionRank,
  withdrawnExclusionKeptMs,
} from '../alerts/model.ts';
import { type AlertConfig, storedConfig } from '../alerts/rules.ts';
import type { AlertQuery, AlertStore, CommitResult, MonitorSnapshot } from '../ports/alert-store.ts';

const schema = `
CREATE TABLE IF NOT EXISTS alert_config (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alert_monitors (
  series_id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  body TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  resolved_at INTEGER,
  as_of INTEGER NOT NULL,
  body TEXT NOT NULL,
  acknowledged_at INTEGER,
  acknowledged_by TEXT,
  paged INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alerts_by_state ON alerts(state, started_at);
CREATE INDEX IF NOT EXISTS alerts_by_start ON alerts(started_at);
CREATE INDEX IF NOT EXISTS alerts_by_series ON alerts(json_extract(body, '$.seriesId'), started_at);
CREATE TABLE IF NOT EXISTS alert_transitions (
  id TEXT PRIMARY KEY,
  alert_id TEXT NOT NULL,
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
CREATE INDEX IF NOT EXISTS alert_transitions_pending ON alert_transitions(at, rank, id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS alert_transitions_by_alert ON alert_transitions(alert_id);
`;

type ConfigKind = 'rule' | 'mute' | 'exclusion';

interface AlertRow {
  id: string;
  body: string;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  paged: number | null;
}

interface TransitionRow {
  id: string;
  status: AlertTransition['status'];
  reason: string | null;
  attempts: number;
  last_error: string | null;
  deliver_after: number;
  decided_at: number | null;
  body: string;
}

/**
 * Local mode's alert store: tables beside the metrics in the same SQLite file. An evaluation is committed in
 * one transaction, guarded by the monitor's version.
 */
export class SqliteAlertStore implements AlertStore {
  constructor(private readonly database: Database.Database) {
    database.exec(schema);
  }

  async loadConfig(): Promise<AlertConfig> {
    const rows = this.database
      .prepare<[], { kind: ConfigKind; body: string }>(
        'SELECT kind, body FROM alert_config ORDER BY kind, id',
      )
      .all();
    const of = <T>(kind: ConfigKind) =>
      rows.filter((row) => row.kind === kind).map((row) => JSON.parse(row.body) as T);
    return storedConfig(of<Rule>('rule'), of<Mute>('mute'), of<Exclusion>('exclusion'));
  }

  async putRule(rule: Rule): Promise<void> {
    this.putConfig('rule', rule.id, rule);
  }

  async deleteRule(id: string): Promise<boolean> {
    return this.deleteConfig('rule', id);
  }

  async putMute(mute: Mute): Promise<void> {
    this.putConfig('mute', mute.id, mute);
  }

  async deleteMute(id: string): Promise<boolean> {
    return this.deleteConfig('mute', id);
  }

  async putExclusion(exclusion: Exclusion): Promise<void> {
    this.putConfig('exclusion', exclusion.id, exclusion);
  }

  async deleteExclusion(id: string, at: number): Promise<boolean> {
    this.database
      .prepare(`DELETE FROM alert_config WHERE kind = 'exclusion' AND json_extract(body, '$.deletedAt') < ?`)
      .run(at - withdrawnExclusionKeptMs);
    const { changes } = this.database
      .prepare(
        `UPDATE alert_config SET body = json_set(body, '$.deletedAt', ?)
         WHERE kind = 'exclusion' AND id = ? AND json_extract(body, '$.deletedAt') IS NULL`,
      )
      .run(at, id);
    return changes > 0;
  }

  async loadMonitor(seriesId: string): Promise<MonitorSnapshot> {
    const row = this.database
      .prepare<[string], { version: number; body: string }>(
        'SELECT version, body FROM alert_monitors WHERE series_id = ?',
      )
      .get(seriesId);
    return row
      ? { monitor: JSON.parse(row.body) as SeriesMonitor, version: row.version }
      : { monitor: undefined, version: 0 };
  }

  async commitEvaluation(
    seriesId: string,
    version: number,
    outcome: EvaluationOutcome,
  ): Promise<CommitResult> {
    const saveMonitor = this.database.prepare(`
      INSERT INTO alert_monitors (series_id, version, body) VALUES (?, ?, ?)
      ON CONFLICT (series_id) DO UPDATE SET version = excluded.version, body = excluded.body
      WHERE alert_monitors.version = ?`);
    const commit = this.database.transaction((): CommitResult => {
      const current = this.database
        .prepare<[string], { version: number }>('SELECT version FROM alert_monitors WHERE series_id = ?')
        .get(seriesId);
      if ((current?.version ?? 0) !== version) return 'conflict';
      this.record(outcome);
      saveMonitor.run(seriesId, version + 1, JSON.stringify(outcome.monitor), version);
      return 'committed';
    });
    return commit.immediate();
  }

  async recordEvaluation(outcome: EvaluationOutcome): Promise<void> {
    this.database.transaction(() => this.record(outcome)).immediate();
  }

  /** Records an evaluation's transitions (each once) and alerts (never set back by an earlier evaluation). */
  private record(outcome: EvaluationOutcome): void {
    const insertTransition = this.database.prepare(`
      INSERT INTO alert_transitions (id, alert_id, at, rank, status, reason, attempts, last_error, deliver_after,
        decided_at, body)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`);
    const upsertAlert = this.database.prepare(`
      INSERT INTO alerts (id, state, started_at, resolved_at, as_of, body) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET state = excluded.state, resolved_at = excluded.resolved_at,
        as_of = excluded.as_of, body = excluded.body
      WHERE excluded.as_of >= alerts.as_of`);
    for (const transition of outcome.transitions) {
      insertTransition.run(
        transition.id,
        transition.alertId,
        transition.at,
        transitionRank[transition.kind],
        transition.status,
        transition.reason,
        transition.attempts,
        transition.lastError,
        transition.deliverAfter,
        transition.decidedAt,
        JSON.stringify(transition),
      );
    }
    for (const alert of outcome.alerts) {
      upsertAlert.run(
        alert.id,
        alert.state,
        alert.startedAt,
        alert.resolvedAt,
        outcome.asOf,
        JSON.stringify(alert),
      );
    }
  }

  async pendingTransitions(limit: number): Promise<AlertTransition[]> {
    return this.database
      .prepare<[number], TransitionRow>(
        "SELECT * FROM alert_transitions WHERE status = 'pending' ORDER BY at, rank, id LIMIT ?",
      )
      .all(limit)
      .map(toTransition);
  }

  async claimTransition(id: string, leaseUntil: number, now: number): Promise<boolean> {
    const result = this.database
      .prepare(
        `UPDATE alert_transitions SET claimed_until = ?, attempts = attempts + 1
         WHERE id = ? AND status = 'pending' AND (claimed_until IS NULL OR claimed_until <= ?)`,
      )
      .run(leaseUntil, id, now);
    return result.changes === 1;
  }

  async finishTransition(
    transition: AlertTransition,
    outcome: { status: 'sent' | 'suppressed'; at: number; reason: string | null },
  ): Promise<void> {
    this.database.transaction(() => {
      this.database
        .prepare(
          `UPDATE alert_transitions SET status = ?, reason = ?, decided_at = ?, claimed_until = NULL
           WHERE id = ? AND status = 'pending'`,
        )
        .run(outcome.status, outcome.reason, outcome.at, transition.id);
      if (transition.kind === 'OPEN') {
        this.database
          .prepare('UPDATE alerts SET paged = ? WHERE id = ?')
          .run(outcome.status === 'sent' ? 1 : 0, transition.alertId);
      }
    })();
  }

  async deferTransition(id: string, deliverAfter: number, error: string | null): Promise<void> {
    this.database
      .prepare(
        `UPDATE alert_transitions SET deliver_after = ?, last_error = coalesce(?, last_error), claimed_until = NULL
         WHERE id = ? AND status = 'pending'`,
      )
      .run(deliverAfter, error, id);
  }

  async getAlert(id: string): Promise<Alert | undefined> {
    const row = this.database.prepare<[string], AlertRow>('SELECT * FROM alerts WHERE id = ?').get(id);
    return row && toAlert(row);
  }

  async listAlerts(query: AlertQuery): Promise<Alert[]> {
    return this.database
      .prepare<
        [
          {
            state: string | null;
            series: string | null;
            from: number;
            to: number;
            limit: number;
            afterStarted: number | null;
            afterId: string | null;
          },
        ],
        AlertRow
      >(
        `SELECT * FROM alerts
         WHERE (@state IS NULL OR state = @state) AND started_at < @to
           AND (resolved_at IS NULL OR resolved_at >= @from)
           AND (@series IS NULL OR json_extract(body, '$.seriesId') = @series)
           AND (@afterStarted IS NULL OR started_at < @afterStarted
                OR (started_at = @afterStarted AND id > @afterId))
         ORDER BY started_at DESC, id LIMIT @limit`,
      )
      .all({
        state: query.state ?? null,
        series: query.seriesId ?? null,
        to: query.to ?? Number.MAX_SAFE_INTEGER,
        from: query.from ?? Number.MIN_SAFE_INTEGER,
        limit: query.limit,
        afterStarted: query.after?.startedAt ?? null,
        afterId: query.after?.id ?? null,
      })
      .map(toAlert);
  }

  async transitionsOf(alertId: string): Promise<AlertTransition[]> {
    return this.database
      .prepare<[string], TransitionRow>(
        'SELECT * FROM alert_transitions WHERE alert_id = ? ORDER BY at, rank, id',
      )
      .all(alertId)
      .map(toTransition);
  }

  async acknowledgeAlert(id: string, by: string, at: number): Promise<Alert | undefined> {
    this.database
      .prepare(
        'UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL',
      )
      .run(at, by, id);
    return this.getAlert(id);
  }

  private putConfig(kind: ConfigKind, id: string, record: unknown): void {
    this.database
      .prepare(
        'INSERT INTO alert_config (kind, id, body) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET body = excluded.body',
      )
      .run(kind, id, JSON.stringify(record));
  }

  private deleteConfig(kind: ConfigKind, id: string): boolean {
    return (
      this.database.prepare('DELETE FROM alert_config WHERE kind = ? AND id = ?').run(kind, id).changes > 0
    );
  }
}

const toAlert = (row: AlertRow): Alert => ({
  ...(JSON.parse(row.body) as Alert),
  acknowledgedAt: row.acknowledged_at,
  acknowledgedBy: row.acknowledged_by,
  paged: row.paged === null ? null : row.paged === 1,
});

const toTransition = (row: TransitionRow): AlertTransition => ({
  ...(JSON.parse(row.body) as AlertTransition),
  status: row.status,
  reason: row.reason,
  attempts: row.attempts,
  lastError: row.last_error,
  deliverAfter: row.deliver_after,
  decidedAt: row.decided_at,
});
