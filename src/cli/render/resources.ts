// What a stage needs where it runs, in a few words for `dag`, `show` and `plugins`:
// "2 GPUs, 8 cores, 16G, 2h", "GPU preferred, all cores", "on the coordinator".
import type { GpuNeed, Resources, StagePlacement } from '../../plan/resources.js';
import { showDuration } from '../../util/duration.js';
import { showMemory } from '../../util/memory.js';
import { unreachable } from '../../util/brand.js';

/**
 * The needs of one instance. `brief` leaves out what every stage has by default (no GPU, one core,
 * runs anywhere), so that a plain stage's line stays as it was: '' when nothing is left.
 */
export function resourcesText(r: Resources, placement: StagePlacement = 'any', brief = false): string {
  const gpu = gpuText(r.gpu, r.gpus);
  const parts = [
    ...(gpu === undefined ? (brief ? [] : ['no GPU']) : [gpu]),
    ...(brief && r.cores === 1 ? [] : [coresText(r.cores)]),
    ...(r.memoryMb === undefined ? [] : [showMemory(r.memoryMb)]),
    ...(r.timeMs === undefined ? [] : [showDuration(r.timeMs)]),
    ...(placement === 'local' ? ['on the coordinator'] : []),
  ];
  return parts.join(', ');
}

export function gpuText(gpu: GpuNeed, gpus?: number): string | undefined {
  switch (gpu) {
    case 'none':
      return undefined;
    case 'preferred':
      return 'GPU preferred';
    case 'required':
      return (gpus ?? 1) === 1 ? '1 GPU' : `${gpus} GPUs`;
    default:
      return unreachable(gpu);
  }
}

export function coresText(cores: number | 'all'): string {
  return cores === 'all' ? 'all cores' : `${cores} core${cores === 1 ? '' : 's'}`;
}
