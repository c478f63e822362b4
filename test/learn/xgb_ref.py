"""Reference side of the GBDT tests and benchmark: trains or predicts with real XGBoost 1.7.

Usage: /usr/bin/python3 xgb_ref.py SPEC.json. The spec names raw float64 files written by the
TypeScript side (row-major, NaN = missing) so both sides see exactly the same numbers; the
result (timings, peak memory) is printed as one JSON line.
"""
import json
import resource
import sys
import time

import numpy as np
import xgboost as xgb


def matrix(spec, key):
    m = spec[key]
    data = np.fromfile(m["path"], dtype="<f8").reshape(m["rows"], m["cols"])
    return xgb.DMatrix(
        data,
        feature_names=spec["feature_names"],
        feature_types=spec["feature_types"],
        enable_categorical="c" in spec["feature_types"],
        nthread=spec.get("nthread", 1),
    )


def main():
    spec = json.load(open(sys.argv[1]))
    out = {}
    if "train" in spec:
        dtrain = matrix(spec, "train")
        dtrain.set_label(np.fromfile(spec["train"]["y"], dtype="<f8"))
        if "weights" in spec["train"]:
            dtrain.set_weight(np.fromfile(spec["train"]["weights"], dtype="<f8"))
        if "groups" in spec["train"]:
            dtrain.set_group(spec["train"]["groups"])
        evals = []
        if "valid" in spec:
            dvalid = matrix(spec, "valid")
            dvalid.set_label(np.fromfile(spec["valid"]["y"], dtype="<f8"))
            evals = [(dvalid, "valid")]
        params = dict(spec["params"], tree_method="hist", nthread=spec.get("nthread", 1))
        rounds = params.pop("n_estimators", 100)
        early = params.pop("early_stopping_rounds", None)
        start, cpu_start = time.perf_counter(), time.process_time()
        bst = xgb.train(params, dtrain, rounds, evals=evals, early_stopping_rounds=early,
                        verbose_eval=False)
        out["train_seconds"] = time.perf_counter() - start
        out["train_cpu_seconds"] = time.process_time() - cpu_start
        bst.save_model(spec["model"])
        if early is not None:
            out["best_iteration"] = bst.best_iteration
    else:
        bst = xgb.Booster(model_file=spec["model"])
        bst.set_param({"nthread": spec.get("nthread", 1)})
    if "predict" in spec:
        dpred = matrix(spec, "predict")
        start, cpu_start = time.perf_counter(), time.process_time()
        margin = bst.predict(dpred, output_margin=True)
        out["predict_seconds"] = time.perf_counter() - start
        out["predict_cpu_seconds"] = time.process_time() - cpu_start
        margin.astype("<f8").tofile(spec["predict"]["margin_out"])
        bst.predict(dpred).astype("<f8").tofile(spec["predict"]["out"])
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


main()
