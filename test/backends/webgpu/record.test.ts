// Recorded kernels are compiled once per shaderKey with their sizes baked into the WGSL, so a key that
// left a size out would hand one size's kernel to another (a batch-norm program once did: its second
// layer of the same channel count computed only part of its output). programKernel refuses that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { programKernel, type RecordableProgram } from '../../../src/backends/webgpu/record.js';

function program(key: string, outputShape: number[]): RecordableProgram {
  return {
    shaderKey: key,
    variableNames: ['x'],
    outputShape,
    workgroupSize: [64, 1, 1],
    dispatch: [1, 1, 1],
    recordedCode: () => `fn main(index : i32) { if (index < ${outputShape.reduce((a, b) => a * b, 1)}) { result[index] = x[index]; } }`,
  };
}

test('one recorded kernel per key and size: the same key for another size throws', () => {
  const a = programKernel(program('record_test_a', [4, 6]));
  assert.equal(programKernel(program('record_test_a', [4, 6])), a, 'compiled once per key');
  assert.equal(programKernel(program('record_test_a', [1, 24])), a, 'a reshape of the same size shares it');
  assert.throws(() => programKernel(program('record_test_a', [4, 7])), /record_test_a: this key was compiled for 24 outputs, not 28; the key must name every size/);
  assert.notEqual(programKernel(program('record_test_b', [4, 7])), a);
});
