// Picks each GEMM's tile by timing the candidates on the device, as cuDNN's benchmark mode picks an
// algorithm. Which tile is fastest depends on the GPU and the shape (a 64-wide tile pads a 32-channel
// layer's output by half; a 128×128 tile leaves a small product with too few workgroups), and cannot be
// measured on the machines this project is built on, so the GPU it runs on decides.
//
// How it works:
// - Every GEMM call site asks `gemmTuner.tile(key, fallback, site)` for its tile, where `key` names the
//   product (its kind and shapes, never a tile). Until the key is tuned it gets the fallback (the
//   shape heuristic) and, once, registers a `GemmSite` that can build its kernel for any tile.
// - `tuneGemms(device)` times every registered site on its current tile; then, slowest first, for the
//   sites that make up 95% of that time and within a time budget, it compiles the candidate tiles in
//   parallel, times them in interleaved rounds of back-to-back dispatches on scratch buffers (the
//   queue's completion is the clock) and keeps the fastest. Candidates the device refuses are dropped.
//   The training loop calls it once, after its first step has registered the model's sites.
// - A tile never changes a result: K chunks, and so the order of every sum, depend on the shape alone
//   (conv_gemm_specs.ts splitChunk), so training is bitwise the same with and without tuning.
import { performance } from 'node:perf_hooks';
import { checkGemmTile, GEMM_TILES, tileKey, tileSharedBytes, workgroupSize, type GemmTile } from './gemm_shader.js';
import type { RecordedGemm } from './gemm_program.js';
import { Memo } from '../../../util/memo.js';
import { ENV } from '../../../util/env.js';

/** One GEMM as the tuner sees it. */
export interface GemmSite {
  /** The product's identity (kind and shapes), the same for every tile. */
  readonly key: string;
  readonly m: number;
  readonly n: number;
  /** The kernel and grid this product runs with `tile` (the very kernel the call site will use). */
  kernel(tile: GemmTile): RecordedGemm;
  /** Byte sizes of the kernel's bindings in order: outputs, then inputs. */
  readonly bindingBytes: readonly number[];
}

/** When to tune: `auto` on hardware adapters only (a software adapter is too slow to be worth it). */
export type TuneMode = 'auto' | 'on' | 'off';

export function tuneModeFromEnv(value?: string): TuneMode {
  return value === undefined ? ENV.webgpuTune.read() : ENV.webgpuTune.parse(value);
}

/** The candidate tiles (RETHINK_WEBGPU_TUNE_TILES: tile keys such as 64x64x16_4x4p, comma-separated;
 * default all of GEMM_TILES). A product's fallback tile is always a candidate too. */
export function tuneTilesFromEnv(value: string | undefined = ENV.webgpuTuneTiles.read()): readonly GemmTile[] {
  if (value === undefined || value.trim() === '') return GEMM_TILES;
  const byKey = new Map(GEMM_TILES.map((t) => [tileKey(t), t]));
  return value.split(',').map((k) => {
    const t = byKey.get(k.trim());
    if (t === undefined) throw new Error(`RETHINK_WEBGPU_TUNE_TILES: unknown tile '${k.trim()}'; known: ${[...byKey.keys()].join(', ')}`);
    return t;
  });
}

/** Seconds a tuning may take (RETHINK_WEBGPU_TUNE_BUDGET_S, default 20): the slowest products go first. */
export function tuneBudgetFromEnv(value?: string): number {
  return value === undefined ? ENV.webgpuTuneBudgetS.read() : ENV.webgpuTuneBudgetS.parse(value);
}

/** Milliseconds a timing round lasts at least (dispatches are repeated until it does, up to MAX_REPS). */
const ROUND_MS = 1;
const ROUNDS = 3;
/** The share of the fallbacks' total time whose products get tuned, slowest first. */
const SHARE = 0.95;
const MAX_REPS = 64;

