/**
 * Seeded randomness for the demo's data, the tests' synthetic series and the soak's choices: the same seed
 * gives the same numbers on every run and machine. Pure (no I/O, no package), so scripts/, bench/ and test/
 * all import it from here.
 */

/** A small seeded uniform generator in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Standard normal noise from a uniform generator (Box-Muller): two uniform draws per number. */
export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
