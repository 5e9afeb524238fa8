// The built-in plugins: name → lazy loader of a light descriptor module (heavy code loads in `run`).
import type { Plugin } from '../src/plugin/types.js';
import type { PluginLoader } from '../src/plan/registry.js';
import { dataPluginLoaders } from './datasets/index.js';

const load =
  <T>(get: () => Promise<T>): PluginLoader =>
  async () =>
    (await get()) as unknown as Plugin<never>;

export const builtinPlugins: Readonly<Record<string, PluginLoader>> = {
  ...dataPluginLoaders,
  train: load(async () => (await import('./train/plugin.js')).trainPlugin),
  evaluate: load(async () => (await import('./evaluate/plugin.js')).evaluatePlugin),
  aggregate: load(async () => (await import('./aggregate/plugin.js')).aggregatePlugin),
};
