// The one line a run prints when auto would pass over a missing native backend, and doctor's fix for
// it: said only when it applies, with the command that repairs the install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeFallbackNote, NATIVE_FIX } from '../../src/cli/native-hint.js';
import { nativeFix } from '../../src/cli/doctor/backends.js';

const missing = (...absent: string[]) => (pkg: string): string => {
  if (absent.includes(pkg)) throw new Error(`Cannot find module '${pkg}'`);
  return `/node_modules/${pkg}/index.js`;
};
const noOrt = missing('onnxruntime-node', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu');

test('without onnxruntime-node, a run that leaves the backend to auto says which backend it takes, why and the fix, in one line', () => {
  const note = nativeFallbackNote({ request: undefined, stageBackends: [null, null] }, noOrt);
  assert.ok(note !== undefined);
  assert.equal(note.split('\n').length, 1);
  assert.match(note, /falls back from the native backend to wasm/);
  assert.match(note, /onnxruntime-node is not installed/);
  assert.ok(note.includes(`Fix: ${NATIVE_FIX}`), note);
  assert.equal(NATIVE_FIX, 'ONNXRUNTIME_NODE_INSTALL=skip npm install');
  // RETHINK_BACKEND=auto and a stage's explicit `backend: auto` are the same choice.
  assert.ok(nativeFallbackNote({ request: 'auto', stageBackends: ['auto'] }, noOrt) !== undefined);
});

test('no line when nothing falls back: native installed, a backend chosen, no training stage, or tfjs-node preferred', () => {
  assert.equal(nativeFallbackNote({ request: undefined, stageBackends: [null] }, missing()), undefined);
  assert.equal(nativeFallbackNote({ request: 'wasm', stageBackends: [null] }, noOrt), undefined);
  assert.equal(nativeFallbackNote({ request: undefined, stageBackends: ['wasm'] }, noOrt), undefined);
  assert.equal(nativeFallbackNote({ request: undefined, stageBackends: [] }, noOrt), undefined);
  assert.equal(nativeFallbackNote({ request: undefined, stageBackends: [null] }, missing('onnxruntime-node')), undefined);
});

test("doctor's fix for native: the reinstall when the package is missing, the load error when it is there", () => {
  assert.equal(
    nativeFix({ name: 'native', loads: false, reason: 'x' }, noOrt),
    `${NATIVE_FIX} (reinstalls onnxruntime-node, which npm dropped when its install script's CUDA download failed, without that download: the native backend uses its CPU library)`,
  );
  assert.match(nativeFix({ name: 'native', loads: false, reason: 'libonnxruntime.so.1: cannot open' }, missing()), /installed but does not load \(libonnxruntime\.so\.1: cannot open\); reinstall it: ONNXRUNTIME_NODE_INSTALL=skip npm install/);
});
