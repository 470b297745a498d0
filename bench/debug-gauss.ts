import { normalcy6Engine } from '../lib/bands/normalcy6.ts';
let seed = 7; const rand = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const e = normalcy6Engine.create();
let out = 0, n = 0; let sumW = 0;
const step = 300000;
for (let i = 0; i < 12000; i++) {
  const v = 125 * (1 + 0.05 * normal());
  const r = e.update(i * step, v);
  if (i > 2000) { n++; if (r.anomaly) out++; sumW += Math.log(r.upper / r.expected); }
}
const s = e.toState() as any;
console.log('outside rate', out / n, 'mean log half-width', sumW / n, 'scale', s.scale, 'season', s.season);
console.log('up', s.up.map((c: number) => (c / s.counted).toExponential(1)).join(' '));
