// The built-in plugins: name → lazy loader of a light descriptor module (heavy code loads in `run`).
import type { PluginLoader } from '../src/plan/registry.js';

export const builtinPlugins: Readonly<Record<string, PluginLoader>> = {};
