// Durations as users write and read them: seconds, or "500ms", "30s", "2m", "1h" (stage timeouts,
// remote deadlines), and back into the shortest of those units that reads well in a message.

const FORM = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds from seconds (a number) or a text like "90s", "30m", "2h", "500ms"; undefined if malformed. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  const m = FORM.exec(value.trim());
  return m ? Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS] : undefined;
}

/** 250ms, 1.5s, 90s, 30m, 2h: as a timeout or a delay reads best. */
export function showDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 120_000) return `${Number((ms / 1000).toFixed(1))}s`;
  if (ms < 7_200_000) return `${Number((ms / 60_000).toFixed(1))}m`;
  return `${Number((ms / 3_600_000).toFixed(1))}h`;
}
