// The API's routes (see ../api.ts): a pattern over the raw URL path, and what answers it. Path
// parameters are one segment each, percent-decoded after matching: an encoded slash stays inside its
// parameter, which then fails validation (keys are 64 hex; names must be declared outputs).
import { badRequest } from './http-error.js';
import { json, type Reply } from './reply.js';
import type { LiveView } from './instance-state.js';
import type { UiData } from './ui-data.js';
import { parseKey } from './security.js';
import { overview } from './overview.js';
import { pipelineDag } from './pipeline-dag.js';
import { sweep, sweepCsv } from './sweep.js';
import { runDetail } from './run-detail.js';
import { keysParam, runCurves } from './curves.js';
import { artifact } from './artifacts.js';
import { preview, previewImage } from './preview.js';
import { compare } from './compare.js';
import { report } from './report.js';

export interface RouteContext {
  readonly data: UiData;
  readonly live: LiveView | undefined;
  readonly query: URLSearchParams;
}

interface Route {
  readonly pattern: RegExp;
  readonly answer: (params: readonly string[], ctx: RouteContext) => Promise<Reply>;
}

const SEG = '([^/]+)';
const route = (path: string, answer: Route['answer']): Route => ({ pattern: new RegExp(`^${path.replaceAll(':', SEG)}$`), answer });

/** In order: the first match answers (`.csv` before the plain sweep). */
const ROUTES: readonly Route[] = [
  route('/api/overview', async (_, c) => json(await overview(c.data, c.live))),
  route('/api/pipelines/:', async ([p], c) => json(await pipelineDag(c.data, p!, c.live))),
  route('/api/pipelines/:/sweep/:\\.csv', async ([p, s], c) => ({
    kind: 'bytes',
    body: await sweepCsv(c.data, p!, s!, c.query),
    contentType: 'text/csv; charset=utf-8',
    filename: `${p}-${s}.csv`,
  })),
  route('/api/pipelines/:/sweep/:', async ([p, s], c) => json(await sweep(c.data, p!, s!, c.query))),
  route('/api/runs/:', async ([k], c) => json(await runDetail(c.data, parseKey(k!)))),
  route('/api/runs/:/curves', async ([k], c) => json(await runCurves(c.data, parseKey(k!)))),
  route('/api/runs/:/outputs/:', async ([k, n], c) => artifact(c.data, parseKey(k!), n!)),
  route('/api/runs/:/outputs/:/preview', async ([k, n], c) => json(await preview(c.data, parseKey(k!), n!))),
  route('/api/runs/:/outputs/:/images/([0-9]{1,6})\\.png', async ([k, n, i], c) => ({ kind: 'bytes', body: await previewImage(c.data, parseKey(k!), n!, Number(i)), contentType: 'image/png' })),
  route('/api/compare', async (_, c) => json(await compare(c.data, keysParam(c.query, 2)))),
  route('/api/curves', async (_, c) => json(await Promise.all(keysParam(c.query, 1).map((k) => runCurves(c.data, k))))),
  route('/api/report/:', async ([p], c) => json(await report(c.data, p!))),
];

/** The answer to an API path, or undefined when no route matches (a 404 for the caller). */
export async function answer(pathname: string, ctx: RouteContext): Promise<Reply | undefined> {
  for (const r of ROUTES) {
    const m = r.pattern.exec(pathname);
    if (m === null) continue;
    let params: string[];
    try {
      params = m.slice(1).map((p) => decodeURIComponent(p));
    } catch {
      throw badRequest(`${pathname}: a malformed percent-encoding`);
    }
    return r.answer(params, ctx);
  }
  return undefined;
}

