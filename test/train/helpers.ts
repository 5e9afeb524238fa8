// Shared test helpers: tfjs on the deterministic pure-JS cpu backend, and tiny synthetic image sets.
import { initBackend } from '../../src/backends/select.js';
import type { BackendSession } from '../../src/backends/session.js';
import type { Tf } from '../../src/models/types.js';
import type { TensorData } from '../../src/tensors/types.js';
import type { ImageSet } from '../../src/train/types.js';
import { Rng } from '../../src/util/random.js';

export async function loadCpu(): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs');
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
  await tf.ready();
  return tf;
}

/** The cpu backend's session (its fused momentum kernel registered), made the active backend. */
export function cpuSession(): Promise<BackendSession> {
  return initBackend('cpu');
}

/** Two classes separable by brightness of the left vs right half, `n` images of size h×w×c. */
export function toyImages(n: number, h: number, w: number, c: number, seed: number): ImageSet {
  const rng = Rng.derive(seed, 'toy');
  const images = new Uint8Array(n * h * w * c);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = rng.int(2);
    labels[i] = y;
    for (let r = 0; r < h; r++) {
      for (let col = 0; col < w; col++) {
        const bright = (col < w / 2) === (y === 0);
        for (let k = 0; k < c; k++) images[((i * h + r) * w + col) * c + k] = (bright ? 150 : 40) + rng.int(60);
      }
    }
  }
  return { images, shape: [n, h, w, c], labels };
}

/** A dataset artifact (as the train and evaluate stages read it) holding two toy image sets. */
export function toyDataset(train: ImageSet, test: ImageSet): { tensors: Record<string, TensorData>; metadata: Record<string, string> } {
  const tensor = (shape: readonly number[], data: TensorData['data'], dtype: TensorData['dtype']): TensorData => ({ dtype, shape, data });
  return {
    tensors: {
      x_train: tensor(train.shape, train.images, 'uint8'),
      y_train: tensor([train.labels.length], train.labels, 'int32'),
      x_test: tensor(test.shape, test.images, 'uint8'),
      y_test: tensor([test.labels.length], test.labels, 'int32'),
    },
    metadata: { classes: JSON.stringify(['left', 'right']) },
  };
}
