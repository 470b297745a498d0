/**
 * The demo's data: four weeks of six 5-minute series of a web shop, the same on every run (seeded noise).
 * Weekdays are busier than weekends and afternoons than nights; every Thursday at 04:00 UTC a deploy makes
 * an hour of extra requests and database queries and resets memory; and two days before the end, at
 * 13:20 UTC, the identity provider has a 45-minute outage: its calls time out and are retried, logins crawl
 * and the shop loses most of its traffic. In the last 40 minutes memory share climbs past its band (a leak
 * happening now), so the demo also has a series that is anomalous now.
 */
import { dayMs, hourMs, minuteMs } from '../lib/time.ts';
import { gaussian, seededRandom } from './dev/random.ts';

export const demoStepMs = 5 * minuteMs;
export const demoDays = 28;

export interface DemoMetric {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'timer';
  readonly value: number;
  readonly timestamp: number;
  readonly dimensions: Record<string, string>;
}

export interface DemoStory {
  readonly start: number;
  readonly end: number;
  readonly outage: { readonly start: number; readonly end: number };
  /** When memory share starts leaking (40 minutes before the end). */
  readonly leakStart: number;
  readonly metrics: DemoMetric[];
}

/** The series of the demo, named as a shop's StatsD client would. */
export const demoSeries = {
  requests: { name: 'shop.requests', type: 'counter', dimensions: { service: 'web' } },
  loginTime: { name: 'shop.login.time', type: 'timer', dimensions: { service: 'web' } },
  queries: { name: 'shop.db.queries', type: 'counter', dimensions: { database: 'orders' } },
  memory: { name: 'shop.memory.share', type: 'gauge', dimensions: { host: 'web-1' } },
  identityCalls: { name: 'shop.idp.calls', type: 'counter', dimensions: { provider: 'identity' } },
  identityTime: { name: 'shop.idp.time', type: 'timer', dimensions: { provider: 'identity' } },
} as const;

/** Four weeks of every demo series ending at `end` (rounded down to the step), in time order. O(n). */
export function demoStory(end: number): DemoStory {
  const last = Math.floor(end / demoStepMs) * demoStepMs;
  const start = last - demoDays * dayMs;
  const outageStart = Math.floor(last / dayMs) * dayMs - 2 * dayMs + 13 * hourMs + 20 * minuteMs;
  const outage = { start: outageStart, end: outageStart + 45 * minuteMs };
  const leakStart = last - 40 * minuteMs;
  const noise = gaussian(seededRandom(20251125));
  const metrics: DemoMetric[] = [];
  let lastDeploy = start - 3 * dayMs;
  for (let t = start; t < last; t += demoStepMs) {
    const date = new Date(t);
    const hour = date.getUTCHours() + date.getUTCMinutes() / 60;
    const weekday = date.getUTCDay();
    const deploying = weekday === 4 && hour >= 4 && hour < 5;
    if (deploying && hour === 4) lastDeploy = t;
    const down = t >= outage.start && t < outage.end;
    const load = diurnal(hour) * (weekday === 0 || weekday === 6 ? 0.62 : 1);

    const requests = 1800 * load * (1 + 0.05 * noise()) * (deploying ? 2.6 : 1) * (down ? 0.22 : 1);
    const loginTime = down ? 2400 + 180 * noise() : 85 + 40 * load + 5 * noise() + (deploying ? 35 : 0);
    const queries = requests * 3.2 * (1 + 0.04 * noise()) * (deploying ? 1.8 : 1);
    const sinceDeploy = (t - lastDeploy) / dayMs;
    const leak = t >= leakStart ? 0.03 * ((t - leakStart) / demoStepMs + 1) : 0;
    const memory = Math.min(0.97, 0.38 + 0.035 * sinceDeploy + 0.05 * load + 0.008 * noise() + leak);
    const identityCalls = requests * 0.04 * (1 + 0.08 * noise()) * (down ? 20 : 1);
    const identityTime = down ? 4800 + 250 * noise() : 120 + 15 * load + 6 * noise();

    const add = (series: (typeof demoSeries)[keyof typeof demoSeries], value: number, digits: number) =>
      metrics.push({ ...series, value: Number(Math.max(0, value).toFixed(digits)), timestamp: t });
    add(demoSeries.requests, requests, 0);
    add(demoSeries.loginTime, loginTime, 1);
    add(demoSeries.queries, queries, 0);
    add(demoSeries.memory, memory, 3);
    add(demoSeries.identityCalls, identityCalls, 0);
    add(demoSeries.identityTime, identityTime, 1);
  }
  return { start, end: last, outage, leakStart, metrics };
}

/** Load over a day (UTC): quiet at night, rising from 06:00 to a peak around 14:00. */
function diurnal(hour: number): number {
  const daylight = hour >= 6 && hour <= 22 ? Math.sin((Math.PI * (hour - 6)) / 16) : 0;
  return 0.22 + 0.78 * daylight ** 1.3;
}
