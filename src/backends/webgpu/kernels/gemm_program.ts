// tfjs WebGPU program objects for the gathered GEMM and for summing split-K partial products.
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { gemmDispatch, gemmShader, tileKey, workgroupSize, type GemmSpec, type GemmTile } from './gemm_shader.js';
import type { GemmSite } from './gemm_tuning.js';
import { OwnProgram, programKernel, RecordedKernel } from '../record.js';

/** What our kernels need from tfjs's WebGPUBackend (kept structural so tests can type-check without it). */
export interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGPUProgram, inputs: readonly TensorInfoLike[], dtype: 'float32'): TensorInfoLike;
  disposeData(dataId: object): boolean;
}
export interface TensorInfoLike {
  readonly dataId: object;
  readonly shape: number[];
  readonly dtype: string;
}

/**
 * A program whose shape constants are baked into the WGSL: tfjs caches pipelines by shaderKey only, so
 * the key must name every constant. Baking them lets the compiler turn index divisions into multiplies.
 */
export class GemmProgram extends OwnProgram implements WebGPUProgram {
  private readonly spec: GemmSpec;

  constructor(key: string, variableNames: readonly string[], outputShape: readonly number[], spec: GemmSpec) {
    super({
      shaderKey: `rethink_gemm_${key}_${spec.m}_${spec.n}_${spec.k}_${spec.kChunk}_${tileKey(spec.tile)}`,
      variableNames,
      outputShape,
      dispatch: gemmDispatch(spec),
      workgroupSize: workgroupSize(spec.tile),
    });
    this.spec = spec;
  }

  /** Called only when the pipeline is not cached yet, so the WGSL is generated once per shape. */
  protected code(recorded: boolean): string {
    return gemmShader({ ...this.spec, recorded });
  }
}

/** out[i] = Σ_s partial[s·size + i]: the second pass of a split-K product. */
export class SumSplitsProgram extends OwnProgram implements WebGPUProgram {
  private readonly splits: number;
  private readonly count: number;

  constructor(splits: number, outputShape: readonly number[]) {
    const count = outputShape.reduce((a, b) => a * b, 1);
    super({ shaderKey: `rethink_sumsplits_${splits}_${count}`, variableNames: ['partial'], outputShape, dispatch: [Math.ceil(count / 256), 1, 1], workgroupSize: [256, 1, 1] });
    this.splits = splits;
    this.count = count;
  }

  protected code(recorded: boolean): string {
    return `
  fn main(index : i32) {
    ${recorded ? '' : '_ = uniforms.NAN;'}
    let i = i32(globalId.x);
    if (i < ${this.count}) {
      var s = 0.0;
      for (var j = 0; j < ${this.splits}; j = j + 1) { s = s + partial[j * ${this.count} + i]; }
      result[i] = s;
    }
  }
`;
  }
}

/** A recorded GEMM (../record.ts) and the workgroup grid it is dispatched on. */
export interface RecordedGemm {
  readonly kernel: RecordedKernel;
  readonly groups: [number, number, number];
}

/** `spec` (with `recorded: true`) as a recorded kernel binding the named f32 outputs, then inputs. */
export function recordedGemm(key: string, spec: GemmSpec, outputs: readonly string[], inputs: readonly string[]): RecordedGemm {
  const f32 = (name: string) => ({ name, type: 'f32' as const });
  return {
    kernel: new RecordedKernel({ key, outputs: outputs.map(f32), inputs: inputs.map(f32), workgroupSize: workgroupSize(spec.tile), code: gemmShader(spec) }),
    groups: gemmDispatch(spec),
  };
}

const bytesOf = (shape: readonly number[]): number => 4 * shape.reduce((a, b) => a * b, 1);

/**
 * The tuner's view of an M×N product run as a GemmProgram: `program(tile)` builds it, and `shapes` are
 * its bindings' shapes (output, then inputs in variableNames order).
 */
export function programSite(key: string, m: number, n: number, program: (tile: GemmTile) => GemmProgram, shapes: readonly (readonly number[])[]): GemmSite {
  return recordedSite(
    key,
    m,
    n,
    (tile) => {
      const p = program(tile);
      return { kernel: programKernel(p), groups: p.dispatch };
    },
    shapes,
  );
}

/** The tuner's view of a product run as a recorded GEMM, with its bindings' shapes (outputs, then inputs). */
export function recordedSite(key: string, m: number, n: number, kernel: (tile: GemmTile) => RecordedGemm, shapes: readonly (readonly number[])[]): GemmSite {
  return { key, m, n, bindingBytes: shapes.map(bytesOf), kernel };
}
