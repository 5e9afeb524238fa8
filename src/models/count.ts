// Parameter arithmetic shared by the model definitions (weights + bias, by layer kind).
export const denseParams = (inputs: number, units: number): number => inputs * units + units;

/** A conv's kernel plus one per-channel offset: a bias, or batch norm's beta when the conv has no bias. */
export const convParams = (kernel: number, inChannels: number, outChannels: number): number =>
  kernel * kernel * inChannels * outChannels + outChannels;

/** Output size of a stride-s 'same' convolution or pooling. */
export const sameOut = (size: number, stride: number): number => Math.ceil(size / stride);
