import { type ApiClient, ApiError, type ReplayedAlert, type ReplayResponse, type Rule } from './api.ts';
import { h, replace } from './dom.ts';
import { formatDuration, formatTime, formatValue } from './format.ts';

/** The select's value for "replay the JSON in the box" (never a rule id: those start with a letter or digit). */
const draftChoice = '(draft)';

/** Where a first draft starts when the rules cannot be read. */
const draftTemplate = { kind: 'threshold', direction: 'above', threshold: 100 };

export interface ReplayPanelOptions {
  readonly api: ApiClient;
  readonly seriesId: string;
  /** The range the view shows: the replay covers the same. */
  readonly range: { readonly from: number; readonly to: number };
  /** Hands the would-be alerts to the chart, which marks them. */
  readonly onReplay: (alerts: readonly ReplayedAlert[]) => void;
  isCurrent(): boolean;
}

/**
 * "What would a rule page?": pick a saved rule or edit a draft (JSON, in the shape `PUT /v1/rules/{id}`
 * takes), press Replay, and the alerts `POST /v1/series/{id}/replay` says it would have opened over the view's
 * range are listed (and marked on the chart by the view). Nothing is stored or sent, so a read key may ask.
 */
export function replayPanel(options: ReplayPanelOptions): HTMLElement {
  const select = h(
    'select',
    { 'aria-label': 'Rule to replay', 'data-testid': 'replay-rule' },
    h('option', { value: draftChoice }, 'Draft (JSON below)'),
  );
  const draft = h('textarea', {
    class: 'replay-draft',
    rows: '9',
    spellcheck: 'false',
    'aria-label': 'Draft rule (JSON)',
    'data-testid': 'replay-draft',
  });
  draft.value = JSON.stringify(draftTemplate, null, 2);
  const button = h('button', { type: 'button', 'data-testid': 'replay-button' }, 'Replay');
  const summary = h('div', {
    class: 'replay-summary small',
    'data-testid': 'replay-summary',
    role: 'status',
  });
  const list = h('ol', { class: 'alerts replay-alerts', 'data-testid': 'replay-alerts' });
  let rules: readonly Rule[] = [];

  const showDraft = () => {
    draft.hidden = select.value !== draftChoice;
  };
  select.addEventListener('change', () => {
    // A saved rule becomes the starting point of a draft: choosing "Draft" then edits it.
    const rule = rules.find((candidate) => candidate.id === select.value);
    if (rule) draft.value = JSON.stringify(rule, null, 2);
    showDraft();
  });
  options.api
    .get<{ rules: Rule[] }>('/v1/rules')
    .then((answer) => {
      rules = answer.rules;
      select.prepend(...rules.map((rule) => h('option', { value: rule.id }, `${rule.name} (${rule.kind})`)));
      const first = rules[0];
      if (first) {
        select.value = first.id;
        draft.value = JSON.stringify(first, null, 2);
      }
      showDraft();
    })
    .catch((error: unknown) => {
      replace(summary, h('span', { class: 'error', role: 'alert' }, `Rules: ${(error as Error).message}`));
    });

  button.addEventListener('click', () => {
    let rule: { ruleId: string } | { rule: unknown };
    if (select.value === draftChoice) {
      try {
        rule = { rule: JSON.parse(draft.value) };
      } catch (error) {
        showProblem(summary, `The draft is not JSON: ${(error as Error).message}`);
        return;
      }
    } else {
      rule = { ruleId: select.value };
    }
    button.disabled = true;
    button.textContent = 'Replaying…';
    options.api
      .post<ReplayResponse>(`/v1/series/${encodeURIComponent(options.seriesId)}/replay`, {
        ...rule,
        ...options.range,
      })
      .then((answer) => {
        if (!options.isCurrent()) return;
        showAnswer(summary, list, answer);
        options.onReplay(answer.alerts);
      })
      .catch((error: unknown) => {
        if (!options.isCurrent()) return;
        replace(list);
        options.onReplay([]);
        const problems = error instanceof ApiError ? error.problems : [];
        showProblem(
          summary,
          (error as Error).message,
          problems.map((problem) => `${problem.field}: ${problem.message}`),
        );
      })
      .finally(() => {
        button.disabled = false;
        button.textContent = 'Replay';
      });
  });
  showDraft();

  return h(
    'section',
    { class: 'card replay', 'data-testid': 'replay-panel' },
    h('h2', {}, 'What would a rule page? ', h('span', { class: 'muted' }, '(this range, nothing is sent)')),
    h('div', { class: 'toolbar' }, select, button),
    draft,
    summary,
    list,
  );
}

function showProblem(summary: HTMLElement, message: string, details: readonly string[] = []): void {
  replace(
    summary,
    h('p', { class: 'error', role: 'alert' }, message),
    details.length > 0
      ? h('ul', { class: 'error small' }, ...details.map((line) => h('li', {}, line)))
      : null,
  );
}

function showAnswer(summary: HTMLElement, list: HTMLElement, answer: ReplayResponse): void {
  const opened = answer.alertCount === 1 ? '1 alert' : `${answer.alertCount} alerts`;
  replace(
    summary,
    h(
      'p',
      {},
      h('span', { class: 'swatch replayed' }),
      ` ${answer.rule.name}: ${opened} would have opened, ${answer.pagedCount} paged, over ${answer.buckets} buckets`,
      answer.alerts.length < answer.alertCount ? ` (the newest ${answer.alerts.length} listed)` : '',
      '.',
    ),
    answer.note === null
      ? null
      : h('p', { class: 'muted', 'data-testid': 'replay-note' }, `Note: ${answer.note}.`),
  );
  replace(
    list,
    ...(answer.alerts.length === 0
      ? [h('li', { class: 'muted' }, 'No alert in this range.')]
      : answer.alerts.map(replayedItem)),
  );
}

/** A would-be alert: severity, whether it would have paged, the alert explained in one line, why and when. */
function replayedItem({ alert, transitions, transitionCount }: ReplayedAlert): HTMLLIElement {
  const open = transitions.find((transition) => transition.kind === 'OPEN');
  const paging =
    alert.paged === true
      ? `paged ${formatTime(open?.pagedAt ?? alert.openedAt)}`
      : `not paged (${open?.notPagedBecause ?? 'unknown'})`;
  const ended =
    alert.resolvedAt === null
      ? 'still open at the end of the range'
      : `resolved ${formatTime(alert.resolvedAt)} after ${formatDuration(alert.resolvedAt - alert.startedAt)}`;
  const peak =
    alert.peakDeviation === null ? '' : `; peak ${formatValue(alert.peakDeviation)}× the band's half-width`;
  return h(
    'li',
    {
      class: `alert replayed ${alert.severity}`,
      'data-alert-id': alert.id,
      'data-paged': String(alert.paged),
    },
    h('span', { class: `severity ${alert.severity}` }, alert.severity),
    h('span', { class: 'state would' }, 'would open'),
    h('span', { class: 'paging small' }, paging),
    alert.explanation ? h('div', { class: 'alert-explanation' }, alert.explanation) : null,
    h('div', { class: 'alert-detail muted small' }, alert.reason),
    h('div', { class: 'alert-detail muted small' }, `started ${formatTime(alert.startedAt)}, ${ended}`),
    h(
      'div',
      { class: 'alert-detail muted small' },
      `value ${formatValue(alert.value)}${peak}; ${transitionCount} notification${transitionCount === 1 ? '' : 's'}`,
    ),
  );
}
