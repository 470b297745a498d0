import type { Node } from 'constructs';

/** Every setting the stack reads from CDK context (`cdk.json` or `-c key=value`), with its default. */
export interface StackSettings {
  /** EventBridge schedule expression of the band job. */
  readonly bandSchedule: string;
  /** Hours a point stays in Timestream's memory store (fast writes and queries). */
  readonly memoryRetentionHours: number;
  /** Days a point stays in Timestream's magnetic store. */
  readonly magneticRetentionDays: number;
  /** An email address subscribed to the alert topic, if any. */
  readonly alertEmail: string | undefined;
  /** The dashboard's base URL alert links point to (default: the API's URL). */
  readonly dashboardUrl: string | undefined;
}

export function readSettings(node: Node): StackSettings {
  const context = (name: string) => node.tryGetContext(`normalcy:${name}`);
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const raw = context(name);
    const value = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new Error(`context normalcy:${name} must be a number from ${min} to ${max}, got ${String(raw)}`);
    }
    return value;
  };
  const email = String(context('alertEmail') ?? '').trim();
  const dashboardUrl = String(context('dashboardUrl') ?? '').trim();
  if (dashboardUrl !== '' && !/^https?:\/\/\S+$/.test(dashboardUrl)) {
    throw new Error(`context normalcy:dashboardUrl must be an http(s) URL, got ${dashboardUrl}`);
  }
  return {
    bandSchedule: String(context('bandSchedule') ?? 'rate(1 minute)'),
    memoryRetentionHours: number('memoryRetentionHours', 24, 1, 8766),
    magneticRetentionDays: number('magneticRetentionDays', 400, 1, 73_000),
    alertEmail: email === '' ? undefined : email,
    dashboardUrl: dashboardUrl === '' ? undefined : dashboardUrl,
  };
}
