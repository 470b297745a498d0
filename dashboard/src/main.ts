import type uPlot from 'uplot';
import { alertsApi } from './alert-history.ts';
import { ApiClient, ApiError, forgetKey, savedKey, saveKey } from './api.ts';
import type { ViewContext } from './context.ts';
import { h, replace } from './dom.ts';
import { incidentDetailView } from './incident-view.ts';
import { keyProblemMessage, showKeyForm } from './key-form.ts';
import { parseRoute } from './route.ts';
import { seriesListView } from './series-list.ts';
import { seriesDetailView } from './series-view.ts';

const app = document.getElementById('app') as HTMLElement;
const forgetButton = document.getElementById('forget-key') as HTMLButtonElement;
let renders = 0;
let charts: uPlot[] = [];

/** A key handed over in the fragment (`#key=…`, as `npm run demo` prints) is kept, then removed from the URL. */
function takeKeyFromFragment(): void {
  const match = /^#key=([^&]+)/.exec(location.hash);
  if (!match?.[1]) return;
  saveKey(decodeURIComponent(match[1]));
  history.replaceState(null, '', `${location.pathname}${location.search}#/`);
}

async function render(): Promise<void> {
  const current = ++renders;
  for (const chart of charts) chart.destroy();
  charts = [];
  const key = savedKey();
  forgetButton.hidden = key === undefined;
  if (!key) {
    showKeyForm(app, () => void render());
    return;
  }
  const api = new ApiClient(key);
  const context: ViewContext = {
    app,
    api,
    alerts: alertsApi(api),
    now: Date.now(),
    isCurrent: () => current === renders,
    own(chart) {
      charts.push(chart);
      return chart;
    },
  };
  const route = parseRoute(location.hash);
  document.body.dataset.view = route.view;
  try {
    if (route.view === 'series') await seriesDetailView(context, route);
    else if (route.view === 'incident') await incidentDetailView(context, route);
    else await seriesListView(context, route.pattern);
    if (context.isCurrent()) document.body.dataset.ready = String(current);
  } catch (error) {
    if (!context.isCurrent()) return;
    if (error instanceof ApiError && error.isKeyProblem) {
      forgetKey();
      forgetButton.hidden = true;
      showKeyForm(app, () => void render(), keyProblemMessage(error));
      return;
    }
    replace(
      app,
      h(
        'section',
        { class: 'card narrow' },
        h('h1', {}, 'Something went wrong'),
        h('p', { class: 'error', role: 'alert' }, (error as Error).message),
        h('p', {}, h('a', { href: '#/' }, 'Back to all series')),
      ),
    );
  }
}

forgetButton.addEventListener('click', () => {
  forgetKey();
  void render();
});
window.addEventListener('hashchange', () => void render());
takeKeyFromFragment();
void render();
