#!/usr/bin/env python3
"""scikit-learn side of bench/models.ts (run by it; not meant to be run by hand).

    python3 bench/models_sklearn.py CONFIG.json

CONFIG.json (written by bench/models.ts) names the data files the TypeScript bench wrote and the
hyper-parameters its own models used:
    x            rows x cols float64, little-endian, row-major
    y            rows uint8 labels (1 = planted anomaly)
    ocsvmSample  int32 little-endian row indices of the exact One-Class SVM's training sample
    dbscanCols   DBSCAN runs on the first dbscanCols columns
    dbscanLabels output: int32 little-endian DBSCAN labels, for the label agreement computed in TypeScript
    repeat, threads, iforest/ocsvm/rff/kmeans/dbscan parameters

Prints ONE JSON object on stdout: versions, thread pools, and per model the best of `repeat` fit and score
wall times (time.perf_counter around fit and score only: no data loading, no imports, no Python start-up)
and the ROC-AUC of the scores (higher = more anomalous) against the labels. On a missing module or a
failure it prints {"error": "..."} and exits with status 2.
"""

import json
import platform
import sys
import time
import traceback
import warnings


def fail(msg):
    print(json.dumps({"error": msg}))
    sys.exit(2)


try:
    import numpy as np
    import sklearn
    from sklearn.cluster import DBSCAN, KMeans
    from sklearn.ensemble import IsolationForest
    from sklearn.kernel_approximation import RBFSampler
    from sklearn.linear_model import SGDOneClassSVM
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import NearestNeighbors
    from sklearn.svm import OneClassSVM
except ImportError as e:  # pragma: no cover - depends on the host
    fail(f"import failed: {e} (Debian/Ubuntu: apt-get install python3-sklearn)")

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_info = None
    threadpool_limits = None

warnings.filterwarnings("ignore")


def best(repeat, fn):
    """Best wall time of `repeat` calls of fn(), and the last result."""
    t = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        t = min(t, time.perf_counter() - t0)
    return t, out


def auc(y, scores):
    return float(roc_auc_score(y, scores))


