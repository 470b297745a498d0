/**
 * Feedback through the API: "this was normal" on an alert, "this was an incident" on a stretch of a series,
 * the feedback of a series, and withdrawal. A read key may give and withdraw it, as it may acknowledge: the
 * dashboard's buttons hold a read key, what it changes is bounded (one series, its learning at that time of
 * week), and every record keeps who said it and when, withdrawn or not.
 */
import { randomBytes } from 'node:crypto';
import { jsonObject } from '../../lib/alerts/schema.ts';
import { HttpError, NotFoundError, ValidationError } from '../../lib/errors.ts';
import { type AlertFeedbackMark, alertMarks, type Feedback } from '../../lib/feedback/model.ts';
import { parseAlertFeedback, parseStretchFeedback } from '../../lib/feedback/schema.ts';
import { requireSeries } from '../../lib/query/read.ts';
import type { AlertsDependencies } from './dependencies.ts';
import { bodyText, type HttpEvent, json, type RouteDefinition } from './http.ts';

const newFeedbackId = () => `fb_${randomBytes(8).toString('hex')}`;

const pathId = (event: HttpEvent): string => event.pathParameters?.id ?? '';

class FeedbackConflictError extends HttpError {
  override readonly name = 'FeedbackConflictError';
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}

/** Alerts as the API shows them: each with the "this was normal" that holds on it (`feedback`), or null. */
export async function withFeedback<Item extends { readonly id: string }>(
  dependencies: Pick<AlertsDependencies, 'feedback'>,
  alerts: readonly Item[],
): Promise<(Item & { feedback: AlertFeedbackMark | null })[]> {
  if (alerts.length === 0) return [];
  const marks = alertMarks(await dependencies.feedback.listFeedback());
  return alerts.map((alert) => ({ ...alert, feedback: marks.get(alert.id) ?? null }));
}

export const feedbackRoutes: readonly RouteDefinition<AlertsDependencies>[] = [
  {
    method: 'POST',
    path: '/v1/alerts/{id}/feedback',
    scope: 'read',
    async handle(event, { dependencies, key }) {
      const { note } = parseAlertFeedback(jsonObject(bodyText(event), 'feedback'));
      const id = pathId(event);
      const alert = await dependencies.alerts.getAlert(id);
      if (!alert) throw new NotFoundError(`no alert with id "${id}"`);
      if (alert.ruleKind === 'nodata') {
        throw new ValidationError(
          `alert "${id}" is a no-data alert: it has no departure to learn as normal`,
          [{ field: 'verdict', message: 'a no-data alert has no buckets to learn as normal' }],
        );
      }
      const known = (await dependencies.feedback.listFeedback({ seriesId: alert.seriesId })).find(
        (record) => record.alertId === id && record.withdrawnAt === null,
      );
      if (known) {
        throw new FeedbackConflictError(
          `alert "${id}" was said to be normal already (feedback "${known.id}"): DELETE /v1/feedback/${known.id} withdraws it`,
        );
      }
      const now = dependencies.clock.now();
      const feedback: Feedback = {
        id: newFeedbackId(),
        seriesId: alert.seriesId,
        alertId: id,
        verdict: 'normal',
        // The departure: from the first breaching bucket to the first one back (or now, while it lasts).
        start: alert.startedAt,
        end: Math.max(alert.resolvedAt ?? now, alert.startedAt + 1),
        by: key?.name ?? 'unknown',
        at: now,
        note,
        withdrawnAt: null,
      };
      await dependencies.feedback.putFeedback(feedback);
      const [marked] = await withFeedback(dependencies, [alert]);
      return json(201, { feedback, alert: marked });
    },
  },
  {
    method: 'POST',
    path: '/v1/series/{id}/feedback',
    scope: 'read',
    async handle(event, { dependencies, key }) {
      const body = jsonObject(bodyText(event), 'feedback');
      const now = dependencies.clock.now();
      const { start, end, note } = parseStretchFeedback(body, now);
      const series = await requireSeries(dependencies.series, event.pathParameters?.id);
      const feedback: Feedback = {
        id: newFeedbackId(),
        seriesId: series.id,
        alertId: null,
        verdict: 'incident',
        start,
        end,
        by: key?.name ?? 'unknown',
        at: now,
        note,
        withdrawnAt: null,
      };
      await dependencies.feedback.putFeedback(feedback);
      return json(201, { feedback });
    },
  },
  {
    method: 'GET',
    path: '/v1/series/{id}/feedback',
    scope: 'read',
    async handle(event, { dependencies }) {
      const series = await requireSeries(dependencies.series, event.pathParameters?.id);
      return json(200, { feedback: await dependencies.feedback.listFeedback({ seriesId: series.id }) });
    },
  },
  {
    method: 'DELETE',
    path: '/v1/feedback/{id}',
    scope: 'read',
    async handle(event, { dependencies }) {
      const id = pathId(event);
      const feedback = await dependencies.feedback.withdrawFeedback(id, dependencies.clock.now());
      if (!feedback) throw new NotFoundError(`no feedback with id "${id}"`);
      return json(200, { feedback });
    },
  },
];
