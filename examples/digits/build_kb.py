#!/usr/bin/python3
"""Builds the starter knowledge base of the digits example: derived datasets written by
make_folder.py (class subsets, 4x4 and 16x16 versions, noise, rotations, few or imbalanced images
per class; never the full ten-class 8x8 set, which is the zero-shot target), each trained with
../train_digits.py on a seeded random sample of the search space, and profiled with
`metallmix profile`. Writes, beside this script:

  runs.csv       one row per trial (configuration, seed, accuracy, training time)
  profiles.json  DatasetProfile of every derived dataset
  models.json    model cards of train_digits.py's models
  mapping.json   is hand-written and not touched

Accuracies are deterministic for a given --seed; training times are measured, so they vary.

  build_kb.py [--trials 20] [--jobs 2] [--seed 0] [--work DIR]
"""

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAKE_FOLDER = os.path.join(HERE, "make_folder.py")
TRAIN = os.path.join(ROOT, "examples", "train_digits.py")
METALLMIX = os.path.join(ROOT, "bin", "metallmix.js")
PYTHON = "/usr/bin/python3"

# name -> make_folder.py options
DATASETS = {
    "digits-0to4": ["--classes", "0,1,2,3,4"],
    "digits-5to9": ["--classes", "5,6,7,8,9"],
    "digits-3v8": ["--classes", "3,8"],
    "digits-4x4": ["--size", "4"],
    "digits-even-4x4-noisy": ["--classes", "0,2,4,6,8", "--size", "4", "--noise", "0.15"],
    "digits-noisy": ["--noise", "0.3"],
    "digits-rotated": ["--rotate", "40"],
    "digits-few": ["--per-class", "25"],
    "digits-imbalanced": ["--imbalance", "12"],
    "digits-179-16x16-rotated": ["--classes", "1,7,9", "--size", "16", "--rotate", "25", "--noise", "0.1"],
}

# train_digits.py's models: 8x8 inputs, 10 classes.
HIDDEN = {"logreg": (), "mlp-small": (32,), "mlp-wide": (256,), "mlp-deep": (128, 64)}
OPTIMIZERS = ["adam", "sgd"]
BATCH_SIZES = [16, 32, 64, 128]
LR = (1e-4, 0.3)
EPOCHS = (5, 100)
WEIGHT_DECAY = (1e-6, 1e-1)
COLUMNS = [
    "run_id",
    "dataset",
    "model",
    "optimizer",
    "lr",
    "epochs",
    "batch_size",
    "weight_decay",
    "seed",
    "accuracy",
    "training_time_sec",
]


def log_uniform(rng, low, high):
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def sample_configs(rng, n):
    """n configurations drawn uniformly (log-uniformly for lr, epochs and weight decay)."""
    models = sorted(HIDDEN)
    out = []
    for _ in range(n):
        out.append(
            {
                "model": models[rng.integers(len(models))],
                "optimizer": OPTIMIZERS[rng.integers(len(OPTIMIZERS))],
                # Rounded to what the CSV holds, so the row states exactly what ran.
                "lr": float(f"{log_uniform(rng, *LR):.3g}"),
                "epochs": int(round(log_uniform(rng, *EPOCHS))),
                "batch_size": BATCH_SIZES[rng.integers(len(BATCH_SIZES))],
                "weight_decay": float(f"{log_uniform(rng, *WEIGHT_DECAY):.3g}"),
                "seed": int(rng.integers(1_000_000)),
            }
        )
    return out


def params(hidden, inputs=64, classes=10):
    sizes = [inputs, *hidden, classes]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def model_cards():
    cards = []
    for model, hidden in HIDDEN.items():
        cards.append(
            {
                "id": model,
                "family": "linear" if not hidden else "mlp",
                "architecture": "other",
                "params": params(hidden),
                "pretrainingData": "none (trained from scratch)",
                "inputResolution": 8,
                "source": "examples/train_digits.py (scikit-learn MLPClassifier); params for 8x8 inputs and 10 classes",
                "extra": {
                    "hiddenLayers": ",".join(map(str, hidden)) or "none",
                    "depth": len(hidden) + 1,
                },
            }
        )
    return cards


def run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr}")
    return done.stdout


def trial(folder, name, index, config, work):
    result_file = os.path.join(work, f"{name}-{index:02d}.json")
    cmd = [PYTHON, TRAIN, "--data", folder, "--model", config["model"]]
    for key in ("optimizer", "lr", "epochs", "batch_size", "weight_decay", "seed"):
        cmd += [f"--{key}", str(config[key])]
    out = run(cmd, env={**os.environ, "METALLMIX_RESULT_FILE": result_file})
    lines = [line for line in out.splitlines() if line.startswith("METALLMIX_RESULT ")]
    with open(result_file) as f:
        result = json.load(f)
    if lines != [f"METALLMIX_RESULT {json.dumps(result)}"]:
        raise RuntimeError(f"{' '.join(cmd)}: stdout result {lines} differs from {result_file}: {result}")
    return {"run_id": f"{name}#{index:02d}", "dataset": name, **config, **result}


def prepare(name, options, work, seed):
    """Writes the derived dataset's folder and returns its profile."""
    folder = os.path.join(work, name)
    seed += list(DATASETS).index(name)
    run([PYTHON, MAKE_FOLDER, folder, "--seed", str(seed), *options])
    cmd = ["node", METALLMIX, "profile", folder, "--modality", "other", "--json", "--quiet"]
    profile = json.loads(run(cmd))["profile"]
    profile["source"] = (
        "scikit-learn load_digits (UCI optical recognition of handwritten digits, 8x8) through "
        f"examples/digits/make_folder.py {' '.join(options)} --seed {seed}"
    )
    return profile


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=20, help="configurations per dataset (default 20)")
    p.add_argument("--jobs", type=int, default=2, help="trials run at once (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", help="keep the derived image folders here (default: a temporary folder)")
    p.add_argument("--out", default=HERE, help="where to write runs.csv, profiles.json, models.json")
    a = p.parse_args(argv)
    work = a.work or tempfile.mkdtemp(prefix="metallmix-digits-")
    start = time.time()
    try:
        rng = np.random.default_rng(a.seed)
        jobs = []
        for name in DATASETS:
            jobs += [(os.path.join(work, name), name, i, c) for i, c in enumerate(sample_configs(rng, a.trials))]
        with ThreadPoolExecutor(max_workers=a.jobs) as pool:
            profiles = list(pool.map(lambda d: prepare(d, DATASETS[d], work, a.seed), DATASETS))
            print(f"build_kb: {len(DATASETS)} datasets, {len(jobs)} trials, {a.jobs} at a time", file=sys.stderr)
            rows = list(pool.map(lambda job: trial(*job, work), jobs))
    finally:
        if a.work is None:
            shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(a.out, "runs.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    written = []
    for name, content in (("profiles.json", profiles), ("models.json", model_cards())):
        written.append(os.path.join(a.out, name))
        with open(written[-1], "w") as f:
            json.dump(content, f, indent=2)
    # The repository's JSON files are kept in prettier's layout (npm test checks it).
    run([os.path.join(ROOT, "node_modules", ".bin", "prettier"), "--write", *written])
    best = {}
    for r in rows:
        best[r["dataset"]] = max(best.get(r["dataset"], 0), r["accuracy"])
    print(f"build_kb: {len(rows)} runs in {time.time() - start:.0f} s; best accuracy per dataset:", file=sys.stderr)
    for name, acc in best.items():
        print(f"  {name:28s} {acc:.4f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
