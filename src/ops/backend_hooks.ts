// What a backend tells the backend-neutral ops beyond the kernels it registers: whether a kernel it
// registered can run right now, and in-place updates that have no kernel form. The ops ask here, by
// the active backend's name, so src/ops/ imports no backend; each backend's register.ts fills its row.
import type * as tfType from '@tensorflow/tfjs';

type Tf = typeof tfType;

export interface OpHooks {
  /**
   * Whether kernel `name`, registered for this backend, can run now (default: yes). WebGPU's recorded
   * kernels need recording on and tfjs-backend-webgpu's internals; without them the ops compose tfjs's.
   */
  readonly canRun?: (tf: Tf, name: string) => boolean;
  /**
   * Batch norm's moving statistics written into their variables' own buffers; false, having done
   * nothing, where it cannot (the op then runs RethinkBatchNormMoving and assigns its outputs).
   */
  readonly movingStatsInPlace?: (tf: Tf, mean: tfType.TensorInfo, variance: tfType.TensorInfo, stats: tfType.TensorInfo, momentum: number) => boolean;
}

const byBackend = new Map<string, OpHooks>();

/** Sets `backendName`'s hooks (its register.ts does, once; a later call replaces them). */
export function setOpHooks(backendName: string, hooks: OpHooks): void {
  byBackend.set(backendName, hooks);
}

/** The active backend's hooks (none: every registered kernel runs, nothing updates in place). */
export function activeOpHooks(tf: Tf): OpHooks {
  return byBackend.get(tf.getBackend()) ?? {};
}

/** Whether the active backend has kernel `name` registered and can run it now. */
export function kernelAvailable(tf: Tf, name: string): boolean {
  if (tf.getKernel(name, tf.getBackend()) === undefined) return false;
  return activeOpHooks(tf).canRun?.(tf, name) ?? true;
}
