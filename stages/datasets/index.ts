// The data stages, for the plugin registry (the composition root registers them with the rest).
import type { Plugin } from '../../src/plugin/types.js';
import { cifar10 } from './cifar10.js';
import { idx } from './idx.js';
import { fashionMnist } from './fashion-mnist.js';
import { mnist } from './mnist.js';
import { imageFolder } from './image-folder.js';
import { subset } from './subset.js';
import { corrupt } from '../corrupt/corrupt.js';

export { cifar10, idx, fashionMnist, mnist, imageFolder, subset, corrupt };

export const dataPlugins: readonly Plugin<never>[] = [cifar10, idx, fashionMnist, mnist, imageFolder, subset, corrupt] as unknown as readonly Plugin<never>[];
