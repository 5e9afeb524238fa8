import * as tf from '@tensorflow/tfjs';
import { initWasm } from './dist/src/backends/wasm/init.js';
const threads = Number(process.argv[2] ?? 1);
console.log(await initWasm({threads}));
for (const [h,c,k,s,pad] of [[28,64,3,2,'same'],[14,64,3,2,'same'],[27,96,3,2,'valid'],[28,8,3,1,'same'],[9,4,2,2,'valid'],[7,12,3,2,'same'],[6,4,3,3,'same']]) {
  const x = tf.randomUniform([128,h,h,c], 0, 1, 'float32', 1);
  // ties: round some
  const xr = tf.tidy(()=> tf.round(x.mul(8)));
  for (const xx of [x, xr]) {
  const y = tf.maxPool(xx, k, s, pad);
  const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 2);
  const run = (withY) => tf.engine().runKernel('MaxPoolGrad', withY ? {dy, input: xx, output: y} : {dy, input: xx}, {filterSize:k, strides:s, pad});
  const time = (withY) => { let best=1e9; for (let i=0;i<5;i++){const t=performance.now(); const r=run(withY); r.dataSync(); best=Math.min(best, performance.now()-t); r.dispose();} return best; };
  const a = run(true).dataSync(), b = run(false).dataSync();
  let diff=0; for (let i=0;i<a.length;i++) if (!Object.is(a[i],b[i])) diff++;
  console.log(h,c,k,s,pad, xx===x?'rand':'ties', 'diff', diff, 'simd', time(true).toFixed(2), 'js', time(false).toFixed(2));
  }
}
