"""The two HDF5 files the exporter writes: clip-hdf5 weights and clip-reference outputs (version 1,
docs/formats.md). Objects keep their insertion order and carry no timestamps, so re-runs are bit-identical."""
import os

import h5py
import numpy as np

FORMAT_VERSION = 1


def config_attribute(key, value):
    """/config attribute values: integers int64, floats float64 (lists of floats a float64 array), text UTF-8."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"/config/{key}: booleans are not a clip-hdf5 type")
    if isinstance(value, (int, np.integer)):
        return np.int64(value)
    if isinstance(value, (float, np.floating)):
        return np.float64(value)
    if isinstance(value, (list, tuple)):
        return np.asarray(value, dtype=np.float64)
    if isinstance(value, str):
        return value
    raise TypeError(f"/config/{key}: unsupported value {value!r}")


def write_weights(path, state_dict, config, dtype, source, attrs):
    """clip-hdf5 v1: root attrs, /state_dict/<key> (flat, PyTorch layout), /config (build_model's argument names
    and the extensions: heads, activation, preprocessing, ε, tokenizer)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with h5py.File(tmp, "w", libver="earliest", track_order=True) as f:
        f.attrs["format"] = "clip-hdf5"
        f.attrs["format_version"] = np.int64(FORMAT_VERSION)
        f.attrs["source"] = source
        for key, value in attrs.items():
            f.attrs[key] = value
        group = f.create_group("state_dict", track_order=True)
        for key, tensor in state_dict.items():
            if not tensor.is_floating_point():  # integer buffers are not weights (the spec leaves them out)
                continue
            array = tensor.detach().cpu().numpy().astype(dtype)  # float16: round to nearest even
            # contiguous, uncompressed: readers may map tensors straight from the file
            group.create_dataset(key, data=array, track_times=False)
        cfg = f.create_group("config", track_order=True)
        for key, value in config.items():
            cfg.attrs[key] = config_attribute(key, value)
    os.replace(tmp, path)


def write_reference(path, ref, source, weights_sha256, attrs, compress_pixels):
    """clip-reference v1: /images/{names,pixels,embeddings}, /texts/{strings,tokens,embeddings}."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    utf8 = h5py.string_dtype("utf-8")
    tmp = path + ".tmp"
    with h5py.File(tmp, "w", libver="earliest", track_order=True) as f:
        f.attrs["format"] = "clip-reference"
        f.attrs["format_version"] = np.int64(FORMAT_VERSION)
        f.attrs["weights_source"] = source
        f.attrs["weights_sha256"] = weights_sha256
        for key, value in attrs.items():
            f.attrs[key] = value
        images = f.create_group("images", track_order=True)
        images.create_dataset("names", data=np.array(ref["image_names"], dtype=object), dtype=utf8,
                              track_times=False)
        pixels = ref["pixels"]
        if compress_pixels and len(pixels):
            # one chunk per image, deflate (built into libhdf5; H5Dread undoes it). Each channel holds at most
            # 256 distinct float32 values, which deflate finds as repeated 4-byte strings (~6x smaller);
            # the byte-shuffle filter would break those strings up (only ~3x).
            images.create_dataset("pixels", data=pixels, chunks=(1,) + pixels.shape[1:],
                                  compression="gzip", compression_opts=9, track_times=False)
        else:
            images.create_dataset("pixels", data=pixels, track_times=False)
        images.create_dataset("embeddings", data=ref["image_embeddings"], track_times=False)
        texts = f.create_group("texts", track_order=True)
        texts.create_dataset("strings", data=np.array(ref["texts"], dtype=object), dtype=utf8, track_times=False)
        texts.create_dataset("tokens", data=ref["tokens"], track_times=False)
        texts.create_dataset("embeddings", data=ref["text_embeddings"], track_times=False)
        write_intermediates(f, ref)
    os.replace(tmp, path)


def write_intermediates(f, ref):
    """/intermediates/{images,texts}: one float32 dataset per stage, [K, ...] for the first K items of /images or
    /texts, and `order`, the stage names in forward order (docs/formats.md)."""
    parts = [(g, ref.get(f"intermediates_{g}") or []) for g in ("images", "texts")]
    if not any(stages for _, stages in parts):
        return
    utf8 = h5py.string_dtype("utf-8")
    top = f.create_group("intermediates", track_order=True)
    for g, stages in parts:
        if not stages:
            continue
        group = top.create_group(g, track_order=True)
        group.create_dataset("order", data=np.array([n for n, _ in stages], dtype=object), dtype=utf8, track_times=False)
        for name, array in stages:
            # one chunk per item, byte-shuffle + deflate (HDF5's built-in filters): ReLU'd ResNet activations halve
            data = np.ascontiguousarray(array, dtype=np.float32)
            group.create_dataset(name, data=data, chunks=(1,) + data.shape[1:], shuffle=True, compression="gzip",
                                 compression_opts=9, track_times=False)