def run(cfg):
    rows, cols, repeat = cfg["rows"], cfg["cols"], cfg["repeat"]
    x = np.fromfile(cfg["x"], dtype="<f8").reshape(rows, cols)
    y = np.fromfile(cfg["y"], dtype=np.uint8)
    sample = np.fromfile(cfg["ocsvmSample"], dtype="<i4")
    out = {}

    # Isolation Forest: score = -score_samples (higher = more anomalous), as ours.
    p = cfg["iforest"]
    mk = lambda: IsolationForest(  # noqa: E731
        n_estimators=p["trees"], max_samples=p["sampleSize"], random_state=p["seed"]
    )
    fit_s, m = best(repeat, lambda: mk().fit(x))
    score_s, s = best(repeat, lambda: -m.score_samples(x))
    out["iforest"] = {"fitSec": fit_s, "scoreSec": score_s, "rocAuc": auc(y, s)}

    # Exact One-Class SVM (libsvm) on the same sample as ours, scoring every row.
    p = cfg["ocsvm"]
    xs = np.ascontiguousarray(x[sample])
    mk = lambda: OneClassSVM(  # noqa: E731
        nu=p["nu"], gamma=p["gamma"], tol=p["tol"], shrinking=True, cache_size=p["cacheMb"]
    )
    fit_s, m = best(repeat, lambda: mk().fit(xs))
    score_s, s = best(repeat, lambda: -m.decision_function(x))
    out["ocsvm"] = {
        "fitSec": fit_s,
        "scoreSec": score_s,
        "rocAuc": auc(y, s),
        "trainedRows": int(xs.shape[0]),
        "nSupport": int(m.support_.shape[0]),
        "iterations": int(np.sum(m.n_iter_)),
    }

    # Random Fourier features + linear one-class SVM by SGD, the same number of passes as ours.
    p = cfg["rff"]

    def rff_fit():
        sampler = RBFSampler(gamma=p["gamma"], n_components=p["components"], random_state=p["seed"])
        z = sampler.fit_transform(x)
        svm = SGDOneClassSVM(
            nu=p["nu"], max_iter=p["epochs"], tol=None, shuffle=True, random_state=p["seed"]
        ).fit(z)
        return sampler, svm

    fit_s, (sampler, svm) = best(repeat, rff_fit)
    score_s, s = best(repeat, lambda: -svm.decision_function(sampler.transform(x)))
    out["ocsvmRff"] = {"fitSec": fit_s, "scoreSec": score_s, "rocAuc": auc(y, s), "epochs": p["epochs"]}

    # K-Means; score = distance to the nearest centre / that cluster's median training distance (ours'
    # normalize: 'median'): the medians are part of the fit.
    p = cfg["kmeans"]

    def km_fit():
        km = KMeans(n_clusters=p["k"], n_init=p["nInit"], max_iter=p["maxIter"], tol=p["tol"],
                    random_state=p["seed"]).fit(x)
        d = km.transform(x).min(axis=1)
        scale = np.ones(p["k"])
        for c in range(p["k"]):
            dc = d[km.labels_ == c]
            if dc.size and np.median(dc) > 0:
                scale[c] = np.median(dc)
        return km, scale

    fit_s, (km, scale) = best(repeat, km_fit)

    def km_score():
        d = km.transform(x)
        lab = d.argmin(axis=1)
        return d[np.arange(d.shape[0]), lab] / scale[lab]

    score_s, s = best(repeat, km_score)
    out["kmeans"] = {
        "fitSec": fit_s,
        "scoreSec": score_s,
        "rocAuc": auc(y, s),
        "inertia": float(km.inertia_),
        "iterations": int(km.n_iter_),
    }

    # DBSCAN on the first dbscanCols columns. Fit = the clustering; score = distance to the nearest core
    # point / eps (ours' DBSCAN.score), via a nearest-neighbour index over the core points.
    p = cfg["dbscan"]
    x2 = np.ascontiguousarray(x[:, : cfg["dbscanCols"]])
    fit_s, db = best(repeat, lambda: DBSCAN(eps=p["eps"], min_samples=p["minPts"]).fit(x2))
    cores = x2[db.core_sample_indices_]

    def db_score():
        nn = NearestNeighbors(n_neighbors=1).fit(cores)
        dist, _ = nn.kneighbors(x2)
        return dist[:, 0] / p["eps"]

    score_s, s = best(repeat, db_score)
    labels = db.labels_.astype("<i4")
    labels.tofile(cfg["dbscanLabels"])
    out["dbscan"] = {
        "fitSec": fit_s,
        "scoreSec": score_s,
        "rocAuc": auc(y, s),
        "clusters": int(labels.max() + 1),
        "noise": int(np.sum(labels == -1)),
        "cores": int(db.core_sample_indices_.shape[0]),
    }
    return out


def main():
    if len(sys.argv) != 2:
        fail("usage: models_sklearn.py CONFIG.json")
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    threads = cfg.get("threads")
    try:
        if threads and threadpool_limits is not None:
            with threadpool_limits(limits=int(threads)):
                models = run(cfg)
                pools = threadpool_info()
        else:
            models = run(cfg)
            pools = threadpool_info() if threadpool_info is not None else None
    except Exception as e:  # noqa: BLE001 - reported to the bench, which keeps going
        fail(f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
    print(
        json.dumps(
            {
                "python": platform.python_version(),
                "sklearn": sklearn.__version__,
                "numpy": np.__version__,
                "threadLimit": int(threads) if threads else None,
                "threadpools": [
                    {"api": p.get("user_api"), "lib": p.get("internal_api"), "threads": p.get("num_threads")}
                    for p in (pools or [])
                ],
                "models": models,
            }
        )
    )


if __name__ == "__main__":
    main()
