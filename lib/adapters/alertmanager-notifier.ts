/**
 * Alerts to Prometheus Alertmanager (API v2, `POST {url}/api/v2/alerts`). Alertmanager keeps state, not
 * transitions: an alert is identified by its labels, fires while its `endsAt` is ahead, and resolves when
 * `endsAt` passes or a post sets it in the past. So every post says the whole alert as it is now: an OPEN,
 * REMINDER or ESCALATED posts it firing until `now + firingWindowMs`, a RESOLVED posts it with `endsAt` the
 * time it resolved, and each band job run re-posts everything still open (`notifyStillOpen`), so an alert
 * stays firing exactly as long as Normalcy keeps it open (and resolves by itself if Normalcy stops).
 *
 * Incidents: each member alert is posted with a `normalcy_incident_id` label, so Alertmanager's own grouping
 * by that label (`group_by: [normalcy_incident_id]`) makes one notification per incident, with its members
 * listed and their own labels kept for routing, silences and inhibition (see docs/alerts.md).
 */
import { explanationHeadline } from '../alerts/explain.ts';
import type { IncidentNotificationMember } from '../alerts/incidents.ts';
import type { Severity } from '../alerts/model.ts';
import type { Dimensions } from '../metrics/point.ts';
import type { Clock } from '../ports/clock.ts';
import { systemClock } from '../ports/clock.ts';
import type {
  IncidentNotification,
  Notification,
  Notifier,
  StillOpen,
  StillOpenAlert,
} from '../ports/notifier.ts';
import { HttpDeliveryError, postWithRetries } from './http-post.ts';
import { seriesLabel } from './notification-text.ts';

/** The `alertname` of every alert Normalcy posts (constant, so an alert's labels are the same in every post). */
export const alertmanagerAlertName = 'NormalcyAlert';

/** The labels Normalcy sets itself; a dimension of the same name is renamed (see {@link dimensionLabels}). */
export const normalcyLabels = [
  'alertname',
  'severity',
  'metric',
  'normalcy_alert_id',
  'normalcy_series_id',
  'normalcy_incident_id',
] as const;

/** One alert as Alertmanager's API v2 takes it (`postableAlert`). */
export interface PostableAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** RFC 3339. */
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
}

/** What one Alertmanager alert is made of, whichever notification or still-open alert it comes from. */
export interface AlertmanagerAlertFacts {
  readonly alertId: string;
  readonly seriesId: string;
  readonly name: string;
  readonly dimensions: Dimensions;
  readonly severity: Severity;
  readonly startedAt: number;
  /** When it resolved; null while it is open. */
  readonly resolvedAt: number | null;
  readonly reason: string;
  readonly explanation?: string | undefined;
  readonly ruleName?: string | undefined;
  readonly link: string;
  readonly incidentId: string | null;
}

const validLabelName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Dimension keys as Prometheus label names (`[A-Za-z_][A-Za-z0-9_]*`, names starting `__` being reserved):
 * every other character becomes `_`; a name that then starts with a digit or `__`, is empty, or is one of
 * {@link normalcyLabels} gets the prefix `dimension_`; two keys that end up the same (`k8s.pod` and `k8s-pod`)
 * are told apart in sorted order of the original keys, the later one with `_2`, `_3`... Dimensions with an
 * empty value are left out (Alertmanager, as Prometheus, treats an empty label as no label).
 *
 * @example dimensionLabels({ 'k8s.pod': 'api-1', '2xx': 'yes', metric: 'x' })
 * // { dimension_2xx: 'yes', k8s_pod: 'api-1', dimension_metric: 'x' }
 */
export function dimensionLabels(dimensions: Dimensions): Record<string, string> {
  const labels: Record<string, string> = {};
  const reserved = new Set<string>(normalcyLabels);
  const taken = new Set<string>(normalcyLabels);
  for (const key of Object.keys(dimensions).sort()) {
    const value = dimensions[key];
    if (value === undefined || value === '') continue;
    let name = key.replace(/[^A-Za-z0-9_]/g, '_');
    if (!validLabelName.test(name) || name.startsWith('__') || reserved.has(name)) name = `dimension_${name}`;
    let unique = name;
    for (let n = 2; taken.has(unique); n++) unique = `${name}_${n}`;
    taken.add(unique);
    labels[unique] = value;
  }
  return labels;
}

/**
 * The Alertmanager alert of one Normalcy alert: labels (the series' dimensions, then `alertname`, `severity`,
 * `metric`, `normalcy_alert_id`, `normalcy_series_id` and, for an incident's member, `normalcy_incident_id`),
 * annotations (`summary`: the series and the reason; `description`: the one-line explanation when known;
 * `rule`, `dashboard`), `startsAt` the alert's start, `endsAt` its end or, while open, `firingUntil`.
 */
