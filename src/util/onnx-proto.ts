// A minimal ONNX protobuf encoder: the native backend's kernel graphs and `rethink export --model`'s model.onnx.
// No protobuf package is installed, and the ONNX messages we need (Model, Graph, Node, Attribute,
// ValueInfo, Tensor) are a handful of fields, so encoding them by hand is ~150 lines and has no
// dependency; decoding is never needed because ONNX Runtime only reads them.

/** ONNX TensorProto.DataType values we use. */
export const OnnxType = { float: 1, int64: 7, bfloat16: 16 } as const;
export type OnnxElemType = (typeof OnnxType)[keyof typeof OnnxType];

export type OnnxAttr =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string }
  /** A subgraph (Loop's and Scan's `body`); its names must not repeat the enclosing graph's. */
  | { readonly kind: 'graph'; readonly value: OnnxGraph };

export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: Readonly<Record<string, OnnxAttr>>;
  /** Operator domain; '' (the default ONNX domain) when absent. */
  readonly domain?: string;
}

export interface OnnxValueInfo {
  readonly name: string;
  readonly type: OnnxElemType;
  /** Sizes; a negative one is symbolic (any size at run time). */
  readonly shape: readonly number[];
}

/** A constant tensor: int64 (Reshape shapes and the like) unless `type` says float. */
export interface OnnxInt64Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly values: readonly number[];
  readonly type?: OnnxElemType;
}

export interface OnnxGraph {
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly initializers?: readonly OnnxInt64Initializer[];
}

const OPSET = 17;
const IR_VERSION = 8;

/** Growable byte sink with the three protobuf wire types we need. */
class Writer {
  private buf = new Uint8Array(256);
  private len = 0;

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** Varint of a non-negative safe integer, or a negative one as 64-bit two's complement. */
  varint(v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`not a safe integer: ${v}`);
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  tag(field: number, wire: 0 | 2 | 5): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, v, true);
    this.len += 4;
  }

  raw(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.reserve(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  string(field: number, s: string): void {
    this.raw(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: Writer) => void): void {
    const inner = new Writer();
    build(inner);
    this.raw(field, inner.bytes());
  }
}

// Field numbers from onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, ...).
const ATTR_TYPE = { float: 1, int: 2, string: 3, graph: 5, ints: 7 } as const;

/** `owner` (the node's name) prefixes a subgraph's node names, keeping them unique in the model. */
function writeAttr(w: Writer, name: string, attr: OnnxAttr, owner: string): void {
  w.string(1, name);
  switch (attr.kind) {
    case 'float':
      w.float(2, attr.value);
      break;
    case 'int':
      w.int(3, attr.value);
      break;
    case 'string':
      w.string(4, attr.value);
      break;
    case 'ints':
      for (const v of attr.value) w.int(8, v);
      break;
    case 'graph':
      w.message(6, (g) => writeGraph(g, attr.value, `${owner}_${name}_`));
      break;
  }
  w.int(20, ATTR_TYPE[attr.kind]);
}

function writeNode(w: Writer, node: OnnxNode, name: string): void {
  for (const i of node.inputs) w.string(1, i);
  for (const o of node.outputs) w.string(2, o);
  w.string(3, name);
  w.string(4, node.op);
  for (const [attrName, attr] of Object.entries(node.attrs ?? {})) w.message(5, (a) => writeAttr(a, attrName, attr, name));
  if (node.domain !== undefined && node.domain !== '') w.string(7, node.domain);
}

function writeValueInfo(w: Writer, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.type);
      tensor.message(2, (shape) => {
        // A negative size is a symbolic dimension (dim_param "N"): any size at run time.
        for (const d of v.shape) shape.message(1, (dim) => (d < 0 ? dim.string(2, 'N') : dim.int(1, d)));
      });
    }),
  );
}

function writeInitializer(w: Writer, t: OnnxInt64Initializer): void {
  for (const d of t.dims) w.int(1, d);
  const type = t.type ?? OnnxType.int64;
  if (type !== OnnxType.float && type !== OnnxType.int64) throw new Error(`ONNX initializer ${t.name}: float or int64 values only, got type ${type}`);
  w.int(2, type);
  w.string(8, t.name);
  const raw = type === OnnxType.float ? new Float32Array(t.values) : new BigInt64Array(t.values.map((v) => BigInt(v)));
  w.raw(9, new Uint8Array(raw.buffer));
}

/** A GraphProto; node names carry `prefix` so that a subgraph's never repeat its parent's. */
function writeGraph(w: Writer, graph: OnnxGraph, prefix: string): void {
  graph.nodes.forEach((n, i) => w.message(1, (m) => writeNode(m, n, `${prefix}n${i}`)));
  w.string(2, `${prefix}g`);
  for (const t of graph.initializers ?? []) w.message(5, (m) => writeInitializer(m, t));
  for (const v of graph.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of graph.outputs) w.message(12, (m) => writeValueInfo(m, v));
}

/** Serialises a graph as an ONNX ModelProto (opset 17, plus each contrib domain a node uses). */
export function encodeModel(graph: OnnxGraph): Uint8Array {
  const w = new Writer();
  w.int(1, IR_VERSION);
  w.string(2, 'rethink-native');
  w.message(7, (g) => writeGraph(g, graph, ''));
  w.message(8, (o) => {
    o.string(1, '');
    o.int(2, OPSET);
  });
  // Contrib domains (com.microsoft, com.microsoft.nchwc) are all at version 1.
  const domains = new Set(graph.nodes.map((n) => n.domain ?? '').filter((d) => d !== ''));
  for (const domain of [...domains].sort()) {
    w.message(8, (o) => {
      o.string(1, domain);
      o.int(2, 1);
    });
  }
  return w.bytes().slice();
}
