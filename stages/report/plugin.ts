// `report`: one page of results from the stages that make them: tables (`aggregate`'s table JSON)
// and figures (`figure`'s SVG). Writes a self-contained HTML page (figures inline, nothing fetched)
// and a Markdown version with the tables (figures by title, since Markdown cannot inline SVG).
import { readFile } from 'node:fs/promises';
import { definePlugin, type Artifact } from '../../src/plugin/types.js';
import { UserInputError } from '../../src/util/user-error.js';
import { displayTable, markdownTable, type Table } from '../aggregate/plugin.js';
import { notesOf } from '../figure/render.js';
import { escapeXml } from '../../src/util/xml.js';

export interface ReportParams {
  readonly title: string;
  /** Paragraphs under the title (plain text; blank lines separate paragraphs). */
  readonly intro: string;
  readonly digits: number;
}

export const reportPlugin = definePlugin<ReportParams>({
  name: 'report',
  version: '2',
  description: 'One results page (HTML with inline figures, and Markdown) from aggregate tables and figure SVGs',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['title'],
    properties: {
      title: { type: 'string', minLength: 1 },
      intro: { type: 'string', default: '' },
      digits: { type: 'integer', minimum: 0, maximum: 10, default: 3, description: 'digits after the point in tables' },
    },
  },
  inputs: {
    tables: { kind: 'json', many: true, optional: true, description: "aggregate stages' table output, e.g. [table1.table]" },
    figures: { kind: 'file', many: true, optional: true, description: "figure stages' svg output, e.g. [fig1a.svg, fig1b.svg]" },
  },
  outputs: {
    html: { kind: 'file', extension: '.html' },
    markdown: { kind: 'file', extension: '.md' },
  },
  seeded: false,
  async run(ctx) {
    const tables = await Promise.all(((ctx.inputs.tables ?? []) as readonly Artifact[]).map((a) => a.readJson<Table>()));
    const figures = await Promise.all(((ctx.inputs.figures ?? []) as readonly Artifact[]).map(async (a) => ({ from: a.from.id, svg: await readFile(a.path, 'utf8') })));
    if (tables.length + figures.length === 0) throw new UserInputError(`report ${ctx.stage.id}: no tables and no figures as inputs`);
    for (const f of figures) {
      if (!f.svg.trimStart().startsWith('<svg')) throw new UserInputError(`report ${ctx.stage.id}: figure input from ${f.from} is not an SVG (use its .svg output)`);
    }
    await ctx.writeFile('html', reportHtml(ctx.params, tables, figures));
    await ctx.writeFile('markdown', reportMarkdown(ctx.params, tables, figures));
  },
});

/** A figure's notes under it, as a list (none: nothing). */
const caption = (notes: readonly string[]) => (notes.length === 0 ? '' : `<figcaption><ul>${notes.map((n) => `<li>${escapeXml(n)}</li>`).join('')}</ul></figcaption>`);
const paragraphs = (text: string) => text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
/** The figure's title, as Vega writes it into the SVG: the text of its `role-title-text` group. */
const figureTitle = (svg: string, fallback: string) => /role-title-text"[^>]*><text[^>]*>([^<]*)</.exec(svg)?.[1] ?? fallback;

export function reportHtml(p: ReportParams, tables: readonly Table[], figures: readonly { from: string; svg: string }[]): string {
  const table = (t: Table) => {
    const { columns, rows } = displayTable(t, p.digits);
    return [
      `<section>${t.title ? `<h2>${escapeXml(t.title)}</h2>` : ''}<table>`,
      `<thead><tr>${columns.map((c) => `<th>${escapeXml(c)}</th>`).join('')}</tr></thead>`,
      `<tbody>${rows.map((r) => `<tr>${r.map((v) => `<td>${escapeXml(v)}</td>`).join('')}</tr>`).join('')}</tbody>`,
      '</table></section>',
    ].join('\n');
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(p.title)}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222 }
table { border-collapse: collapse; margin: .5rem 0 1.5rem } th, td { padding: .2rem .6rem; border-bottom: 1px solid #ddd; text-align: right }
th:first-child, td:first-child { text-align: left } figure { margin: 1rem 0 2rem } svg { max-width: 100%; height: auto }
</style></head><body>
<h1>${escapeXml(p.title)}</h1>
${paragraphs(p.intro).map((x) => `<p>${escapeXml(x)}</p>`).join('\n')}
${tables.map(table).join('\n')}
${figures.map((f) => `<figure>${f.svg}${caption(notesOf(f.svg))}</figure>`).join('\n')}
</body></html>
`;
}

export function reportMarkdown(p: ReportParams, tables: readonly Table[], figures: readonly { from: string; svg: string }[]): string {
  const out = [`# ${p.title}`, ...paragraphs(p.intro)];
  for (const t of tables) {
    if (t.title) out.push(`## ${t.title}`);
    out.push(markdownTable(t, p.digits));
  }
  if (figures.length > 0) out.push(`## Figures (inline in the HTML report)\n\n${figures.map((f) => [`- ${figureTitle(f.svg, f.from)} (from \`${f.from}\`)`, ...notesOf(f.svg).map((n) => `  - ${n}`)].join('\n')).join('\n')}`);
  return `${out.join('\n\n')}\n`;
}
