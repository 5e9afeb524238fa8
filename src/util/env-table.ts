// The declared environment variables as a table: Markdown for the README (a test keeps the README's
// copy equal to this), plain text for `rethink help env`.
import { ENVIRONMENT, type EnvVariable } from './env.js';

function describe(v: EnvVariable<unknown>): string {
  return v.origin === 'set-for-stage' ? `set by rethink for a command stage's program: ${v.description}` : v.description;
}

const cell = (s: string) => s.replaceAll('|', '\\|');

/** One row per variable: name, valid values, default, what it does. */
export function envMarkdownTable(): string {
  const rows = ENVIRONMENT.map((v) => `| \`${v.name}\` | ${cell(v.values)} | ${v.default === '' ? '' : cell(v.default)} | ${cell(describe(v))} |`);
  return ['| Variable | Values | Default | What it does |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The same, for a terminal: the name, then what it does, its values and default, indented. */
export function envText(): string {
  return ENVIRONMENT.map((v) => `${v.name}\n    ${describe(v)}\n    ${v.values}${v.default === '' ? '' : `; default ${v.default}`}`).join('\n');
}
