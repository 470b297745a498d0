import type uPlot from 'uplot';
import type { AlertHistorySource } from './alert-history.ts';
import type { ApiClient } from './api.ts';

/** What a view renders with; `isCurrent` turns false once the user navigated elsewhere. */
export interface ViewContext {
  readonly app: HTMLElement;
  readonly api: ApiClient;
  readonly alerts: AlertHistorySource;
  readonly now: number;
  isCurrent(): boolean;
  /** Keeps a chart so that it is destroyed (its listeners removed) when the view goes. */
  own(chart: uPlot): uPlot;
}
