"""Trains small XGBoost 1.7 models (hist, missing values, one categorical feature) and writes, for
the TreeSHAP reference tests: model.json, the rows, pred_contribs and pred_interactions.
Usage: xgboost_shap_reference.py OUT_DIR OBJECTIVE SEED"""
import json
import sys

import numpy as np
import xgboost as xgb

out, objective, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(seed)
n, f = 300, 6
X = rng.normal(size=(n, f))
X[:, 2] = rng.integers(0, 5, size=n)  # categorical codes 0..4
y = (
    np.sin(X[:, 0]) * 2
    + X[:, 1] * X[:, 3]
    + np.array([0.0, 1.5, -1.0, 0.5, 2.0])[X[:, 2].astype(int)]
    + 0.3 * X[:, 4]
    + rng.normal(scale=0.1, size=n)
)
X[rng.random(size=(n, f)) < 0.12] = np.nan
if objective == "binary:logistic":
    y = (y > np.median(y)).astype(float)
types = ["q", "q", "c", "q", "q", "q"]
names = ["lr", "batch", "model", "size", "epochs", "wd"]
dmat = xgb.DMatrix(X, label=y, feature_names=names, feature_types=types, enable_categorical=True)
params = {
    "objective": objective,
    "tree_method": "hist",
    "max_depth": 5,
    "eta": 0.3,
    "max_cat_to_onehot": 1,
    "seed": seed,
    "nthread": 1,
}
bst = xgb.train(params, dmat, num_boost_round=40)
bst.save_model(f"{out}/model.json")
rows = 40
test = xgb.DMatrix(X[:rows], feature_names=names, feature_types=types, enable_categorical=True)
with open(f"{out}/reference.json", "w") as fh:
    json.dump(
        {
            "X": [[None if np.isnan(v) else float(v) for v in row] for row in X[:rows]],
            "margin": bst.predict(test, output_margin=True).tolist(),
            "contribs": bst.predict(test, pred_contribs=True).tolist(),
            "interactions": bst.predict(test, pred_interactions=True).tolist(),
        },
        fh,
    )