/** Candidates for an M×N product: the fallback first, then every other tile the device can run whose
 * rows or columns are not mostly padding (a tile at least twice the product in a dimension loses to a
 * smaller one there). Tiles of other widths than 32, 64 and 128 are there for the channel counts those
 * pad, so they are tried only where they pad the columns less than a 64-wide tile does. */
export function candidateTiles(
  m: number,
  n: number,
  fallback: GemmTile,
  limits: Pick<GPUSupportedLimits, 'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupStorageSize' | 'maxComputeWorkgroupSizeX' | 'maxComputeWorkgroupSizeY'>,
  tiles: readonly GemmTile[] = GEMM_TILES,
): GemmTile[] {
  const fits = (t: GemmTile): boolean => {
    const [wx, wy] = workgroupSize(t);
    return wx * wy <= limits.maxComputeInvocationsPerWorkgroup && wx <= limits.maxComputeWorkgroupSizeX && wy <= limits.maxComputeWorkgroupSizeY && tileSharedBytes(t) <= limits.maxComputeWorkgroupStorageSize;
  };
  const padded = (width: number): number => Math.ceil(n / width) * width;
  const powerOfTwo = (x: number): boolean => (x & (x - 1)) === 0;
  const sensible = (t: GemmTile): boolean =>
    !(t.tm >= 2 * m && t.tm > 32) && !(t.tn >= 2 * n && t.tn > 32) && (powerOfTwo(t.tn) || padded(t.tn) < padded(64));
  const fk = tileKey(fallback);
  return [fallback, ...tiles.filter((t) => tileKey(t) !== fk && fits(t) && sensible(t))];
}

/** Measures one candidate: milliseconds per dispatch. Injected by tests; the default times the GPU. */
export type Measure = (site: GemmSite, tile: GemmTile) => Promise<number>;

export interface TuneReport {
  /** Products registered, and how many of them (the slowest) had their candidates timed. */
  readonly sites: number;
  readonly tuned: number;
  /** Sites whose fastest tile is not their fallback. */
  readonly changed: number;
  readonly seconds: number;
  /** Per site: the chosen tile, and each candidate's time per dispatch (ms). */
  readonly choices: readonly { readonly key: string; readonly tile: string; readonly ms: Readonly<Record<string, number>> }[];
}

export class GemmTuner {
  private readonly chosen = new Map<string, GemmTile>();
  private readonly pending = new Map<string, { site: GemmSite; fallback: GemmTile }>();
  /** Products whose candidates were timed (here or in a saved tuning): what is worth saving. */
  private readonly timed = new Set<string>();

  /** The tile for product `key`: the tuned one, else `fallback` (registering `site()` to be tuned). */
  tile(key: string, fallback: GemmTile, site: () => GemmSite): GemmTile {
    const t = this.chosen.get(key);
    if (t !== undefined) return t;
    if (!this.pending.has(key)) this.pending.set(key, { site: site(), fallback });
    return fallback;
  }

  /** Sites registered and not tuned yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The products registered and not tuned yet, with their sizes. */
  pendingSites(): { readonly key: string; readonly m: number; readonly n: number }[] {
    return [...this.pending.values()].map(({ site }) => ({ key: site.key, m: site.m, n: site.n }));
  }

  /** Fixes product `key`'s tile, as a tuning would (a saved tuning; the tests pin each candidate). */
  set(key: string, tile: GemmTile): void {
    checkGemmTile(tile);
    this.pending.delete(key);
    this.chosen.set(key, tile);
  }

