// The one place models import tfjs, lazily, so that listing models or planning never loads it.
import type { Tf } from './types.js';

export async function loadTf(): Promise<Tf> {
  return import('@tensorflow/tfjs');
}
