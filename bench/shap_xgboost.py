"""XGBoost side of bench/shap.ts: trains 300 trees of depth 6 (hist) on ROWS x 20 features, saves
model.json, the rows (float64, row-major, NaN = missing) and the first 100 rows' contributions,
and prints the single-thread pred_contribs wall and CPU time in seconds as JSON. Usage: shap_xgboost.py OUT_DIR ROWS"""
import json
import sys
import time

import numpy as np
import xgboost as xgb

out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
f = 20
X = rng.normal(size=(n, f))
y = X[:, 0] * 2 + np.sin(X[:, 1] * 3) + X[:, 2] * X[:, 3] + 0.5 * X[:, 4:].sum(axis=1)
y += rng.normal(scale=0.3, size=n)
X[rng.random(size=(n, f)) < 0.05] = np.nan
dmat = xgb.DMatrix(X, label=y, nthread=1)
params = {"tree_method": "hist", "max_depth": 6, "eta": 0.1, "nthread": 1, "seed": 0}
bst = xgb.train(params, dmat, num_boost_round=300)
bst.save_model(f"{out}/model.json")
X.astype("<f8").tofile(f"{out}/rows.f64")
bst.predict(dmat, pred_contribs=True, iteration_range=(0, 1))  # warm-up
start, cpu_start = time.perf_counter(), time.process_time()
contribs = bst.predict(dmat, pred_contribs=True)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
np.asarray(contribs[:100], dtype="<f8").tofile(f"{out}/contribs100.f64")
print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": n, "features": f}))