  /**
   * Tunes the pending sites with `measure`. Each site's fallback is timed first; the sites that make up
   * SHARE of that time, slowest first, then have every candidate (from `tiles`) measured ROUNDS
   * times, interleaved, and keep the fastest. The rest keep their fallback: a product that takes a few
   * microseconds is not worth compiling a dozen shaders for. Past `budgetS` seconds the remaining
   * (faster) products keep their fallback too. `prepare` runs before a site's candidates are timed.
   */
  async tune(
    limits: Parameters<typeof candidateTiles>[3],
    measure: Measure,
    prepare?: (site: GemmSite, tiles: readonly GemmTile[]) => Promise<void>,
    tiles: readonly GemmTile[] = GEMM_TILES,
    budgetS = Infinity,
  ): Promise<TuneReport> {
    const started = performance.now();
    const all = [...this.pending.values()];
    this.pending.clear();
    const base = new Map<GemmSite, number>();
    for (const { site, fallback } of all) base.set(site, await measure(site, fallback));
    // A fallback that cannot be timed (it runs in training, so this should not happen) is left alone.
    const total = [...base.values()].filter(Number.isFinite).reduce((a, b) => a + b, 0);
    const bySlowest = [...all].sort((a, b) => base.get(b.site)! - base.get(a.site)!);
    const work: { site: GemmSite; fallback: GemmTile; tiles: GemmTile[] }[] = [];
    let covered = 0;
    for (const { site, fallback } of bySlowest) {
      if (covered >= SHARE * total || !Number.isFinite(base.get(site)!)) {
        this.chosen.set(site.key, fallback);
        continue;
      }
      covered += base.get(site)!;
      work.push({ site, fallback, tiles: candidateTiles(site.m, site.n, fallback, limits, tiles) });
    }
    const choices: { key: string; tile: string; ms: Record<string, number> }[] = [];
    let changed = 0;
    let tuned = 0;
    for (const { site, fallback, tiles } of work) {
      if ((performance.now() - started) / 1000 > budgetS) {
        this.chosen.set(site.key, fallback);
        continue;
      }
      tuned++;
      await prepare?.(site, tiles);
      const best = new Map<GemmTile, number>([[fallback, base.get(site)!]]);
      for (let round = 0; round < ROUNDS; round++) {
        for (const t of tiles) best.set(t, Math.min(best.get(t) ?? Infinity, await measure(site, t)));
      }
      let pick = fallback;
      for (const t of tiles) if (best.get(t)! < best.get(pick)!) pick = t;
      this.chosen.set(site.key, pick);
      this.timed.add(site.key);
      if (pick !== fallback) changed++;
      choices.push({ key: site.key, tile: tileKey(pick), ms: Object.fromEntries(tiles.map((t) => [tileKey(t), +best.get(t)!.toFixed(4)])) });
    }
    return { sites: all.length, tuned, changed, seconds: (performance.now() - started) / 1000, choices };
  }

  /** The tiles timed so far by product key (tile keys), to save for later runs on this GPU. */
  saved(): Record<string, string> {
    return Object.fromEntries([...this.timed].map((k) => [k, tileKey(this.chosen.get(k)!)]));
  }

  /** Takes a saved tuning (tile keys this version does not know are skipped); how many it took. */
  restore(saved: Readonly<Record<string, unknown>>): number {
    const byKey = new Map(GEMM_TILES.map((t) => [tileKey(t), t]));
    let n = 0;
    for (const [key, tk] of Object.entries(saved)) {
      const t = typeof tk === 'string' ? byKey.get(tk) : undefined;
      if (t === undefined) continue;
      this.pending.delete(key);
      this.chosen.set(key, t);
      this.timed.add(key);
      n++;
    }
    return n;
  }

  /** Forgets the sites registered and not tuned yet; they register again if they run again. */
  dropPending(): void {
    this.pending.clear();
  }

  /** Forgets every choice and pending site (tests). */
  reset(): void {
    this.chosen.clear();
    this.pending.clear();
    this.timed.clear();
  }
}

/**
 * What a call site makes once per product and tile (its spec, kernel or plan): keyed by the product's
 * key and the tile object (GEMM_TILES holds each tile once), so a call builds no key string for it.
 */
export class PerTile<T> {
  private readonly byKey = new Memo<string, Memo<GemmTile, T>>();

  get(key: string, tile: GemmTile, make: () => T): T {
    return this.byKey.get(key, () => new Memo()).get(tile, make);
  }
}

/** The process's tuner: every WebGPU GEMM call site asks it for its tile. */
export const gemmTuner = new GemmTuner();

