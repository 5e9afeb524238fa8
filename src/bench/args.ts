// Command-line options of `npm run bench`.
import { acceptsInput, getModel, listModels, modelNames } from '../models/registry.js';

/** The bench's input: the paper's CIFAR-10 crop. Models that need a larger one (Inception V3) are not benched. */
export const BENCH_INPUT = [28, 28, 3] as const;
const benchable = (): string[] => listModels().filter((m) => acceptsInput(m, BENCH_INPUT)).map((m) => m.name);

export interface BenchArgs {
  readonly backend: string | undefined;
  readonly models: readonly string[];
  /** Batch sizes, each model measured at each (`--batch 32,128,512`). */
  readonly batches: readonly number[];
  readonly warmup: number;
  readonly steps: number;
  /** How many times each model and batch is measured; the round with the best mean is reported. */
  readonly rounds: number;
  readonly top: number;
  readonly profile: boolean;
  readonly json: boolean;
}

export const BENCH_USAGE = `usage: npm run bench -- [--backend NAME] [--models a,b] [--batch 32,128,512] [--steps N] [--warmup N] [--rounds N] [--top N] [--no-profile] [--json]
  Images/second of full training steps (forward, loss, backward, momentum-SGD update, the loss read
  back) on one fixed batch of 28x28x3 inputs, per model and batch size, on the active backend: total
  images ÷ total time of the timed steps (PyTorch's anchor's definition), the fastest step beside it,
  the step-time spread and what the slow steps had in common; plus the kernels that take the time.
  --backend  auto (default; env RETHINK_BACKEND), native, wasm, cpu, webgpu, tfjs-node, tfjs-node-gpu
  --models   comma-separated subset of: ${benchable().join(', ')}
  --batch    comma-separated batch sizes (default 128)
  --steps    timed steps per model (default 5); --warmup untimed steps first (default 2)
  --rounds   measurements of each model and batch; the best by mean is reported (default 1)
  --top      kernels listed per model (default 8); --no-profile skips the profiled step
  --json     one JSON document ("format": 1) on stdout`;

export type ParsedArgs = { readonly ok: true; readonly args: BenchArgs } | { readonly ok: false; readonly message: string };

export function parseBenchArgs(argv: readonly string[]): ParsedArgs {
  const out = { backend: undefined as string | undefined, models: benchable(), batches: [128] as readonly number[], warmup: 2, steps: 5, rounds: 1, top: 8, profile: true, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    const int = (min: number): number | undefined => {
      const n = Number(value());
      return Number.isInteger(n) && n >= min ? n : undefined;
    };
    switch (flag) {
      case '--json':
        out.json = true;
        break;
      case '--no-profile':
        out.profile = false;
        break;
      case '--backend': {
        const v = value();
        if (v === undefined) return { ok: false, message: '--backend needs a name' };
        out.backend = v;
        break;
      }
      case '--models': {
        const list = (value() ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
        const unknown = list.filter((m) => !modelNames().includes(m));
        if (list.length === 0 || unknown.length > 0) return { ok: false, message: `--models: unknown ${unknown.join(', ') || '(empty)'}; known: ${benchable().join(', ')}` };
        const tooLarge = list.filter((m) => !acceptsInput(getModel(m), BENCH_INPUT));
        if (tooLarge.length > 0) return { ok: false, message: `--models: ${tooLarge.join(', ')} needs a larger input than the bench's ${BENCH_INPUT.join('x')}; benchable: ${benchable().join(', ')}` };
        out.models = list;
        break;
      }
      case '--batch': {
        const text = value() ?? '';
        const list = text.split(',').map((b) => Number(b.trim()));
        if (text.trim() === '' || list.some((b) => !Number.isInteger(b) || b < 1)) return { ok: false, message: `--batch needs positive integers separated by commas (e.g. 32,128,512), got "${text}"` };
        out.batches = [...new Set(list)];
        break;
      }
      case '--steps':
      case '--warmup':
      case '--rounds':
      case '--top': {
        const key = flag.slice(2) as 'steps' | 'warmup' | 'rounds' | 'top';
        const n = int(key === 'warmup' || key === 'top' ? 0 : 1);
        if (n === undefined) return { ok: false, message: `${flag} needs a ${key === 'warmup' || key === 'top' ? 'non-negative' : 'positive'} integer` };
        out[key] = n;
        break;
      }
      case '--help':
      case '-h':
        return { ok: false, message: BENCH_USAGE };
      default:
        return { ok: false, message: `unknown option ${a}\n${BENCH_USAGE}` };
    }
  }
  return { ok: true, args: out };
}
