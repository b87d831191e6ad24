#!/usr/bin/env python3
"""Golden fixtures for src/detect/models/ocsvm.test.ts: scikit-learn's OneClassSVM on small seeded data sets.

Run from the repo root:  python3 testdata/models/ocsvm-golden.py
Writes testdata/models/ocsvm-<name>.json with the training data, extra query rows, sklearn's decision_function
on both, n_support, rho (= offset_ = -intercept_), the resolved gamma and the support indices.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.svm import OneClassSVM

HERE = os.path.dirname(os.path.abspath(__file__))


def dataset(seed, n, cols, outliers):
    rng = np.random.RandomState(seed)
    inl = rng.randn(n - outliers, cols)
    inl[: (n - outliers) // 3] += 2.5  # a second, smaller cluster
    out = rng.uniform(-6, 6, size=(outliers, cols))
    x = np.vstack([inl, out])
    rng.shuffle(x)
    query = rng.uniform(-5, 5, size=(60, cols))
    return x, query


def golden(name, seed, n, cols, outliers, nu, gamma):
    x, query = dataset(seed, n, cols, outliers)
    m = OneClassSVM(nu=nu, gamma=gamma, tol=1e-3, shrinking=True, cache_size=200).fit(x)
    doc = {
        "generator": "testdata/models/ocsvm-golden.py",
        "sklearn": sklearn.__version__,
        "nu": nu,
        "gamma": gamma,
        "gammaValue": float(m._gamma),
        "data": x.tolist(),
        "query": query.tolist(),
        "decisionTrain": m.decision_function(x).tolist(),
        "decisionQuery": m.decision_function(query).tolist(),
        "nSupport": int(m.n_support_[0]),
        "rho": float(m.offset_[0]),
        "intercept": float(m.intercept_[0]),
        "dualCoefSum": float(m.dual_coef_.sum()),
        "support": m.support_.tolist(),
        "nIter": int(np.asarray(m.n_iter_).ravel()[0]),
    }
    path = os.path.join(HERE, f"ocsvm-{name}.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    print(path, "n_support", doc["nSupport"], "rho", doc["rho"], "iter", doc["nIter"])


golden("gamma05", seed=1, n=300, cols=3, outliers=15, nu=0.1, gamma=0.5)
golden("scale", seed=2, n=300, cols=3, outliers=15, nu=0.1, gamma="scale")
golden("nu03", seed=3, n=800, cols=4, outliers=40, nu=0.3, gamma="scale")
# A narrow kernel: thousands of SMO iterations, so libsvm's shrinking and gradient reconstruction take part.
golden("shrink", seed=4, n=1200, cols=2, outliers=30, nu=0.2, gamma=20.0)
