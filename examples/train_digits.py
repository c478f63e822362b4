#!/usr/bin/python3
"""Trains one configuration on an ImageFolder of digit PNGs (written by digits/make_folder.py, or
any folder of 8-bit PNGs of one size, one sub-folder per class) and reports test accuracy.

The last line on stdout is the result, and the only line there:
  METALLMIX_RESULT {"accuracy": 0.9644, "training_time_sec": 1.23}
It is also written as JSON to $METALLMIX_RESULT_FILE when that is set. Progress goes to stderr.
Bad arguments or data exit with status 2 and a message on stderr.

Models (scikit-learn's MLPClassifier, so every model takes the same optimizer hyperparameters):
  logreg     softmax regression (no hidden layer)
  mlp-small  one hidden layer of 32 ReLU units
  mlp-wide   one hidden layer of 256 ReLU units
  mlp-deep   two hidden layers of 128 and 64 ReLU units
--hidden-size overrides the width of an MLP's hidden layers (scaling mlp-deep's both layers).

  train_digits.py --data /tmp/digits --model mlp-wide --lr 0.003 --epochs 40 --batch-size 64
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits"))
from pngio import read_gray_png  # noqa: E402

MODELS = {"logreg": (), "mlp-small": (32,), "mlp-wide": (256,), "mlp-deep": (128, 64)}
OPTIMIZERS = ("adam", "sgd")


class DataError(Exception):
    pass


def positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}")
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


def non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Each hyperparameter also answers to its knowledge-base name (batch_size, ...), so a runner
    # can pass --NAME VALUE for every key of a recommended config.
    p.add_argument("--data", required=True, help="ImageFolder root: one sub-folder of PNGs per class")
    p.add_argument("--model", required=True, choices=sorted(MODELS))
    p.add_argument("--lr", type=positive(float), default=1e-3, help="initial learning rate (default 1e-3)")
    p.add_argument("--epochs", type=positive(int), default=30, help="passes over the training split (default 30)")
    p.add_argument("--batch-size", "--batch_size", type=positive(int), default=32, help="default 32")
    p.add_argument(
        "--weight-decay",
        "--weight_decay",
        type=non_negative_float,
        default=1e-4,
        help="L2 penalty on the weights (MLPClassifier alpha; default 1e-4)",
    )
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="adam, or sgd with Nesterov momentum 0.9")
    p.add_argument("--hidden-size", "--hidden_size", type=positive(int), help="hidden width of an MLP")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and of the weights (default 0)")
    p.add_argument(
        "--test-fraction", "--test_fraction", type=float, default=0.25, help="held-out share, stratified (default 0.25)"
    )
    a = p.parse_args(argv)
    if not 0 < a.test_fraction < 1:
        p.error(f"--test-fraction must be in (0, 1), got {a.test_fraction}")
    if a.hidden_size is not None and a.model == "logreg":
        p.error("--hidden-size: logreg has no hidden layer")
    return a


def load_folder(root):
    if not os.path.isdir(root):
        raise DataError(f"{root}: not a folder")
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))
    if len(classes) < 2:
        raise DataError(f"{root}: needs at least two class sub-folders, found {len(classes)}")
    images, labels = [], []
    shape = None
    for k, c in enumerate(classes):
        files = sorted(
            os.path.join(d, f)
            for d, _, fs in os.walk(os.path.join(root, c))
            for f in fs
            if f.lower().endswith(".png") and not f.startswith(".")
        )
        if len(files) < 2:
            raise DataError(f"{root}/{c}: a class needs at least two PNG files for a stratified split, found {len(files)}")
        for f in files:
            try:
                img = read_gray_png(f)
            except (ValueError, OSError) as e:
                raise DataError(str(e))
            if shape is None:
                shape = img.shape
            elif img.shape != shape:
                raise DataError(f"{f}: {img.shape[1]}x{img.shape[0]} pixels, but earlier images are {shape[1]}x{shape[0]}")
            images.append(img.ravel())
            labels.append(k)
    return np.array(images), np.array(labels), classes, shape


def hidden_layers(model, hidden_size):
    layers = MODELS[model]
    if hidden_size is None:
        return layers
    scale = hidden_size / layers[0]
    return tuple(max(1, round(w * scale)) for w in layers)


def main(argv):
    a = parse_args(argv)
    try:
        x, y, classes, shape = load_folder(a.data)
    except DataError as e:
        print(f"train_digits: {e}", file=sys.stderr)
        return 2
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    try:
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=a.test_fraction, random_state=a.seed, stratify=y
        )
    except ValueError as e:
        print(f"train_digits: {a.data}: cannot split {len(y)} images: {e}", file=sys.stderr)
        return 2
    layers = hidden_layers(a.model, a.hidden_size)
    net = MLPClassifier(
        hidden_layer_sizes=layers,
        solver=a.optimizer,
        learning_rate_init=a.lr,
        alpha=a.weight_decay,
        batch_size=min(a.batch_size, len(y_train)),
        max_iter=a.epochs,
        # Exactly --epochs passes: no early stop on a loss plateau.
        tol=0.0,
        n_iter_no_change=a.epochs + 1,
        momentum=0.9,
        nesterovs_momentum=True,
        random_state=a.seed,
    )
    print(
        f"train_digits: {len(y_train)} train / {len(y_test)} test images of {shape[1]}x{shape[0]}, "
        f"{len(classes)} classes; {a.model} {layers or 'no hidden layer'}, {a.optimizer} lr={a.lr} "
        f"epochs={a.epochs} batch={a.batch_size} weight_decay={a.weight_decay} seed={a.seed}",
        file=sys.stderr,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Stopping after --epochs is the point, not a convergence problem; an overflowing
        # learning rate shows up as a low accuracy.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        net.fit(x_train, y_train)
    training_time = time.perf_counter() - start
    accuracy = float(np.mean(net.predict(x_test) == y_test))
    result = {"accuracy": round(accuracy, 6), "training_time_sec": round(training_time, 3)}
    line = json.dumps(result)
    path = os.environ.get("METALLMIX_RESULT_FILE")
    if path:
        with open(path, "w") as f:
            f.write(line + "\n")
    print(f"METALLMIX_RESULT {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
