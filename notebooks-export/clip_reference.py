"""Reference inputs and outputs: image selection, text reading, OpenAI preprocessing, tokens, embeddings."""
import datetime
import hashlib
import os
import platform
from importlib import metadata

import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
PACKAGES = ("torch", "torchvision", "clip-anytorch", "numpy", "h5py", "pillow", "ftfy", "regex")


class ExportError(Exception):
    """A bad input or environment; the message says what to do. The CLI prints it and exits with 2."""


def select_images(folder, count, mode):
    """File names (not paths) of `count` images of `folder`, in sorted order (Python str order)."""
    if not os.path.isdir(folder):
        raise ExportError(f"--images {folder!r} is not a folder; pass a folder of .jpg/.jpeg/.png files")
    names = sorted(n for n in os.listdir(folder)
                   if n.lower().endswith(IMAGE_EXTENSIONS) and not n.startswith(".")
                   and os.path.isfile(os.path.join(folder, n)))
    if not names:
        raise ExportError(f"no .jpg/.jpeg/.png files in {folder!r}")
    if count is None or count == len(names):
        return names
    if count > len(names):
        raise ExportError(f"--num-images {count} but {folder!r} has only {len(names)} images")
    if mode == "first":
        return names[:count]
    if mode == "spread":
        return spread(names, count)
    from PIL import Image
    modes = {}
    for n in names:
        with Image.open(os.path.join(folder, n)) as im:
            modes[n] = im.mode
    other = [n for n in names if modes[n] != "RGB"]
    rgb = [n for n in names if modes[n] == "RGB"]
    k = min(len(other), max(1, count // 4)) if other else 0
    k = max(k, count - len(rgb))
    return sorted(spread(other, k) + spread(rgb, count - k))


def spread(items, count):
    """`count` evenly spaced items: indices i·len//count."""
    return [items[i * len(items) // count] for i in range(count)]


def read_texts(path):
    """One text per line: split on '\\n' only (tabs, spaces, '\\r' are kept); a final newline ends the last text."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ExportError(f"cannot read --texts {path!r}: {e.strerror}") from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ExportError(f"--texts {path!r} is not valid UTF-8 (byte {e.start}); save it as UTF-8") from e
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise ExportError(f"--texts {path!r} is empty; put one text per line")
    return lines


def compute_reference(model, config, folder, image_names, texts, batch_size, intermediates=0):
    """OpenAI's preprocess → pixels → encode_image; clip.tokenize(truncate=True) → encode_text. float32, CPU.
    With `intermediates` K, also every named stage's output for the first K images and texts."""
    import clip
    import torch
    from PIL import Image, UnidentifiedImageError
    res = config["image_resolution"]
    preprocess = clip.clip._transform(res)  # Resize(bicubic) → CenterCrop → convert("RGB") → ToTensor → Normalize
    pixels = np.empty((len(image_names), 3, res, res), dtype=np.float32)
    for i, name in enumerate(image_names):
        path = os.path.join(folder, name)
        try:
            with Image.open(path) as im:
                pixels[i] = preprocess(im).numpy()
        except (OSError, UnidentifiedImageError) as e:
            raise ExportError(f"cannot decode image {path!r}: {e}; remove it from the folder") from e
    tokens = clip.tokenize(texts, context_length=config["context_length"], truncate=True) if texts else \
        torch.zeros((0, config["context_length"]), dtype=torch.long)
    dim = config["embed_dim"]
    image_embeddings = np.zeros((len(image_names), dim), dtype=np.float32)
    text_embeddings = np.zeros((len(texts), dim), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(image_names), batch_size):
            batch = torch.from_numpy(pixels[start:start + batch_size])
            image_embeddings[start:start + batch_size] = model.encode_image(batch).float().numpy()
        for start in range(0, len(texts), batch_size):
            text_embeddings[start:start + batch_size] = model.encode_text(tokens[start:start + batch_size]).float().numpy()
    ref = dict(image_names=list(image_names), pixels=pixels, image_embeddings=image_embeddings,
               texts=list(texts), tokens=tokens.numpy().astype(np.int32), text_embeddings=text_embeddings)
    if intermediates:
        from zoo_common import capture_intermediates
        ref.update(capture_intermediates(model, model.encode_image, model.encode_text, pixels, tokens, ref["tokens"],
                                         intermediates))
    return ref


def embedding_spread(emb, what):
    """A one-line summary of how different the embeddings are; an error if they are NaN or all alike."""
    if not np.isfinite(emb).all():
        raise ExportError(f"{what} embeddings contain NaN/inf: the model is broken (try another --seed)")
    if len(emb) < 2:
        return ""
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    cos = unit @ unit.T
    off = cos[~np.eye(len(emb), dtype=bool)]
    norms = np.linalg.norm(emb, axis=1)
    if off.min() > 0.9999:
        raise ExportError(f"all {what} embeddings are alike (pairwise cosine ≥ {off.min():.6f}): degenerate model")
    return (f"norm {norms.min():.3f}..{norms.max():.3f}, pairwise cosine min {off.min():.4f} "
            f"mean {off.mean():.4f} max {off.max():.4f}")


def provenance(command, seed, dtype):
    """Attributes recording how a file was made. 'created' honours SOURCE_DATE_EPOCH (reproducible builds)."""
    versions = ", ".join([f"python {platform.python_version()}"] +
                         [f"{p} {metadata.version(p)}" for p in PACKAGES])
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch else \
        datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    attrs = {"exporter_command": command, "exporter_versions": versions, "weights_dtype": dtype,
             "created": when.isoformat().replace("+00:00", "Z")}
    if seed is not None:
        attrs["seed"] = np.int64(seed)
    return attrs


def sha256_of_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
