/** Lengths of time in milliseconds, for every layer (a leaf module: it imports nothing). */
export const minuteMs = 60_000;
export const hourMs = 60 * minuteMs;
export const dayMs = 24 * hourMs;
export const weekMs = 7 * dayMs;
