// What the server reads, opened once: the named pipelines (reloaded when their file changes), the
// store (the local cache, with the remote behind it when asked), and the run records and JSON
// objects in it. Every route reads through here; nothing here writes to the cache or the remote.
import { statSync } from 'node:fs';
import type { CliIO } from '../io.js';
import { loadWorkspace, type Workspace } from '../workspace.js';
import { UserError } from '../../util/user-error.js';
import { explain, type StageState } from '../../exec/explain.js';
import type { JsonValue } from '../../plugin/types.js';
import type { OutputRef, RunRecord, Store } from '../../store/types.js';
import type { CacheKey } from '../../util/brand.js';
import type { CachedLocalStore } from './cached-store.js';
import { HttpError, notFound } from './http-error.js';

/** A pipeline file the server was asked to show; `id` names it in URLs. */
export interface PipelineSource {
  readonly id: string;
  /** Absolute path. */
  readonly file: string;
  /** As the user named it. */
  readonly display: string;
}

export interface UiPipeline extends PipelineSource {
  readonly ws: Workspace;
}

/** How long computed states are reused at most while the cache looks unchanged (a coarse clock could hide a change). */
const STATES_TTL_MS = 10_000;

export class UiData {
  private readonly loaded = new Map<string, { readonly mtimeMs: number; readonly ws: Workspace }>();
  private readonly computed = new Map<string, { readonly ws: Workspace; readonly stamp: string; readonly at: number; readonly states: Promise<StageState[]> }>();

  constructor(
    private readonly io: CliIO,
    readonly local: CachedLocalStore,
    /** The local cache, or the local cache with the remote behind it (read-only). */
    readonly store: Store,
    readonly remote: string | null,
    readonly sources: readonly PipelineSource[],
    private readonly sets: readonly string[] = [],
  ) {}

  /**
   * Loads every pipeline, at start, where a bad pipeline is the user's error (exit 2), and computes
   * their states, so that the first page is as fast as the next.
   */
  async loadAll(): Promise<void> {
    for (const s of this.sources) await this.workspace(s);
    for (const p of await this.pipelines()) await this.states(p);
  }

  async pipelines(): Promise<UiPipeline[]> {
    return Promise.all(this.sources.map(async (s) => ({ ...s, ws: await this.pipelineWorkspace(s) })));
  }

  async pipeline(id: string): Promise<UiPipeline> {
    const source = this.sources.find((s) => s.id === id);
    if (!source) throw notFound(`no pipeline "${id}": this server shows ${this.sources.map((s) => s.id).join(', ')}`);
    return { ...source, ws: await this.pipelineWorkspace(source) };
  }

  /** The pipeline a run record belongs to, among those shown. */
  pipelineOfRecord(record: RunRecord): PipelineSource | undefined {
    return this.sources.find((s) => s.file === record.stage.pipeline);
  }

  /**
   * What `rethink status` says of each instance. Computed again only when the pipeline or the cache
   * changed (see CachedLocalStore.stamp), so the pages of a 500-run sweep do not recompute 500 keys
   * per request. With a remote, every call asks it again: its changes leave no trace here.
   */
  states(p: UiPipeline): Promise<StageState[]> {
    if (this.remote !== null) return explain(p.ws.plan, this.store);
    const stamp = this.local.stamp();
    const known = this.computed.get(p.id);
    if (known !== undefined && known.ws === p.ws && known.stamp === stamp && Date.now() - known.at < STATES_TTL_MS) return known.states;
    const states = explain(p.ws.plan, this.store);
    this.computed.set(p.id, { ws: p.ws, stamp, at: Date.now(), states });
    states.catch(() => this.computed.delete(p.id));
    return states;
  }

  /** A run record by key (already validated), from the cache or the remote; a 404 when neither has it. */
  async record(key: string): Promise<RunRecord> {
    const record = await this.store.readRun(key as CacheKey);
    if (!record) throw notFound(`no run with key ${key} in ${this.local.location}${this.remote ? ` or on ${this.remote}` : ''}`);
    return record;
  }

  /** A JSON output's value; undefined when its object is not in the local cache (or is no JSON). */
  readJson(ref: OutputRef): JsonValue | undefined {
    return this.local.readJson(ref.hash);
  }

  private async pipelineWorkspace(source: PipelineSource): Promise<Workspace> {
    try {
      return await this.workspace(source);
    } catch (e) {
      // Edited into an invalid state while the server runs: say so on the page, keep serving the rest.
      if (e instanceof UserError) throw new HttpError(422, 'E_BAD_PIPELINE', `${source.display}: ${e.message}`);
      throw e;
    }
  }

  private async workspace(source: PipelineSource): Promise<Workspace> {
    const mtimeMs = statSync(source.file, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    const known = this.loaded.get(source.id);
    if (known?.mtimeMs === mtimeMs) return known.ws;
    const ws = await loadWorkspace(this.io, source.file, this.sets);
    this.loaded.set(source.id, { mtimeMs, ws });
    return ws;
  }
}