export function postableAlert(facts: AlertmanagerAlertFacts, firingUntil: number): PostableAlert {
  const labels: Record<string, string> = {
    ...dimensionLabels(facts.dimensions),
    alertname: alertmanagerAlertName,
    severity: facts.severity,
    metric: facts.name,
    normalcy_alert_id: facts.alertId,
    normalcy_series_id: facts.seriesId,
    ...(facts.incidentId !== null && { normalcy_incident_id: facts.incidentId }),
  };
  const annotations: Record<string, string> = {
    summary: `${seriesLabel(facts)} ${facts.explanation ? explanationHeadline(facts.explanation) : facts.reason}`,
    ...(facts.explanation && { description: facts.explanation }),
    ...(facts.ruleName && { rule: facts.ruleName }),
    dashboard: facts.link,
  };
  const endsAt = facts.resolvedAt ?? firingUntil;
  return {
    labels,
    annotations,
    startsAt: new Date(facts.startedAt).toISOString(),
    // Alertmanager refuses an end before the start: a resolution in the same instant ends a millisecond after.
    endsAt: new Date(Math.max(endsAt, facts.startedAt + 1)).toISOString(),
    generatorURL: facts.link,
  };
}

/** The same alert as it was before it escalated: posted resolved, since its labels (`severity`) changed. */
const warningBefore = (alert: PostableAlert, endedAt: number): PostableAlert => ({
  ...alert,
  labels: { ...alert.labels, severity: 'warning' },
  endsAt: new Date(Math.max(endedAt, Date.parse(alert.startsAt) + 1)).toISOString(),
});

/** The alerts one alert transition posts (an ESCALATED also ends the warning alert it replaces). */
export function notificationAlerts(notification: Notification, firingUntil: number): PostableAlert[] {
  const alert = postableAlert(
    {
      alertId: notification.alertId,
      seriesId: notification.seriesId,
      name: notification.name,
      dimensions: notification.dimensions,
      severity: notification.severity,
      startedAt: notification.startedAt,
      resolvedAt: notification.state === 'RESOLVED' ? notification.at : null,
      reason: notification.reason,
      explanation: notification.explanation,
      ruleName: notification.rule.name,
      link: notification.link,
      incidentId: null,
    },
    firingUntil,
  );
  return notification.state === 'ESCALATED' ? [warningBefore(alert, notification.at), alert] : [alert];
}

/**
 * The alerts one incident transition posts: every member, labelled with the incident (open members firing,
 * resolved ones with their end; all of them ended on RESOLVED). An UPDATE that says the incident escalated
 * also ends the warning alerts its critical members replace.
 */
export function incidentAlerts(notification: IncidentNotification, firingUntil: number): PostableAlert[] {
  const alerts: PostableAlert[] = [];
  for (const member of notification.members) {
    const resolvedAt = memberEnd(member, notification);
    const alert = postableAlert(
      {
        alertId: member.alertId,
        seriesId: member.seriesId,
        name: member.name,
        dimensions: member.dimensions,
        severity: member.severity,
        startedAt: member.startedAt,
        resolvedAt,
        reason: member.reason,
        link: member.link,
        incidentId: notification.incidentId,
      },
      firingUntil,
    );
    if (notification.escalated && member.severity === 'critical' && resolvedAt === null) {
      alerts.push(warningBefore(alert, notification.at));
    }
    alerts.push(alert);
  }
  return alerts;
}

function memberEnd(member: IncidentNotificationMember, notification: IncidentNotification): number | null {
  if (member.state === 'resolved') return member.resolvedAt ?? notification.at;
  return notification.state === 'RESOLVED' ? (notification.resolvedAt ?? notification.at) : null;
}

/** The alerts a band job run re-posts: each still-open alert as it is now. */
export function stillOpenAlerts(stillOpen: StillOpen, firingUntil: number): PostableAlert[] {
  return stillOpen.alerts.map(({ alert, link, incidentId }: StillOpenAlert) =>
    postableAlert(
      {
        alertId: alert.id,
        seriesId: alert.seriesId,
        name: alert.name,
        dimensions: alert.dimensions,
        severity: alert.severity,
        startedAt: alert.startedAt,
        resolvedAt: alert.state === 'resolved' ? (alert.resolvedAt ?? stillOpen.at) : null,
        reason: alert.reason,
        explanation: alert.explanation,
        ruleName: alert.ruleName,
        link,
        incidentId,
      },
      firingUntil,
    ),
  );
}

