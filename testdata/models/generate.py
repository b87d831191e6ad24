#!/usr/bin/env python3
"""Golden fixtures for src/detect/models/*.test.ts, computed with scikit-learn.

Regenerate with:  /usr/bin/python3 testdata/models/generate.py   (run from the repository root)
Generated with scikit-learn 1.2.1 / numpy (Debian python3-sklearn). The data is drawn from fixed numpy
seeds and rounded to multiples of 1/1024, so every value is exact in float32 (scikit-learn's trees compare
float32 inputs) and in JSON.

  dbscan.json   DBSCAN(eps, min_samples, algorithm='kd_tree') labels and core flags on small data sets
  iforest.json  fitted IsolationForest trees exported to apiwarden's iforest JSON, with test rows and
                their scores (-score_samples, higher = more anomalous)
  kmeans.json   KMeans(n_init=10) centres and inertia on well-separated blobs (compared up to order)
  metrics.json  roc_auc_score and average_precision_score on scores with ties
  scale.json    StandardScaler / RobustScaler outputs (with and without log1p)
"""

import json
import os

import numpy as np
import sklearn
from sklearn.cluster import DBSCAN, KMeans
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import RobustScaler, StandardScaler

OUT = os.path.dirname(os.path.abspath(__file__))


def q(a):
    """Round to multiples of 1/1024 (exact in float32 and float64)."""
    return np.round(np.asarray(a, dtype=np.float64) * 1024) / 1024


def write(name, obj):
    obj = {"generator": "testdata/models/generate.py", "sklearn": sklearn.__version__, **obj}
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def dbscan_cases():
    cases = []
    # Hand-made: two unit squares (each corner has its two neighbours at distance exactly eps = 1, so all
    # eight are core with min_samples 3); the square listed first is cluster 0 although it lies to the
    # right; three noise points.
    x = [
        [5.0, 0.0], [6.0, 0.0], [5.0, 1.0], [6.0, 1.0],
        [0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0],
        [3.0, 0.5], [20.0, 20.0], [-9.0, 4.0],
    ]
    cases.append(("hand-squares", x, 1.0, 3))
    # A border point shared by two clusters: the last row (1, 0) is exactly eps = 1 from core (2, 0) of
    # cluster 0 and core (0, 0) of cluster 1 but has only 3 rows within eps (itself included), fewer than
    # min_samples 4; it goes to cluster 0, the first cluster that reaches it.
    x = [[2.0, 0.0], [2.5, 0.0], [2.0, 0.5], [2.0, -0.5], [2.5, 0.5],
         [0.0, 0.0], [-0.5, 0.0], [0.0, 0.5], [0.0, -0.5], [-0.5, 0.5],
         [1.0, 0.0]]
    cases.append(("hand-shared-border", x, 1.0, 4))
    rs = np.random.RandomState(7)
    blobs = [rs.normal(c, s, size=(n, 2)) for c, s, n in [((0, 0), 0.3, 120), ((3, 3), 0.5, 100), ((0, 4), 0.2, 60)]]
    noise = rs.uniform(-3, 6, size=(40, 2))
    x = q(np.vstack(blobs + [noise]))
    x = x[rs.permutation(len(x))]
    cases.append(("blobs-2d", x.tolist(), 0.3, 5))
    cases.append(("blobs-2d-minpts1", x.tolist(), 0.15, 1))
    x3 = q(np.vstack([rs.normal(0, 1, size=(150, 3)), rs.normal(5, 0.5, size=(50, 3))]))
    cases.append(("gauss-3d", x3.tolist(), 0.8, 6))
    # Many duplicates.
    xd = q(rs.randint(0, 4, size=(80, 2)) * 0.5)
    cases.append(("duplicates", xd.tolist(), 0.3, 6))
    out = []
    for name, x, eps, minpts in cases:
        a = np.asarray(x, dtype=np.float64)
        m = DBSCAN(eps=eps, min_samples=minpts, algorithm="kd_tree").fit(a)
        brute = DBSCAN(eps=eps, min_samples=minpts, algorithm="brute").fit(a)
        assert (m.labels_ == brute.labels_).all(), name  # no distance exactly at eps up to rounding
        core = np.zeros(len(a), dtype=int)
        core[m.core_sample_indices_] = 1
        out.append({"name": name, "eps": eps, "minPts": minpts, "x": a.tolist(),
                    "labels": m.labels_.tolist(), "core": core.tolist()})
    write("dbscan.json", {"cases": out})


