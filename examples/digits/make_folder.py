#!/usr/bin/python3
"""Writes the handwritten digits that ship with scikit-learn (load_digits: 1,797 8x8 images, 10
classes, from Debian's python3-sklearn) as PNG files in ImageFolder layout, OUT_DIR/<digit>/<n>.png,
optionally as a derived dataset: a class subset, fewer or imbalanced images per class, another
resolution, pixel noise or random rotations. Deterministic for a given --seed.

  make_folder.py /tmp/digits                                   # the full set
  make_folder.py /tmp/d04 --classes 0,1,2,3,4 --per-class 60 --size 4 --noise 0.2 --seed 3
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pngio import write_gray_png  # noqa: E402

SIZES = (2, 4, 8, 16, 24, 32)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out_dir", help="folder to create (must not exist or be empty)")
    p.add_argument("--classes", help="comma-separated digits to keep, e.g. 0,1,2 (default: all ten)")
    p.add_argument("--per-class", type=int, help="at most this many images per class (a seeded sample)")
    p.add_argument(
        "--imbalance",
        type=float,
        default=1.0,
        help="largest/smallest class size ratio: class sizes fall geometrically in --classes order",
    )
    p.add_argument("--size", type=int, default=8, choices=SIZES, help="image side in pixels (block mean down, repeat up)")
    p.add_argument("--noise", type=float, default=0.0, help="std of Gaussian pixel noise, fraction of the range")
    p.add_argument("--rotate", type=float, default=0.0, help="rotate each image by a uniform angle in +-DEG degrees")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    if a.classes is not None:
        try:
            a.classes = [int(c) for c in a.classes.split(",")]
        except ValueError:
            p.error(f"--classes: expected comma-separated digits 0-9, got {a.classes!r}")
        if any(c < 0 or c > 9 for c in a.classes) or len(set(a.classes)) != len(a.classes):
            p.error(f"--classes: expected distinct digits 0-9, got {a.classes}")
        if len(a.classes) < 2:
            p.error("--classes: a classification dataset needs at least two classes")
    else:
        a.classes = list(range(10))
    if a.per_class is not None and a.per_class < 1:
        p.error("--per-class must be at least 1")
    if a.imbalance < 1:
        p.error("--imbalance must be >= 1 (largest over smallest class)")
    if not 0 <= a.noise <= 1:
        p.error("--noise must be in [0, 1]")
    if not 0 <= a.rotate <= 180:
        p.error("--rotate must be in [0, 180] degrees")
    if os.path.exists(a.out_dir) and (not os.path.isdir(a.out_dir) or os.listdir(a.out_dir)):
        p.error(f"{a.out_dir} exists and is not an empty folder")
    return a


def resize(images: np.ndarray, size: int) -> np.ndarray:
    n, side, _ = images.shape
    if size < side:
        f = side // size
        return images.reshape(n, size, f, size, f).mean(axis=(2, 4))
    f = size // side
    return images.repeat(f, axis=1).repeat(f, axis=2)


def derive(a, images: np.ndarray, target: np.ndarray, rng: np.random.Generator):
    """The selected images (values in [0, 1]) and their labels, in a fixed order."""
    per_class = []
    for c in a.classes:
        idx = np.flatnonzero(target == c)
        per_class.append(rng.permutation(idx))
    cap = min(len(i) for i in per_class) if a.imbalance > 1 else None
    keep = []
    for k, idx in enumerate(per_class):
        n = len(idx) if a.per_class is None else min(a.per_class, len(idx))
        if cap is not None:
            # Geometric decay from the first to the last listed class, so max/min = --imbalance.
            top = min(n, cap)
            n = max(1, round(top * a.imbalance ** (-k / (len(per_class) - 1))))
        keep.append(np.sort(idx[:n]))
    order = np.concatenate(keep)
    x = images[order] / 16.0
    if a.rotate > 0:
        from scipy.ndimage import rotate

        angles = rng.uniform(-a.rotate, a.rotate, size=len(x))
        x = np.stack([rotate(img, ang, reshape=False, order=1, mode="constant") for img, ang in zip(x, angles)])
    if a.size != x.shape[1]:
        x = resize(x, a.size)
    if a.noise > 0:
        x = x + rng.normal(0.0, a.noise, size=x.shape)
    return np.clip(x, 0.0, 1.0), target[order], order


def main(argv) -> int:
    a = parse_args(argv)
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(a.seed)
    x, y, order = derive(a, digits.images, digits.target, rng)
    pixels = np.rint(x * 255).astype(np.uint8)
    for c in a.classes:
        os.makedirs(os.path.join(a.out_dir, str(c)), exist_ok=True)
    for img, label, original in zip(pixels, y, order):
        write_gray_png(os.path.join(a.out_dir, str(label), f"{original:04d}.png"), img)
    counts = {str(c): int((y == c).sum()) for c in a.classes}
    print(f"wrote {len(y)} images of {a.size}x{a.size} to {a.out_dir}: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
