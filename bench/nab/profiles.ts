/**
 * The three application profiles of the Numenta Anomaly Benchmark: how much a true positive earns and how much
 * a false positive or a missed window costs.
 */
export interface NabProfile {
  readonly truePositiveWeight: number;
  readonly falsePositiveWeight: number;
  readonly falseNegativeWeight: number;
}

export const nabProfiles = {
  standard: { truePositiveWeight: 1, falsePositiveWeight: 0.11, falseNegativeWeight: 1 },
  reward_low_FP_rate: { truePositiveWeight: 1, falsePositiveWeight: 0.22, falseNegativeWeight: 1 },
  reward_low_FN_rate: { truePositiveWeight: 1, falsePositiveWeight: 0.11, falseNegativeWeight: 2 },
} as const satisfies Record<string, NabProfile>;

export type NabProfileName = keyof typeof nabProfiles;

export const nabProfileNames = Object.keys(nabProfiles) as NabProfileName[];
