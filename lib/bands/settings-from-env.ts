import { niceStepsMs } from '../metrics/step.ts';
import type { BandSettings } from './engine.ts';

/**
 * The band engine's default sensitivity from the environment (`NORMALCY_SENSITIVITY`, 0 to 1), for the band
 * function (set by the stack's `normalcy:sensitivity` context) and for local mode. Throws on a value out of range
 * so that a typo fails at start, not silently.
 */
export function bandSettingsFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): Partial<BandSettings> {
  const raw = env.NORMALCY_SENSITIVITY;
  if (raw === undefined || raw.trim() === '') return {};
  const sensitivity = Number(raw);
  if (!Number.isFinite(sensitivity) || sensitivity < 0 || sensitivity > 1) {
    throw new Error(`NORMALCY_SENSITIVITY must be a number from 0 to 1, got ${raw}`);
  }
  return { sensitivity };
}

/** The smallest step from the environment (`NORMALCY_MIN_STEP_SECONDS`), checked against the steps Normalcy keeps. */
export function minStepFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): number | undefined {
  const raw = env.NORMALCY_MIN_STEP_SECONDS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const stepMs = Number(raw) * 1000;
  if (!(niceStepsMs as readonly number[]).includes(stepMs)) {
    throw new Error(
      `NORMALCY_MIN_STEP_SECONDS must be one of ${niceStepsMs.map((step) => step / 1000).join(', ')}, got ${raw}`,
    );
  }
  return stepMs;
}
