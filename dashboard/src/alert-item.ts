import type { AlertHistorySource } from './alert-history.ts';
import { alertHref } from './alert-history.ts';
import type { Alert } from './api.ts';
import { h } from './dom.ts';
import { formatAgo, formatDuration, formatTime, formatValue, seriesLabel } from './format.ts';

/** Dispatched on the document when an alert item's feedback was given or withdrawn. */
export const feedbackChanged = 'normalcy-feedback-changed';

export interface AlertItemOptions {
  readonly now: number;
  /** Where acknowledging goes; without it the item has no button. */
  readonly source?: AlertHistorySource;
  /** The alert the view was opened for: highlighted. */
  readonly marked?: boolean;
  /** The alert is its incident's origin (the series that left its band first): said so beside its name. */
  readonly origin?: boolean;
}

/** What the alert measured when it opened: the value against its band or threshold, and how far it went. */
function measurement(alert: Alert): string {
  if (alert.value === null) return alert.ruleKind === 'nodata' ? 'no data' : '';
  const parts = [`value ${formatValue(alert.value)}`];
  if (alert.threshold !== null) parts.push(`threshold ${formatValue(alert.threshold)}`);
  else if (alert.expected !== null) {
    const band =
      alert.lower !== null && alert.upper !== null
        ? ` (band ${formatValue(alert.lower)} to ${formatValue(alert.upper)})`
        : '';
    parts.push(`expected ${formatValue(alert.expected)}${band}`);
  }
  const opening = parts.join(', ');
  return alert.peakDeviation === null
    ? opening
    : `${opening}; peak ${formatValue(alert.peakDeviation)}× the band's half-width`;
}

/** When it started and ended (or how long it has been open). */
function timing(alert: Alert, now: number): string {
  const started = `started ${formatTime(alert.startedAt)} (${formatAgo(alert.startedAt, now)})`;
  return alert.resolvedAt === null
    ? `${started}, open for ${formatDuration(Math.max(0, now - alert.startedAt))}`
    : `${started}, resolved ${formatTime(alert.resolvedAt)} after ${formatDuration(alert.resolvedAt - alert.startedAt)}`;
}

/**
 * One alert as the lists show it: severity, state, the series (a link to its view around the alert), who
 * acknowledged it (or a button to acknowledge it while it is open), the alert explained in one line (usual
 * value, value, how far, since when), the rule and why, and when. An alert recorded before explanations
 * existed shows what it measured when it opened instead.
 */
export function alertItem(alert: Alert, options: AlertItemOptions): HTMLLIElement {
  const acknowledgement =
    alert.acknowledgedAt !== null
      ? h(
          'span',
          { class: 'acknowledged' },
          `acknowledged by ${alert.acknowledgedBy ?? 'someone'}, ${formatTime(alert.acknowledgedAt)}`,
        )
      : alert.state === 'open' && options.source
        ? acknowledgeButton(alert, { ...options, source: options.source })
        : null;
  return h(
    'li',
    {
      class: `alert ${alert.severity} ${alert.state}${options.marked ? ' marked' : ''}`,
      'data-alert-id': alert.id,
      'data-state': alert.state,
      'data-severity': alert.severity,
      'aria-current': options.marked ? 'true' : undefined,
    },
    h('span', { class: `severity ${alert.severity}` }, alert.severity),
    h('span', { class: `state ${alert.state}` }, alert.state),
    h(
      'a',
      { href: alertHref(alert, options.now), class: 'alert-link' },
      seriesLabel(alert.name, alert.dimensions),
    ),
    options.origin ? h('span', { class: 'origin-badge' }, 'left its band first') : null,
    acknowledgement,
    alert.explanation ? h('div', { class: 'alert-explanation' }, alert.explanation) : null,
    h('div', { class: 'alert-detail muted small' }, `${alert.ruleName}: ${alert.reason}`),
    h('div', { class: 'alert-detail muted small' }, timing(alert, options.now)),
    alert.explanation ? null : h('div', { class: 'alert-detail muted small' }, measurement(alert)),
    feedbackLine(alert, options),
  );
}

/**
 * What was said of the alert: who said it was normal and when, with a button to withdraw it; or, while
 * nothing holds, a "This was normal" button (not on no-data alerts: they have no departure to learn).
 */
function feedbackLine(alert: Alert, options: AlertItemOptions): HTMLElement | null {
  const source = options.source;
  const mark = alert.feedback;
  if (mark) {
    return h(
      'div',
      { class: 'feedback-line small', 'data-feedback-id': mark.id },
      h('span', { class: 'said-normal' }, `said normal by ${mark.by}, ${formatTime(mark.at)}`),
      mark.note ? h('span', { class: 'muted' }, ` (${mark.note})`) : null,
      source
        ? actionButton(options, 'Withdraw', 'Withdrawing…', 'Not withdrawn', async () => {
            await source.withdrawFeedback(mark.id);
            return source.alert(alert.id);
          })
        : null,
    );
  }
  if (!source || alert.ruleKind === 'nodata') return null;
  return h(
    'div',
    { class: 'feedback-line small' },
    actionButton(options, 'This was normal', 'Saying so…', 'Not recorded', () => source.sayNormal(alert.id), {
      title: 'The band learns this departure as normal for this series at this time of week',
    }),
  );
}

/**
 * A button that acts on the alert, then redraws its item as the API returns it (or says what went wrong).
 */
function actionButton(
  options: AlertItemOptions,
  label: string,
  busy: string,
  failed: string,
  act: () => Promise<Alert>,
  attributes: Record<string, string> = {},
): HTMLElement {
  const button = h('button', { type: 'button', class: 'secondary small-action', ...attributes }, label);
  const problem = h('span', { class: 'error small', role: 'alert', hidden: true });
  button.addEventListener('click', () => {
    const item = button.closest<HTMLLIElement>('li.alert');
    button.disabled = true;
    button.textContent = busy;
    act()
      .then((alert) => {
        item?.replaceWith(alertItem(alert, options));
        // The series view's feedback list reads it again.
        document.dispatchEvent(new CustomEvent(feedbackChanged));
      })
      .catch((error: unknown) => {
        button.disabled = false;
        button.textContent = label;
        problem.hidden = false;
        problem.textContent = `${failed}: ${(error as Error).message}`;
      });
  });
  return h('span', { class: 'action-box' }, button, problem);
}

/** "Acknowledge": stops the alert's reminders; the item is redrawn with who acknowledged it. */
function acknowledgeButton(
  alert: Alert,
  options: AlertItemOptions & { source: AlertHistorySource },
): HTMLElement {
  const button = h('button', { type: 'button', class: 'secondary acknowledge' }, 'Acknowledge');
  const problem = h('span', { class: 'error small', role: 'alert', hidden: true });
  button.addEventListener('click', () => {
    button.disabled = true;
    button.textContent = 'Acknowledging…';
    options.source
      .acknowledge(alert.id)
      .then((acknowledged) => {
        button.closest('li')?.replaceWith(alertItem(acknowledged, options));
      })
      .catch((error: unknown) => {
        button.disabled = false;
        button.textContent = 'Acknowledge';
        problem.hidden = false;
        problem.textContent = `Not acknowledged: ${(error as Error).message}`;
      });
  });
  return h('span', { class: 'acknowledge-box' }, button, problem);
}
