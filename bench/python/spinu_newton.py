"""Independent dense Newton for risk budgeting in numpy, the baseline of `npm run bench -- solver`.

Spinu (2013): minimise f(x) = 1/2 x'Cx - sum b_i ln x_i on the correlation matrix C, with damped Newton
steps (1/(1 + lambda) while the Newton decrement lambda > 0.25, full steps after) from
x0 = 1/sqrt(1'C1), each step a dense LAPACK solve (np.linalg.solve). Stops at max |RC_i/sigma - b_i| < 1e-12,
the target the TypeScript solver aims for. Written plainly from the paper, sharing no code with Ballast.

usage: python3 spinu_newton.py MATRIX.f64 N REPEATS OUT.f64
  MATRIX.f64  N*N float64 (little-endian, row-major) covariance
  prints one JSON line: CPU milliseconds per solve (median), iterations, budget error, BLAS library
  OUT.f64     the weights (float64)
"""
import json
import sys
import time

import numpy as np


def solve(cov, b, target=1e-12, max_iterations=100):
    sigma = np.sqrt(np.diag(cov))
    c = cov / np.outer(sigma, sigma)
    x = np.full(len(b), 1.0 / np.sqrt(c.sum()))
    iterations = 0
    while True:
        cx = c @ x
        rc = x * cx
        error = np.max(np.abs(rc / rc.sum() - b))
        if error < target or iterations >= max_iterations:
            break
        gradient = cx - b / x
        hessian = c + np.diag(b / x**2)
        step = np.linalg.solve(hessian, gradient)
        decrement = np.sqrt(gradient @ step)
        x = x - (1.0 / (1.0 + decrement) if decrement > 0.25 else 1.0) * step
        iterations += 1
    w = x / sigma
    return w / w.sum(), iterations, float(error)


def blas_library():
    try:
        with open("/proc/self/maps") as maps:
            names = {line.split()[-1].rsplit("/", 1)[-1] for line in maps if "blas" in line}
        return ",".join(sorted(names)) or "unknown"
    except OSError:
        return "unknown"


def main():
    path, n, repeats, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    cov = np.fromfile(path, dtype="<f8").reshape(n, n)
    b = np.full(n, 1.0 / n)
    times = []
    for _ in range(repeats):
        start = time.process_time()
        weights, iterations, error = solve(cov, b)
        times.append((time.process_time() - start) * 1e3)
    weights.astype("<f8").tofile(out)
    print(json.dumps({
        "cpuMs": float(np.median(times)),
        "firstMs": times[0],
        "iterations": iterations,
        "budgetError": error,
        "numpy": np.__version__,
        "blas": blas_library(),
    }))


if __name__ == "__main__":
    main()