/** Times dispatches of a site's kernels on `device`, on zero-filled scratch buffers of the right sizes. */
export class DeviceMeasure {
  private readonly buffers = new Map<string, { site: GemmSite; group: (layout: GPUBindGroupLayout) => GPUBindGroup; destroy(): void }>();

  private readonly reps = new Map<string, number>();

  constructor(private readonly device: GPUDevice) {}

  /** Compiles a site's candidate pipelines at once (the driver may compile them in parallel). A
   * candidate that fails to compile fails again when measured, and is dropped then. */
  async compile(site: GemmSite, tiles: readonly GemmTile[]): Promise<void> {
    await Promise.allSettled(tiles.map((t) => site.kernel(t).kernel.onAsync(this.device)));
  }

  /** Milliseconds per dispatch, or Infinity when the candidate does not compile or run on this device
   * (a driver may refuse what the limits allow): tuning drops it, the run goes on. */
  readonly measure: Measure = async (site, tile) => {
    // Scratch buffers as large as the real tensors may not fit beside them on a small GPU: that is an
    // out-of-memory error, not a validation one.
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let ms = Infinity;
    try {
      ms = await this.time(site, tile);
    } catch {
      ms = Infinity;
    }
    const invalid = await this.device.popErrorScope();
    const oom = await this.device.popErrorScope();
    return invalid === null && oom === null ? ms : Infinity;
  };

  private async time(site: GemmSite, tile: GemmTile): Promise<number> {
    const { kernel, groups } = site.kernel(tile);
    const compiled = await kernel.onAsync(this.device);
    const bind = this.scratch(site).group(compiled.layout);
    const run = async (reps: number): Promise<number> => {
      const encoder = this.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(compiled.pipeline);
      pass.setBindGroup(0, bind);
      for (let i = 0; i < reps; i++) pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
      pass.end();
      const t0 = performance.now();
      this.device.queue.submit([encoder.finish()]);
      await this.device.queue.onSubmittedWorkDone();
      return performance.now() - t0;
    };
    // The first measurement of a kernel warms it up and sets how many dispatches make a round.
    const id = `${site.key} ${tileKey(tile)}`;
    let reps = this.reps.get(id);
    if (reps === undefined) {
      reps = Math.max(1, Math.min(MAX_REPS, Math.ceil(ROUND_MS / Math.max(await run(1), 1e-3))));
      this.reps.set(id, reps);
    }
    return (await run(reps)) / reps;
  }

  private scratch(site: GemmSite) {
    let s = this.buffers.get(site.key);
    if (s === undefined) {
      // One site's buffers at a time: the previous site is done once a new one is measured.
      for (const other of this.buffers.values()) other.destroy();
      this.buffers.clear();
      const buffers = site.bindingBytes.map((bytes) => this.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: GPUBufferUsage.STORAGE }));
      const groups = new Map<GPUBindGroupLayout, GPUBindGroup>();
      s = {
        site,
        group: (layout) => {
          let g = groups.get(layout);
          if (g === undefined) {
            g = this.device.createBindGroup({ layout, entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
            groups.set(layout, g);
          }
          return g;
        },
        destroy: () => buffers.forEach((b) => b.destroy()),
      };
      this.buffers.set(site.key, s);
    }
    return s;
  }

  dispose(): void {
    for (const s of this.buffers.values()) s.destroy();
    this.buffers.clear();
  }
}

/** Tunes every GEMM registered so far on `device` (see the file comment), among `tiles`, for about
 * `budgetS` seconds at most. */
export async function tuneGemms(device: GPUDevice, tiles: readonly GemmTile[] = GEMM_TILES, budgetS = Infinity): Promise<TuneReport> {
  // Let the work already queued (the step that registered the sites) finish before timing anything.
  await device.queue.onSubmittedWorkDone();
  const m = new DeviceMeasure(device);
  try {
    return await gemmTuner.tune(device.limits, m.measure, (site, t) => m.compile(site, t), tiles, budgetS);
  } finally {
    m.dispose();
  }
}
