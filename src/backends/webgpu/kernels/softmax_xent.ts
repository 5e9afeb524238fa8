// RethinkSoftmaxXent on WebGPU: a training batch's mean softmax cross-entropy, its gradient with respect
// to the logits and the number of correct predictions in ONE dispatch, where the composed form costs
// about twenty (max, sub, exp, sum, log, add, sub, mul, sum, neg, div for the loss; exp, sub, div, mul for
// its gradient; argMax, equal, cast, sum for the accuracy). One workgroup: a thread per row (strided
// when the batch is larger), then a tree sum in shared memory. Same formulas as softmax_xent.ts:
//   lse = max + log Σ exp(z − max);  loss = Σ_rows (lse − z[label]) / B;  dz = (exp(z − lse) − onehot) · (1/B)
// The predicted class is the first maximum (as tf.argMax).
import type * as tfType from '@tensorflow/tfjs';
import { f32Literal, workgroupArrays, workgroupTreeSum } from '../wgsl.js';
import { recordDispatch, RecordedKernel, recorderFor, submitBatchSize } from '../record.js';
import { Memo } from '../../../util/memo.js';
import { SOFTMAX_XENT } from '../../../ops/softmax_xent.js';

type Info = tfType.TensorInfo;


const THREADS = 256;


function wgsl(batch: number, classes: number): string {
  return `
${workgroupArrays(['sl', 'sc'], THREADS)}
fn main(index : i32) {
  let t = i32(localIndex);
  var lossSum = 0.0;
  var hits = 0.0;
  for (var r = t; r < ${batch}; r = r + ${THREADS}) {
    let o = r * ${classes};
    var mx = logits[o];
    var best = 0;
    for (var j = 1; j < ${classes}; j = j + 1) {
      let v = logits[o + j];
      if (v > mx) { mx = v; best = j; }
    }
    var s = 0.0;
    for (var j = 0; j < ${classes}; j = j + 1) { s = s + exp(logits[o + j] - mx); }
    let lse = mx + log(s);
    let label = labels[r];
    for (var j = 0; j < ${classes}; j = j + 1) {
      let p = exp(logits[o + j] - lse);
      let d = p - select(0.0, 1.0, j == label);
      dlogits[o + j] = d * ${f32Literal(1 / batch)};
    }
    lossSum = lossSum + (lse - logits[o + clamp(label, 0, ${classes - 1})]);
    hits = hits + select(0.0, 1.0, best == label);
  }
  ${workgroupTreeSum(['sl', 'sc'], ['lossSum', 'hits'], THREADS)}
  if (t == 0) {
    let mean = sl[0] / ${batch}.0;
    loss[0] = mean;
    correct[0] = sc[0];
    stats[0] = mean;
    stats[1] = sc[0];
  }
}
`;
}

const kernels = new Memo<string, RecordedKernel>();

function kernelFor(batch: number, classes: number): RecordedKernel {
  const key = `rethink_softmax_xent_${batch}_${classes}`;
  return kernels.get(key, () =>
    new RecordedKernel({
      key,
      outputs: [
        { name: 'loss', type: 'f32' },
        { name: 'correct', type: 'f32' },
        { name: 'dlogits', type: 'f32' },
        { name: 'stats', type: 'f32' },
      ],
      inputs: [
        { name: 'logits', type: 'f32' },
        { name: 'labels', type: 'i32' },
      ],
      workgroupSize: [THREADS, 1, 1],
      code: wgsl(batch, classes),
    }),
  );
}

/**
 * Kernel function: inputs logits [B, K] float32, labels [B] int32; outputs loss [], correct [],
 * dlogits [B, K] and stats [2] = [loss, correct] (what the training step returns, without a stack).
 */
export const softmaxXentKernel =
  (tf: typeof tfType): tfType.KernelFunc =>
  (args) => {
    const { logits, labels } = args.inputs as { logits: Info; labels: Info };
    const b = recorderFor(args.backend);
    if (b === null) throw new Error(`${SOFTMAX_XENT}: this tfjs-backend-webgpu lacks the internals it records with`);
    const [batch, classes] = logits.shape as [number, number];
    if (logits.shape.length !== 2 || labels.shape.length !== 1 || labels.shape[0] !== batch || labels.dtype !== 'int32' || logits.dtype !== 'float32') {
      throw new Error(`${SOFTMAX_XENT}: needs float32 logits [B, K] and int32 labels [B]; got ${logits.dtype} [${logits.shape}] and ${labels.dtype} [${labels.shape}]`);
    }
    return recordDispatch(
      b,
      kernelFor(batch, classes),
      {
        inputs: [logits, labels],
        outputs: [
          { shape: [], dtype: 'float32' },
          { shape: [], dtype: 'float32' },
          { shape: [batch, classes], dtype: 'float32' },
          { shape: [2], dtype: 'float32' },
        ],
        groups: [1, 1, 1],
      },
      submitBatchSize(tf),
    );
  };
