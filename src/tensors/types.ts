// Named tensors as they travel between stages: dtype + shape + a typed array of the raw data.

export type DType = 'bool' | 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

export type TypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

export interface TensorSpec {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export interface TensorData extends TensorSpec {
  readonly data: TypedArray;
}

/** A tensor artifact opened for reading; tensors are loaded on demand, whole or by rows. */
export interface TensorFile {
  /** The file's free-form string metadata (safetensors `__metadata__`). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Every tensor's dtype and shape, by name. */
  readonly tensors: Readonly<Record<string, TensorSpec>>;
  /** Loads one tensor whole. */
  read(name: string): Promise<TensorData>;
  /** Loads rows [start, end) along axis 0 of one tensor. */
  readRows(name: string, start: number, end: number): Promise<TensorData>;
  /**
   * Loads the rows at `rows` (any order, repeats allowed) along axis 0 of one tensor, in that order:
   * reads of adjacent rows are coalesced, so a sorted run costs one read.
   */
  gather(name: string, rows: ArrayLike<number>): Promise<TensorData>;
  close(): Promise<void>;
}

/**
 * Streams tensors into an artifact whose specs were declared up front: call `write(name, bytes)`
 * for each tensor in declaration order, chunk by chunk (little-endian raw bytes), then `close()`.
 */
export interface TensorStreamWriter {
  write(name: string, chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
