import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createHarness } from '../../../src/testing/harness.js';
import { reportPlugin } from '../../../stages/report/plugin.js';

const SVG = (title: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><g class="mark-text role-title-text" role="graphics-symbol"><text x="1">${title}</text></g><path d="M0,0L5,5"/></svg>`;

test('report: one HTML page with the tables and the figures inline, and a Markdown version', async () => {
  const h = await createHarness();
  try {
    const table = { title: 'Accuracy <by p>', columns: ['p', 'final.test.acc', 'stopped_by'], rows: [[0, 0.81234, 'target_train_acc'], [0.5, null, 'epochs']] };
    const r = await h.run(reportPlugin, {
      params: { title: 'Figure 1 & friends', intro: 'First paragraph\nstill first.\n\nSecond <para>.', digits: 2 },
      inputs: {
        tables: [{ json: table, origin: { stage: 'table' } }],
        figures: [{ file: SVG('Figure 1a: curves'), origin: { stage: 'fig1a' } }, { file: SVG('Figure 1c: error'), origin: { stage: 'fig1c' } }],
      },
    });
    const html = await readFile(r.outputs['html']!.path, 'utf8');
    assert.match(html, /<title>Figure 1 &amp; friends<\/title>/);
    assert.match(html, /<p>First paragraph\nstill first.<\/p>\n<p>Second &lt;para&gt;.<\/p>/);
    assert.match(html, /<h2>Accuracy &lt;by p&gt;<\/h2>/);
    assert.match(html, /<tr><td>0<\/td><td>0.81<\/td><td>target_train_acc<\/td><\/tr><tr><td>0.50<\/td><td>–<\/td><td>epochs<\/td><\/tr>/);
    assert.equal(html.split('<figure><svg').length - 1, 2);
    assert.ok(html.indexOf('Figure 1a: curves') < html.indexOf('Figure 1c: error'));
    const md = await readFile(r.outputs['markdown']!.path, 'utf8');
    assert.equal(
      md,
      [
        '# Figure 1 & friends',
        'First paragraph\nstill first.',
        'Second <para>.',
        '## Accuracy <by p>',
        '| p | final.test.acc | stopped_by |\n|---|---|---|\n| 0 | 0.81 | target_train_acc |\n| 0.50 | – | epochs |',
        '## Figures (inline in the HTML report)\n\n- Figure 1a: curves (from `fig1a`)\n- Figure 1c: error (from `fig1c`)',
      ].join('\n\n') + '\n',
    );
  } finally {
    await h.close();
  }
});

test('report: no inputs, or a figure that is not an SVG, is a user error naming the input', async () => {
  const h = await createHarness();
  try {
    const isUser = (re: RegExp) => (e: unknown) => (e as { userError?: boolean }).userError === true && re.test((e as Error).message);
    await assert.rejects(h.run(reportPlugin, { params: { title: 'T' } }), isUser(/no tables and no figures/));
    await assert.rejects(
      h.run(reportPlugin, { params: { title: 'T' }, inputs: { figures: [{ file: '{"not": "svg"}', origin: { stage: 'fig1a' } }] } }),
      isUser(/figure input from fig1a is not an SVG \(use its \.svg output\)/),
    );
  } finally {
    await h.close();
  }
});

test("report: a figure's notes, kept in its SVG, show under it", async () => {
  const { withNotes, notesOf } = await import('../../../stages/figure/render.js');
  const notes = ['fit[p=1] never reached training accuracy 1 in 10 epochs', 'a <b> & c'];
  const svg = withNotes(SVG('Figure 1b'), notes);
  assert.deepEqual(notesOf(svg), notes, 'they come back as written');
  assert.equal(withNotes(SVG('x'), []), SVG('x'));
  assert.match(svg, /^<svg [^>]*><desc class="rethink-notes">fit\[p=1\] never .*\na &lt;b&gt; &amp; c<\/desc><g /);
  const h = await createHarness();
  try {
    const r = await h.run(reportPlugin, { params: { title: 'T' }, inputs: { figures: [{ file: svg, origin: { stage: 'fig1b' } }] } });
    const html = await readFile(r.outputs['html']!.path, 'utf8');
    assert.match(html, /<\/svg><figcaption><ul><li>fit\[p=1\] never reached training accuracy 1 in 10 epochs<\/li><li>a &lt;b&gt; &amp; c<\/li><\/ul><\/figcaption><\/figure>/);
    const md = await readFile(r.outputs['markdown']!.path, 'utf8');
    assert.match(md, /- Figure 1b \(from `fig1b`\)\n {2}- fit\[p=1\] never reached training accuracy 1 in 10 epochs\n {2}- a <b> & c\n$/);
  } finally {
    await h.close();
  }
});
