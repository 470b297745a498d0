import type Database from 'better-sqlite3';
import type { Feedback } from '../feedback/model.ts';
import type { FeedbackStore } from '../ports/feedback-store.ts';

const schema = `
CREATE TABLE IF NOT EXISTS alert_feedback (
  id TEXT PRIMARY KEY,
  series_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  body TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alert_feedback_by_series ON alert_feedback(series_id, at);
`;

/** Local mode's feedback store: a table beside the alert store's in the same SQLite file. */
export class SqliteFeedbackStore implements FeedbackStore {
  constructor(private readonly database: Database.Database) {
    database.exec(schema);
  }

  async putFeedback(feedback: Feedback): Promise<void> {
    this.database
      .prepare('INSERT INTO alert_feedback (id, series_id, at, body) VALUES (?, ?, ?, ?)')
      .run(feedback.id, feedback.seriesId, feedback.at, JSON.stringify(feedback));
  }

  async getFeedback(id: string): Promise<Feedback | undefined> {
    const row = this.database
      .prepare<[string], { body: string }>('SELECT body FROM alert_feedback WHERE id = ?')
      .get(id);
    return row && (JSON.parse(row.body) as Feedback);
  }

  async listFeedback(query: { readonly seriesId?: string } = {}): Promise<Feedback[]> {
    const rows =
      query.seriesId === undefined
        ? this.database.prepare<[], { body: string }>('SELECT body FROM alert_feedback ORDER BY at, id').all()
        : this.database
            .prepare<[string], { body: string }>(
              'SELECT body FROM alert_feedback WHERE series_id = ? ORDER BY at, id',
            )
            .all(query.seriesId);
    return rows.map((row) => JSON.parse(row.body) as Feedback);
  }

  async withdrawFeedback(id: string, at: number): Promise<Feedback | undefined> {
    return this.database.transaction(() => {
      const row = this.database
        .prepare<[string], { body: string }>('SELECT body FROM alert_feedback WHERE id = ?')
        .get(id);
      if (!row) return undefined;
      const feedback = JSON.parse(row.body) as Feedback;
      if (feedback.withdrawnAt !== null) return feedback;
      const withdrawn: Feedback = { ...feedback, withdrawnAt: at };
      this.database
        .prepare('UPDATE alert_feedback SET body = ? WHERE id = ?')
        .run(JSON.stringify(withdrawn), id);
      return withdrawn;
    })();
  }
}
