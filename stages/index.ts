// The built-in plugins: name → lazy loader of a light descriptor module (heavy code loads in `run`).
import { lazy, type PluginLoader } from '../src/plan/registry.js';
import { dataPluginLoaders } from './datasets/index.js';

export const builtinPlugins: Readonly<Record<string, PluginLoader>> = {
  ...dataPluginLoaders,
  train: lazy(async () => (await import('./train/plugin.js')).trainPlugin),
  evaluate: lazy(async () => (await import('./evaluate/plugin.js')).evaluatePlugin),
  aggregate: lazy(async () => (await import('./aggregate/plugin.js')).aggregatePlugin),
  expressivity: lazy(async () => (await import('./expressivity/plugin.js')).expressivityPlugin),
  kernel: lazy(async () => (await import('./kernel/plugin.js')).kernelPlugin),
  linear: lazy(async () => (await import('./linear/plugin.js')).linearPlugin),
  figure: lazy(async () => (await import('./figure/plugin.js')).figurePlugin),
  chart: lazy(async () => (await import('./chart/plugin.js')).chartPlugin),
  report: lazy(async () => (await import('./report/plugin.js')).reportPlugin),
  command: lazy(async () => (await import('./command/plugin.js')).commandPlugin),
};
