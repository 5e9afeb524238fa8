// The data stages as lazy loaders for the plugin registry (`createRegistry`): each descriptor
// module is imported only when a pipeline uses it.
import { lazy as load, type PluginLoader } from '../../src/plan/registry.js';

export const dataPluginLoaders: Readonly<Record<string, PluginLoader>> = {
  cifar10: load(async () => (await import('./cifar10.js')).cifar10),
  idx: load(async () => (await import('./idx.js')).idx),
  'fashion-mnist': load(async () => (await import('./fashion-mnist.js')).fashionMnist),
  mnist: load(async () => (await import('./mnist.js')).mnist),
  'image-folder': load(async () => (await import('./image-folder.js')).imageFolder),
  subset: load(async () => (await import('./subset.js')).subset),
  pad: load(async () => (await import('./pad.js')).pad),
  corrupt: load(async () => (await import('../corrupt/corrupt.js')).corrupt),
};
