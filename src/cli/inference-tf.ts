// tfjs for commands that only run trained models forward (export --model, predict), started once per
// process: the pure-JS backend loads everywhere and gives the same weights, and production mode drops
// tfjs's "install tfjs-node" banner, as nothing here is a computation worth a faster backend.
import type { Tf } from '../models/types.js';

let tfReady: Promise<Tf> | undefined;

export function inferenceTf(): Promise<Tf> {
  tfReady ??= (async () => {
    const { initBackend } = await import('../backends/select.js');
    await initBackend('cpu');
    const tf = await import('@tensorflow/tfjs');
    tf.enableProdMode();
    return tf;
  })();
  return tfReady;
}
