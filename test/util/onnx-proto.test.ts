// The hand-written ONNX encoder against bytes worked out from the protobuf wire format.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeModel, OnnxType } from '../../src/util/onnx-proto.js';

test('encodes a one-node model with the expected field layout', () => {
  const bytes = encodeModel({
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    inputs: [{ name: 'x', type: OnnxType.float, shape: [300] }],
    outputs: [{ name: 'y', type: OnnxType.float, shape: [300] }],
  });
  // ir_version (field 1, varint) = 8, then producer_name (field 2, length-delimited).
  assert.deepEqual(Array.from(bytes.subarray(0, 4)), [0x08, 8, 0x12, 14]);
  const text = new TextDecoder('latin1').decode(bytes);
  assert.ok(text.includes('rethink-native'));
  assert.ok(text.includes('Relu'));
  // The dim 300 is the varint [0xac, 0x02] inside a Dimension (field 1 varint: 0x08).
  assert.ok(Buffer.from(bytes).includes(Buffer.from([0x08, 0xac, 0x02])));
  // Default-domain opset import: OperatorSetIdProto { domain: '', version: 17 } in field 8.
  assert.ok(Buffer.from(bytes).includes(Buffer.from([0x42, 0x04, 0x0a, 0x00, 0x10, 17])));
});

test('negative int64 attributes use ten-byte two\'s complement varints', () => {
  const bytes = encodeModel({
    nodes: [{ op: 'Flatten', inputs: ['x'], outputs: ['y'], attrs: { axis: { kind: 'int', value: -1 } } }],
    inputs: [{ name: 'x', type: OnnxType.float, shape: [2, 3] }],
    outputs: [{ name: 'y', type: OnnxType.float, shape: [2, 3] }],
  });
  const minusOne = [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
  assert.ok(Buffer.from(bytes).includes(Buffer.from(minusOne)));
});
