#!/usr/bin/env python3
"""Copy a deterministic selection of images into a samples folder (what `make fixtures` commits as samples/abo).

The selection is export_clip.py's --select mixed: names sorted, evenly spaced picks, with the non-RGB
(grayscale...) images overrepresented. Files are copied byte for byte; the folder is emptied of images first.
"""
import argparse
import os
import shutil
import sys

from clip_reference import ExportError, IMAGE_EXTENSIONS, select_images


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="src", required=True, metavar="DIR", help="source image folder")
    p.add_argument("--to", dest="dst", required=True, metavar="DIR", help="samples folder to (re)fill")
    p.add_argument("--num-images", type=int, required=True, metavar="N")
    p.add_argument("--select", choices=["first", "spread", "mixed"], default="mixed")
    args = p.parse_args()
    try:
        names = select_images(args.src, args.num_images, args.select)
    except ExportError as e:
        print(f"copy_samples.py: error: {e}", file=sys.stderr)
        return 2
    os.makedirs(args.dst, exist_ok=True)
    for old in os.listdir(args.dst):
        if old.lower().endswith(IMAGE_EXTENSIONS):
            os.remove(os.path.join(args.dst, old))
    for name in names:
        shutil.copyfile(os.path.join(args.src, name), os.path.join(args.dst, name))
    print(f"copied {len(names)} images from {args.src} to {args.dst}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
