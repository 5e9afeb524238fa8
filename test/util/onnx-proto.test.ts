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

test('a graph attribute (Scan\'s body) is a GraphProto of type GRAPH whose node names are prefixed by its owner', () => {
  const body = {
    nodes: [{ op: 'Add', inputs: ['s', 'x'], outputs: ['s_next'] }],
    inputs: [{ name: 's', type: OnnxType.float, shape: [2] }, { name: 'x', type: OnnxType.float, shape: [2] }],
    outputs: [{ name: 's_next', type: OnnxType.float, shape: [2] }],
  };
  const bytes = Buffer.from(
    encodeModel({
      nodes: [{ op: 'Scan', inputs: ['s0', 'xs'], outputs: ['s_final'], attrs: { body: { kind: 'graph', value: body }, num_scan_inputs: { kind: 'int', value: 1 } } }],
      inputs: [{ name: 's0', type: OnnxType.float, shape: [2] }, { name: 'xs', type: OnnxType.float, shape: [-1, 2] }],
      outputs: [{ name: 's_final', type: OnnxType.float, shape: [2] }],
    }),
  );
  const text = bytes.toString('latin1');
  // The outer node is n0; the body's only node is named after it, so no name repeats in the model.
  assert.ok(text.includes('n0_body_n0') && text.includes('n0_body_g'));
  // AttributeProto.type (field 20, varint: 0xa0 0x01) = GRAPH (5), after the body (field 6: 0x32).
  const body6 = bytes.indexOf(Buffer.from([0x0a, 0x04, ...Buffer.from('body'), 0x32]));
  assert.ok(body6 >= 0, 'the body attribute holds field 6');
  assert.ok(bytes.includes(Buffer.from([0xa0, 0x01, 5])));
});
