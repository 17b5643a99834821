"""Checks a clipwb weight file against its source HDF5 with the real `safetensors` package:
every tensor present, f32 bit-identical, f16 equal to numpy's float16 rounding. Prints one JSON line."""
import json
import sys

import h5py
import numpy as np
from safetensors.numpy import load_file


def main(h5_path, st_path):
    ours = load_file(st_path)
    with h5py.File(h5_path, "r") as f:
        sd = f["state_dict"]
        keys = set(sd.keys())
        assert keys == set(ours), f"tensor names differ: {sorted(keys ^ set(ours))[:5]}"
        mismatched = []
        for k in sorted(keys):
            ref = sd[k][()].astype(np.float32)
            got = ours[k]
            if got.dtype == np.float32:
                ok = np.array_equal(got.view(np.uint32), ref.view(np.uint32))
            elif got.dtype == np.float16:
                ok = np.array_equal(got.view(np.uint16), ref.astype(np.float16).view(np.uint16))
            else:
                ok = False
            if not ok or got.shape != ref.shape:
                mismatched.append(k)
    print(json.dumps({"file": st_path, "tensors": len(keys), "dtype": str(next(iter(ours.values())).dtype),
                      "mismatched": mismatched, "equal": not mismatched}))
    return 0 if not mismatched else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
