/**
 * Validation of feedback sent to the API: unknown fields are refused, and every problem names its field (the
 * same zod schemas and messages as rules, mutes and exclusions: lib/alerts/schema.ts).
 */
import * as z from 'zod/mini';
import { instant, parseWith } from '../alerts/schema.ts';
import { ValidationError } from '../errors.ts';
import { dayMs } from '../time.ts';
import { feedbackVerdicts } from './model.ts';

/** The longest stretch one "this was an incident" covers, as for an exclusion. */
export const maxFeedbackSpanMs = 400 * dayMs;

const note = z._default(z.string().check(z.maxLength(500)), '');
const verdict = z.enum(feedbackVerdicts);

const alertFeedbackSchema = z.strictObject({ verdict, note });

const stretchFeedbackSchema = z.strictObject({ verdict, start: instant, end: instant, note }).check(
  z.refine((stretch) => stretch.end > stretch.start, { message: 'must be after "start"', path: ['end'] }),
  z.refine((stretch) => stretch.end - stretch.start <= maxFeedbackSpanMs, {
    message: 'a stretch is at most 400 days long',
    path: ['end'],
  }),
);

const wrongVerdict = (message: string): never => {
  throw new ValidationError(`invalid feedback: verdict ${message}`, [{ field: 'verdict', message }]);
};

/** `POST /v1/alerts/{id}/feedback`'s body: `{ verdict: "normal", note? }`. */
export function parseAlertFeedback(body: Record<string, unknown>): { note: string } {
  const parsed = parseWith(alertFeedbackSchema, 'feedback', body);
  if (parsed.verdict !== 'normal') {
    wrongVerdict(
      'must be "normal" on an alert (an alert is an incident already); "incident" is said of a stretch no ' +
        'alert covered: POST /v1/series/{id}/feedback',
    );
  }
  return { note: parsed.note };
}

/** `POST /v1/series/{id}/feedback`'s body: `{ verdict: "incident", start, end, note? }`, none of it ahead of `now`. */
export function parseStretchFeedback(
  body: Record<string, unknown>,
  now: number,
): { start: number; end: number; note: string } {
  const parsed = parseWith(stretchFeedbackSchema, 'feedback', body);
  if (parsed.verdict !== 'incident') {
    wrongVerdict(
      'must be "incident" on a stretch; "normal" is said of an alert: POST /v1/alerts/{id}/feedback',
    );
  }
  if (parsed.end > now) {
    throw new ValidationError('invalid feedback: end is in the future', [
      {
        field: 'end',
        message:
          'must not be in the future (feedback is about what happened: an exclusion covers a period ahead)',
      },
    ]);
  }
  return { start: parsed.start, end: parsed.end, note: parsed.note };
}