/**
 * How long a posted open alert fires without being posted again, for a band job that runs every
 * `bandIntervalMs`: four intervals, at least four minutes (Prometheus's own rule: four evaluation intervals,
 * at least a minute each), so one or two missed runs do not resolve an open alert.
 *
 * @example firingWindowFor(60_000) // 240_000
 */
export const firingWindowFor = (bandIntervalMs: number): number => 4 * Math.max(bandIntervalMs, 60_000);

export interface AlertmanagerNotifierOptions {
  /**
   * Alertmanager's base URL (`http://alertmanager:9093`, or with its `--web.route-prefix`). Credentials in it
   * (`https://user:password@host`) are sent as Basic auth and never appear in an error message. Or a function
   * that gives it (a secret read when the first alert is posted): a failure to give it fails that post, which
   * leaves the transition pending, as an unreachable Alertmanager does.
   */
  readonly url: string | (() => Promise<string>);
  /**
   * How long a posted open alert fires without being posted again (see {@link firingWindowFor}). Default
   * 4 minutes, for a band job every minute.
   */
  readonly firingWindowMs?: number;
  /** Tries per post (the first and the retries). Default 3. */
  readonly attempts?: number;
  /** The wait before the first retry, doubled before each next one. Default 500 ms. */
  readonly baseDelayMs?: number;
  /** Per-request timeout. Default 5 s. */
  readonly timeoutMs?: number;
  /** Alerts per request when re-posting everything open. Default 500. */
  readonly batchSize?: number;
  readonly clock?: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class AlertmanagerDeliveryError extends HttpDeliveryError {
  override readonly name = 'AlertmanagerDeliveryError';
}

/**
 * The endpoint without credentials, and the Basic auth header they make (fetch refuses a URL that carries
 * them). The endpoint is `<url>/api/v2/alerts`.
 */
export function alertmanagerEndpoint(url: string): {
  readonly endpoint: string;
  readonly authorization: string | undefined;
} {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error('the Alertmanager URL must be an http or https URL');
  }
  const authorization =
    parsed.username || parsed.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`
      : undefined;
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
  return { endpoint: parsed.toString(), authorization };
}

/**
 * Posts Normalcy's alerts to Alertmanager (see the module comment). Retries network errors, 408, 429 and 5xx
 * with exponential backoff; throws when every try failed or on another 4xx, which leaves the transition
 * pending for the next run (a repeated post is harmless: Alertmanager merges an alert posted again).
 */
export class AlertmanagerNotifier implements Notifier {
  private readonly target: () => Promise<ReturnType<typeof alertmanagerEndpoint>>;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly firingWindowMs: number;

  constructor(private readonly options: AlertmanagerNotifierOptions) {
    const { url } = options;
    if (typeof url === 'string') {
      // A URL given as it is: checked now, so that a bad one stops the process that starts with it.
      const endpoint = alertmanagerEndpoint(url);
      this.target = async () => endpoint;
    } else {
      this.target = async () => {
        try {
          return alertmanagerEndpoint(await url());
        } catch (error) {
          throw new AlertmanagerDeliveryError(
            `Alertmanager's URL is not available: ${(error as Error).message}`,
            undefined,
            { cause: error },
          );
        }
      };
    }
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.firingWindowMs = options.firingWindowMs ?? 4 * 60_000;
  }

  async notify(notification: Notification): Promise<void> {
    await this.post(notificationAlerts(notification, this.firingUntil()));
  }

  async notifyIncident(notification: IncidentNotification): Promise<void> {
    await this.post(incidentAlerts(notification, this.firingUntil()));
  }

  async notifyStillOpen(stillOpen: StillOpen): Promise<void> {
    const alerts = stillOpenAlerts(stillOpen, this.firingUntil());
    const batchSize = Math.max(1, this.options.batchSize ?? 500);
    for (let offset = 0; offset < alerts.length; offset += batchSize) {
      await this.post(alerts.slice(offset, offset + batchSize));
    }
  }

  private firingUntil(): number {
    return this.clock.now() + this.firingWindowMs;
  }

  private async post(alerts: readonly PostableAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    const { endpoint, authorization } = await this.target();
    await postWithRetries({
      url: endpoint,
      headers: () => ({
        'content-type': 'application/json',
        'user-agent': 'normalcy-alertmanager/1',
        ...(authorization && { authorization }),
      }),
      body: JSON.stringify(alerts),
      attempts: this.options.attempts ?? 3,
      baseDelayMs: this.options.baseDelayMs ?? 500,
      maxDelayMs: 10_000,
      timeoutMs: this.options.timeoutMs ?? 5_000,
      sleep: this.sleep,
      peer: 'Alertmanager',
      quoteAnswer: true,
      failure: (message, status, cause) => new AlertmanagerDeliveryError(message, status, { cause }),
    });
  }
}
