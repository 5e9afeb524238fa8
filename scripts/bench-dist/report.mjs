// How `npm run bench:dist` reports: each figure the mean over its rounds with min and max, a Markdown
// table per section, and the machine's load beside them (other processes share its cores).
import { cpus, loadavg } from 'node:os';

/** Mean, min and max of `xs`. */
export function stats(xs) {
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** `mean (min–max)`, or the one value of a single round. */
export function show(s, digits = 2) {
  if (s === undefined) return '—';
  return s.n === 1 ? s.mean.toFixed(digits) : `${s.mean.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

/** A Markdown table. */
export function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The load averages over 1, 5 and 15 minutes, and the cores they share. */
export function load() {
  const [one, five, fifteen] = loadavg().map((l) => Number(l.toFixed(2)));
  return { one, five, fifteen, cores: cpus().length };
}

export const showLoad = (l) => `load average ${l.one} / ${l.five} / ${l.fifteen} (1 / 5 / 15 min) on ${l.cores} cores`;
