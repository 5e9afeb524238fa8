import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataPluginLoaders } from '../../../stages/datasets/index.js';

test('every data loader yields a plugin named as registered, with tensors + metrics outputs', async () => {
  for (const [name, load] of Object.entries(dataPluginLoaders)) {
    const plugin = await load();
    assert.equal(plugin.name, name);
    assert.equal(plugin.outputs['dataset']?.kind, 'tensors');
    assert.equal(plugin.outputs['metrics']?.kind, 'json');
    assert.equal((plugin.params as { type?: string }).type, 'object');
  }
});
