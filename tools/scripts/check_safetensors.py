#!/usr/bin/env python3
"""Loads a safetensors file with the PyPI `safetensors` package (numpy backend) and checks it.

Prints one line per tensor: name, dtype, shape and a value checksum, sum((i + 1) * value[i]) over
the flattened values in float64, which catches wrong values, order, dtype decoding and byte order.
With --expect NAME DTYPE SHAPE CHECKSUM (repeatable; SHAPE as JSON, e.g. [3,2] or []) each named
tensor must be there with that dtype, shape and checksum; --exact also forbids other tensors;
--metadata KEY=VALUE (repeatable) checks __metadata__ entries; --same-bytes re-serializes the
tensors with the package and requires the identical file (needs at most one metadata key, since
the package does not fix the order of several).

Exit codes: 0 ok, 1 a check failed, 2 usage, 77 the package (or numpy) is not installed, so
ctest reports the test as skipped (SKIP_RETURN_CODE 77). Install: pip install safetensors numpy
"""
import argparse
import json
import math
import sys

try:
    import numpy as np
    import safetensors
    from safetensors import safe_open
except ImportError as e:  # the check is optional where Python lacks the package
    print(f"check_safetensors: skipped: {e}", file=sys.stderr)
    sys.exit(77)

NUMPY_NAMES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
               "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
               "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool"}


def raw_tensors(data):
    """name -> (dtype, shape, bytes), parsed and validated by the package itself."""
    return {name: (info["dtype"], list(info["shape"]), bytes(info["data"]))
            for name, info in safetensors.deserialize(data)}


def load(path, data):
    """name -> (dtype, shape, values as a float64 numpy array), metadata."""
    raw = raw_tensors(data)
    out = {}
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata() or {}
        for name in f.keys():
            view = f.get_slice(name)
            dtype, shape = view.get_dtype(), list(view.get_shape())
            if dtype == "BF16":
                # numpy has no bfloat16: widen the raw bits (the top half of a float32).
                bits = np.frombuffer(raw[name][2], dtype="<u2").astype(np.uint32) << 16
                values = bits.view(np.float32).astype(np.float64)
            else:
                values = f.get_tensor(name).astype(np.float64).ravel()
            out[name] = (dtype, shape, values)
    return out, metadata


def checksum(values):
    return math.fsum(float(v) * (i + 1) for i, v in enumerate(values))


def reserialize(data, metadata):
    raw = raw_tensors(data)
    if hasattr(safetensors, "TensorSpec"):  # safetensors >= 0.6 takes pointers
        keep = {}
        specs = {}
        for name, (dtype, shape, blob) in raw.items():
            keep[name] = np.frombuffer(blob, dtype=np.uint8).copy() if blob else np.zeros(1, np.uint8)
            specs[name] = safetensors.TensorSpec(dtype=NUMPY_NAMES[dtype], shape=shape,
                                                 data_ptr=keep[name].ctypes.data, data_len=len(blob))
        return bytes(safetensors.serialize(specs, metadata=metadata or None))
    specs = {name: {"dtype": NUMPY_NAMES[dtype], "shape": shape, "data": blob}
             for name, (dtype, shape, blob) in raw.items()}
    return bytes(safetensors.serialize(specs, metadata=metadata or None))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file")
    p.add_argument("--expect", nargs=4, action="append", default=[], metavar=("NAME", "DTYPE", "SHAPE", "CHECKSUM"))
    p.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--exact", action="store_true", help="no tensors beyond the expected ones")
    p.add_argument("--same-bytes", action="store_true", help="the package writes the identical file")
    args = p.parse_args()

    with open(args.file, "rb") as fh:
        data = fh.read()
    try:
        tensors, metadata = load(args.file, data)
    except Exception as e:  # the package refused the file: that is the failure to report
        print(f"{args.file}: the safetensors package cannot load it: {type(e).__name__}: {e}")
        return 1
    print(f"{args.file}: safetensors {safetensors.__version__}, {len(tensors)} tensors, metadata {metadata}")
    for name, (dtype, shape, values) in sorted(tensors.items()):
        print(f"  {name} {dtype} {json.dumps(shape)} checksum {checksum(values)!r}")

    failures = []
    for name, dtype, shape, expected in args.expect:
        if name not in tensors:
            failures.append(f"tensor '{name}' is missing")
            continue
        got_dtype, got_shape, values = tensors[name]
        if got_dtype != dtype:
            failures.append(f"tensor '{name}': dtype {got_dtype}, expected {dtype}")
        if got_shape != json.loads(shape):
            failures.append(f"tensor '{name}': shape {got_shape}, expected {shape}")
        got = checksum(values)
        if not math.isclose(got, float(expected), rel_tol=1e-12, abs_tol=1e-12):
            failures.append(f"tensor '{name}': checksum {got!r}, expected {expected}")
    if args.exact:
        extra = sorted(set(tensors) - {e[0] for e in args.expect})
        if extra:
            failures.append(f"unexpected tensors: {extra}")
    for item in args.metadata:
        key, _, value = item.partition("=")
        if metadata.get(key) != value:
            failures.append(f"metadata '{key}': {metadata.get(key)!r}, expected {value!r}")
    if args.same_bytes:
        if len(metadata) > 1:
            failures.append("--same-bytes needs at most one metadata key (the package orders several arbitrarily)")
        elif reserialize(data, metadata) != data:
            failures.append("the package serializes these tensors to different bytes")
        else:
            print("  byte-identical to the package's own serialization")

    for f in failures:
        print(f"FAIL: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
