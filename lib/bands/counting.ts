/**
 * Counts judged as counts. A band on `ln(count + 1)` says what a count usually is on that scale; where counts
 * are few (a sparse error counter: a tenth of a count a bucket), a raise to five or ten times the rate leaves
 * every bucket inside the band (a 1 where 0.04 was expected is not far on that scale), while the half hour's
 * total is plain: 17 counts where 2.4 are expected. These functions turn the band's expected value back into a
 * Poisson rate and test a running count against it. Pure, O(1) per call after a table built once.
 */

/** Rates on the table: log-spaced from 1e-4 to 1e4 counts a bucket. */
const tableRates = 400;
const lowRate = Math.log(1e-4);
const highRate = Math.log(1e4);

/** E[ln(X + 1)] for X Poisson with `rate`, by summing the probabilities where they are not negligible. */
function meanLogOfPoisson(rate: number): number {
  const spread = 12 * Math.sqrt(rate) + 12;
  const from = Math.max(0, Math.floor(rate - spread));
  const to = Math.ceil(rate + spread);
  // log P(k) = k ln λ − λ − ln k!, summed from `from` upwards (ln k! by adding ln k).
  let logFactorial = 0;
  for (let k = 2; k <= from; k++) logFactorial += Math.log(k);
  let sum = 0;
  let total = 0;
  for (let k = from; k <= to; k++) {
    if (k > 1 && k > from) logFactorial += Math.log(k);
    const p = Math.exp(k * Math.log(rate) - rate - logFactorial);
    sum += p * Math.log(k + 1);
    total += p;
  }
  return sum / total;
}

/** ln(rate) and E[ln(X + 1)] at each rate of the table (increasing in both). */
const logRates = new Float64Array(tableRates);
const meanLogs = new Float64Array(tableRates);
for (let index = 0; index < tableRates; index++) {
  logRates[index] = lowRate + ((highRate - lowRate) * index) / (tableRates - 1);
  meanLogs[index] = meanLogOfPoisson(Math.exp(logRates[index] ?? 0));
}

/**
 * The Poisson rate whose counts have `meanLog` as their mean of ln(count + 1): what a band on that scale
 * expects, as a rate (larger than e^y − 1, which is what the log scale's mean turns back into). O(log table).
 *
 * @example rateOfMeanLog(Math.log(2)) // ≈ 1.26: Poisson counts of mean 1.26 average ln 2 on that scale, not 1
 */
export function rateOfMeanLog(meanLog: number): number {
  if (!(meanLog > 0)) return 0;
  const first = meanLogs[0] ?? 0;
  if (meanLog <= first) return (Math.exp(lowRate) * meanLog) / first;
  const last = meanLogs[tableRates - 1] ?? 0;
  // Far up, E[ln(X + 1)] ≈ ln(λ + 1) − λ / (2 (λ + 1)²).
  if (meanLog >= last) return Math.exp(meanLog + 0.5 / Math.exp(meanLog)) - 1;
  let low = 0;
  let high = tableRates - 1;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if ((meanLogs[middle] ?? 0) <= meanLog) low = middle;
    else high = middle;
  }
  const y0 = meanLogs[low] ?? 0;
  const y1 = meanLogs[high] ?? 0;
  const fraction = (meanLog - y0) / (y1 - y0);
  return Math.exp((logRates[low] ?? 0) + fraction * ((logRates[high] ?? 0) - (logRates[low] ?? 0)));
}

/**
 * How far `seen` counts are from `expected` ones, as a standard normal deviate: the signed square root of the
 * Poisson deviance (close to normal even for a few counts). O(1).
 *
 * @example countDeviate(17, 2.4) // ≈ 6.1
 */
export function countDeviate(seen: number, expected: number): number {
  if (!(expected > 0)) return 0;
  const deviance = seen > 0 ? 2 * (seen * Math.log(seen / expected) - (seen - expected)) : 2 * expected;
  return Math.sign(seen - expected) * Math.sqrt(Math.max(0, deviance));
}
