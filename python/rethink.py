"""rethink's helper for command stages written in Python: one file, the standard library only
(numpy is used when it is installed). Copy it beside your script, or point PYTHONPATH at this folder.

    import sys, rethink
    data = rethink.load(sys.argv[1])          # a dataset artifact: {"x_train": array, "y_train": ...}
    rethink.progress(epoch="3/20", loss=0.41)  # prints ::progress epoch=3/20 loss=0.41
    rethink.save(sys.argv[2], {"w": w}, metadata={"model": "mlp"})
    rethink.fail("python3-torch is missing: apt-get install -y python3-torch")   # a user error

Tensors artifacts are safetensors files: an 8-byte little-endian header length, a JSON header
(dtype, shape and data_offsets of each tensor, and `__metadata__`: strings), then the raw
little-endian data. rethink reads the dtypes BOOL, U8, I8, U16, I16, U32, I32, F32 and F64.
"""

import array
import json
import struct
import sys

__all__ = ["Tensor", "load", "read_header", "save", "progress", "fail"]

# safetensors dtype -> (array typecode candidates, item size, numpy dtype name)
_DTYPES = {
    "BOOL": ("B", 1, "bool"),
    "U8": ("B", 1, "uint8"),
    "I8": ("b", 1, "int8"),
    "U16": ("H", 2, "uint16"),
    "I16": ("h", 2, "int16"),
    "U32": ("IL", 4, "uint32"),
    "I32": ("il", 4, "int32"),
    "F32": ("f", 4, "float32"),
    "F64": ("d", 8, "float64"),
}
_FROM_NUMPY = {numpy_name: st for st, (_, _, numpy_name) in _DTYPES.items()}


class Tensor:
    """A tensor without numpy: `dtype` (a safetensors name such as "F32"), `shape`, and `data`,
    an array.array of the values in row-major order (`tolist()` gives them as a flat list)."""

    def __init__(self, dtype, shape, data):
        if dtype not in _DTYPES:
            raise ValueError("unsupported dtype %r (rethink reads %s)" % (dtype, ", ".join(_DTYPES)))
        self.dtype = dtype
        self.shape = tuple(int(n) for n in shape)
        self.data = data

    def __repr__(self):
        return "Tensor(%s, shape=%s)" % (self.dtype, list(self.shape))

    def tolist(self):
        return self.data.tolist()


def _typecode(dtype):
    codes, size, _ = _DTYPES[dtype]
    for code in codes:
        if array.array(code).itemsize == size:
            return code
    raise ValueError("this Python has no %d-byte array type for %s" % (size, dtype))


def _have_numpy():
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def read_header(path):
    """The tensors' {name: {"dtype", "shape", "data_offsets"}} and the metadata, without the data."""
    with open(path, "rb") as f:
        header, _ = _header(f)
    metadata = header.pop("__metadata__", {}) or {}
    return header, metadata


def _header(f):
    raw = f.read(8)
    if len(raw) != 8:
        raise ValueError("%s: too short for a safetensors file" % f.name)
    (n,) = struct.unpack("<Q", raw)
    header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def load(path, numpy=None, metadata=False):
    """Every tensor of a safetensors file by name: numpy arrays when numpy is installed (or
    numpy=True), rethink.Tensor otherwise (or numpy=False). metadata=True returns (tensors, metadata)."""
    use_numpy = _have_numpy() if numpy is None else numpy
    if use_numpy:
        import numpy as np
    out = {}
    with open(path, "rb") as f:
        header, start = _header(f)
        meta = header.pop("__metadata__", {}) or {}
        for name in sorted(header, key=lambda k: header[k]["data_offsets"][0]):
            entry = header[name]
            dtype, shape = entry["dtype"], entry["shape"]
            if dtype not in _DTYPES:
                raise ValueError("%s: tensor %r has dtype %s, which rethink does not read" % (path, name, dtype))
            begin, end = entry["data_offsets"]
            f.seek(start + begin)
            raw = f.read(end - begin)
            if use_numpy:
                out[name] = np.frombuffer(raw, dtype=np.dtype(_DTYPES[dtype][2]).newbyteorder("<")).reshape(shape)
            else:
                data = array.array(_typecode(dtype))
                data.frombytes(raw)
                if sys.byteorder != "little":
                    data.byteswap()
                out[name] = Tensor(dtype, shape, data)
    return (out, meta) if metadata else out


def _as_tensor(name, value):
    """(dtype, shape, little-endian bytes) of a numpy array, a rethink.Tensor or a (dtype, shape, values) triple."""
    if isinstance(value, Tensor):
        data = array.array(value.data.typecode, value.data)
        if sys.byteorder != "little":
            data.byteswap()
        return value.dtype, value.shape, data.tobytes()
    if isinstance(value, tuple) and len(value) == 3:
        dtype, shape, values = value
        return _as_tensor(name, Tensor(dtype, shape, array.array(_typecode(dtype), values)))
    if hasattr(value, "dtype") and hasattr(value, "tobytes"):
        kind = str(value.dtype)
        if kind not in _FROM_NUMPY:
            raise ValueError(
                "tensor %r is %s; rethink stores %s: convert it first (e.g. .astype('float32'), or 'int32' for int64 labels)"
                % (name, kind, ", ".join(sorted(_FROM_NUMPY)))
            )
        little = value.astype(value.dtype.newbyteorder("<"), copy=False)
        return _FROM_NUMPY[kind], tuple(int(n) for n in value.shape), little.tobytes(order="C")
    raise TypeError("tensor %r: expected a numpy array, a rethink.Tensor or (dtype, shape, values), got %r" % (name, type(value)))


def save(path, tensors, metadata=None):
    """Writes a safetensors file as rethink lays one out: tensors in name order, the header padded
    with spaces to 8 bytes, so equal tensors give equal bytes. Metadata values must be strings."""
    meta = dict(metadata or {})
    for k, v in meta.items():
        if not isinstance(v, str):
            raise TypeError("metadata %r must be a string (JSON-encode lists: json.dumps(...))" % k)
    header, blobs, at = {}, [], 0
    if meta:
        header["__metadata__"] = dict(sorted(meta.items()))
    for name in sorted(tensors):
        if name == "__metadata__":
            raise ValueError('"__metadata__" cannot name a tensor')
        dtype, shape, blob = _as_tensor(name, tensors[name])
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [at, at + len(blob)]}
        blobs.append(blob)
        at += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def progress(**values):
    """Feeds rethink's live display: progress(epoch="3/20", loss=0.41) prints
    `::progress epoch=3/20 loss=0.41`; the first n/m value (or done=, total=) is the stage's progress."""
    words = ["%s=%s" % (k, _short(v)) for k, v in values.items()]
    print("::progress " + " ".join(words), flush=True)


def _short(v):
    if isinstance(v, float):
        return "%.4g" % v
    return str(v).replace(" ", "_")


def fail(message, code=1):
    """Ends the script as a fault the user must fix: the stage fails with `message` as its reason,
    is not retried, and `rethink run` exits with 2."""
    print("::error " + " ".join(str(message).split()), flush=True)
    sys.exit(code)
