import { feedbackChanged } from './alert-item.ts';
import { type ApiClient, ApiError, type Feedback } from './api.ts';
import { h, replace } from './dom.ts';
import { formatTime, localInputValue, readLocalInput } from './format.ts';

export interface FeedbackPanelOptions {
  readonly api: ApiClient;
  readonly seriesId: string;
  /** The range the chart shows (epoch ms): the stretch the form starts with. */
  readonly range: { readonly from: number; readonly to: number };
  readonly now: number;
  isCurrent(): boolean;
}

const feedbackPath = (seriesId: string) => `/v1/series/${encodeURIComponent(seriesId)}/feedback`;

/**
 * What people said of a series, and a form to say more: "Mark as incident" on a stretch (its buckets are then
 * kept out of learning), prefilled with the range the chart shows (zoom to the stretch first: drag across the
 * chart), and the series' feedback, "this was normal" on its alerts and incidents on its stretches, each with
 * who said it and when, and a button to withdraw it while it holds.
 */
export function feedbackPanel(options: FeedbackPanelOptions): HTMLElement {
  const { api, seriesId } = options;
  const list = h(
    'ol',
    { class: 'feedback-list', 'data-testid': 'series-feedback' },
    h('li', { class: 'muted' }, 'Loading…'),
  );
  const end = Math.min(options.range.to, options.now);
  const fromInput = h('input', {
    type: 'datetime-local',
    name: 'from',
    value: localInputValue(options.range.from),
    'aria-label': 'Incident from',
  });
  const toInput = h('input', {
    type: 'datetime-local',
    name: 'to',
    value: localInputValue(end),
    'aria-label': 'Incident to',
  });
  const note = h('input', {
    type: 'text',
    name: 'note',
    maxlength: '500',
    placeholder: 'what happened (optional)',
    'aria-label': 'Note',
  });
  const submit = h('button', { type: 'submit' }, 'Mark as incident');
  const problem = h('p', { class: 'error small', role: 'alert', hidden: true });
  const form = h(
    'form',
    { class: 'feedback-form', 'data-testid': 'mark-incident' },
    h('label', {}, 'from ', fromInput),
    h('label', {}, 'to ', toInput),
    note,
    submit,
  );

  const load = async () => {
    try {
      const { feedback } = await api.get<{ feedback: Feedback[] }>(feedbackPath(seriesId));
      if (!options.isCurrent()) return;
      replace(
        list,
        ...(feedback.length === 0
          ? [h('li', { class: 'muted' }, 'Nothing said of this series yet.')]
          : [...feedback].reverse().map((record) => feedbackItem(record))),
      );
    } catch (error) {
      if (options.isCurrent())
        replace(list, h('li', { class: 'error', role: 'alert' }, `Feedback: ${(error as Error).message}`));
    }
  };

  const feedbackItem = (record: Feedback): HTMLLIElement => {
    const withdraw = h('button', { type: 'button', class: 'secondary small-action' }, 'Withdraw');
    const failed = h('span', { class: 'error small', role: 'alert', hidden: true });
    withdraw.addEventListener('click', () => {
      withdraw.disabled = true;
      api
        .delete<{ feedback: Feedback }>(`/v1/feedback/${encodeURIComponent(record.id)}`)
        .then(load)
        .catch((error: unknown) => {
          withdraw.disabled = false;
          failed.hidden = false;
          failed.textContent = `Not withdrawn: ${(error as Error).message}`;
        });
    });
    return h(
      'li',
      {
        class: `feedback ${record.verdict}${record.withdrawnAt === null ? '' : ' withdrawn'}`,
        'data-feedback-id': record.id,
        'data-verdict': record.verdict,
        'data-withdrawn': record.withdrawnAt === null ? 'false' : 'true',
      },
      h(
        'span',
        { class: `verdict ${record.verdict}` },
        record.verdict === 'normal' ? 'was normal' : 'was an incident',
      ),
      h('span', { class: 'stretch' }, `${formatTime(record.start)} – ${formatTime(record.end)}`),
      h('span', { class: 'muted small' }, `said by ${record.by}, ${formatTime(record.at)}`),
      record.note ? h('span', { class: 'muted small' }, `“${record.note}”`) : null,
      record.withdrawnAt === null
        ? withdraw
        : h('span', { class: 'muted small withdrawn-note' }, `withdrawn ${formatTime(record.withdrawnAt)}`),
      failed,
    );
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const start = readLocalInput(fromInput.value);
    const stop = readLocalInput(toInput.value);
    problem.hidden = true;
    if (start === undefined || stop === undefined || stop <= start) {
      problem.hidden = false;
      problem.textContent = 'Give a stretch: a "from" before its "to".';
      return;
    }
    submit.disabled = true;
    api
      .post<{ feedback: Feedback }>(feedbackPath(seriesId), {
        verdict: 'incident',
        start,
        end: stop,
        ...(note.value.trim() !== '' && { note: note.value.trim() }),
      })
      .then(() => {
        note.value = '';
        return load();
      })
      .catch((error: unknown) => {
        problem.hidden = false;
        const problems =
          error instanceof ApiError ? error.problems.map((p) => `${p.field}: ${p.message}`) : [];
        problem.textContent = `Not recorded: ${(error as Error).message}${problems.length > 0 ? ` (${problems.join('; ')})` : ''}`;
      })
      .finally(() => {
        submit.disabled = false;
      });
  });

  // "This was normal" said or withdrawn on one of the series' alerts: listed here too (until the view goes).
  const reload = () => {
    if (!options.isCurrent()) document.removeEventListener(feedbackChanged, reload);
    else void load();
  };
  document.addEventListener(feedbackChanged, reload);
  void load();
  return h(
    'section',
    { class: 'card feedback-panel' },
    h('h2', {}, 'Feedback ', h('span', { class: 'muted' }, '(what people said of this series)')),
    h(
      'p',
      { class: 'muted small' },
      'Was a stretch an incident no alert caught? Mark it: the band will not learn from it. ',
      'The form starts with the range the chart shows; drag across the chart to zoom to the stretch first.',
    ),
    form,
    problem,
    list,
  );
}