def iforest_export(model, cols):
    """sklearn's fitted trees as apiwarden's iforest JSON (nodes of all trees concatenated)."""
    subsample = model._max_features != cols
    roots, feature, threshold, left, right, size = [], [], [], [], [], []
    for est, feats in zip(model.estimators_, model.estimators_features_):
        t = est.tree_
        base = len(feature)
        roots.append(base)
        for i in range(t.node_count):
            leaf = t.children_left[i] == -1
            f = -1 if leaf else int(t.feature[i])
            if f >= 0 and subsample:
                f = int(feats[f])
            feature.append(f)
            threshold.append(0.0 if leaf else float(t.threshold[i]))
            left.append(-1 if leaf else base + int(t.children_left[i]))
            right.append(-1 if leaf else base + int(t.children_right[i]))
            size.append(int(t.n_node_samples[i]))
    return {"kind": "iforest", "version": 1, "cols": cols, "sampleSize": int(model.max_samples_),
            "maxFeatures": int(model._max_features), "seed": 0, "roots": roots, "feature": feature,
            "threshold": threshold, "left": left, "right": right, "size": size}


def iforest_cases():
    rs = np.random.RandomState(11)
    out = []
    for name, max_features in [("all-features", 1.0), ("half-features", 0.5)]:
        x = q(rs.normal(0, 1, size=(400, 4)))
        x[:5, 2] += 6  # a few outliers
        test = q(np.vstack([rs.normal(0, 1, size=(40, 4)), rs.normal(0, 4, size=(10, 4)), x[:5]]))
        m = IsolationForest(n_estimators=12, max_samples=64, max_features=max_features, random_state=3).fit(x)
        out.append({"name": name, "model": iforest_export(m, 4), "x": test.tolist(),
                    "scores": (-m.score_samples(test)).tolist()})
    write("iforest.json", {"cases": out})


def kmeans_cases():
    rs = np.random.RandomState(5)
    centres = np.array([[0, 0, 0], [8, 0, 2], [0, 9, -3], [7, 7, 7]], dtype=float)
    x = q(np.vstack([rs.normal(c, 0.6, size=(80, 3)) for c in centres]))
    x = x[rs.permutation(len(x))]
    m = KMeans(n_clusters=4, n_init=10, random_state=0).fit(x)
    write("kmeans.json", {"x": x.tolist(), "k": 4, "centers": m.cluster_centers_.tolist(),
                          "inertia": float(m.inertia_)})


def metrics_cases():
    rs = np.random.RandomState(2)
    cases = []
    cases.append(([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]))
    cases.append(([1, 1, 1, 1], [0, 1, 0, 1]))
    cases.append(([0.5, 0.5, 0.2, 0.9, 0.9, 0.1], [1, 0, 0, 1, 0, 1]))
    s = np.round(rs.uniform(0, 1, 300) * 20) / 20  # many ties
    y = (rs.uniform(0, 1, 300) < 0.2 + 0.5 * s).astype(int)
    cases.append((s.tolist(), y.tolist()))
    s = rs.normal(0, 1, 500)
    y = (rs.uniform(0, 1, 500) < 0.1).astype(int)
    cases.append((s.tolist(), y.tolist()))
    out = [{"scores": list(map(float, s)), "labels": list(map(int, y)), "rocAuc": float(roc_auc_score(y, s)),
            "averagePrecision": float(average_precision_score(y, s))} for s, y in cases]
    write("metrics.json", {"cases": out})


def scale_cases():
    rs = np.random.RandomState(9)
    x = np.column_stack([
        rs.normal(10, 3, 100),
        rs.exponential(50, 100),
        rs.randint(0, 1000, 100).astype(float),
    ])
    x = q(x)
    logged = x.copy()
    logged[:, 1] = np.log1p(logged[:, 1])
    write("scale.json", {
        "x": x.tolist(),
        "standard": StandardScaler().fit_transform(x).tolist(),
        "robust": RobustScaler().fit_transform(x).tolist(),
        "robustLog1": RobustScaler().fit_transform(logged).tolist(),
    })


if __name__ == "__main__":
    dbscan_cases()
    iforest_cases()
    kmeans_cases()
    metrics_cases()
    scale_cases()
