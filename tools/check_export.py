#!/usr/bin/env python3
"""Scores a `pdadmm export --inputs` archive with numpy alone and compares with the run's summary.json.

  tools/check_export.py MODEL.npz [--summary OUT/summary.json]

The forward pass in float64 (W_l a + b_l, ReLU but after the last layer) on each split's X; prints
the accuracy of train, val and test. With --summary, exits 1 when a split differs from the run's
figure by more than one node (a near tie of two logits may round either way against the run's
float32 BLAS). Needs numpy (pip install numpy, or apt-get install python3-numpy); pdadmm itself
does not.
"""
import sys
import zipfile

from tool_common import ArgumentParser, fail, import_or_fail, input_file, load_json, run_main


def scores(np, z):
    if "dims" not in z.files:
        fail("not a pdadmm export: no dims array")
    layers = len(z["dims"]) - 1
    if any("X_" + s not in z.files for s in ("train", "val", "test")):
        fail("the archive holds no inputs: export it with --inputs")
    out = {}
    for split in ("train", "val", "test"):
        a = z["X_" + split].astype(np.float64)
        for l in range(1, layers + 1):
            a = a @ z["W%d" % l].astype(np.float64).T + z["b%d" % l]
            if l < layers:
                a = np.maximum(a, 0)
        y = z["y_" + split]
        right = int((a.argmax(axis=1) == y).sum()) if len(y) else 0
        out[split] = (right, len(y))
    return out


def main():
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("npz", help="written by pdadmm export --inputs")
    ap.add_argument("--summary", help="the run's summary.json: its accuracies are compared")
    a = ap.parse_args()
    input_file(a.npz, "npz")
    if not zipfile.is_zipfile(a.npz):
        fail(a.npz + ": not a .npz archive (pdadmm export writes one)")
    summary = None
    if a.summary:
        input_file(a.summary, "--summary")
        summary = load_json(a.summary, "--summary")
        # Else "malformed input: missing key 'train'", no file named (a config given, say).
        for split in ("train", "val", "test"):
            if not isinstance(summary, dict) or not isinstance(summary.get(split), dict) or \
                    not isinstance(summary[split].get("acc"), (int, float)):
                fail(f"--summary {a.summary}: not a run's summary.json (no {split}.acc)")
    np = import_or_fail("numpy", "numpy", "check_export.py", debian="python3-numpy")
    with np.load(a.npz, allow_pickle=False) as z:
        got = scores(np, z)
    if summary is not None:  # before any line: a summary of another data set or split is one error
        for split, (_, n) in got.items():
            nodes = summary[split].get("nodes")
            if isinstance(nodes, int) and nodes != n:
                fail("--summary %s: its %s split has %d nodes, the archive's %d: another run's summary?"
                     % (a.summary, split, nodes, n))
    worst = 0
    for split, (right, n) in got.items():
        acc = right / n if n else 0.0
        line = "%-5s acc %.4f (%d of %d)" % (split, acc, right, n)
        if summary is not None:
            run = summary[split]["acc"]
            off = abs(right - round(run * n))
            worst = max(worst, off)
            line += "   summary.json %.4f (%+d nodes)" % (run, right - round(run * n))
        print(line)
    if summary is not None:
        if worst > 1:
            fail("the archive's scores differ from summary.json by %d nodes in a split" % worst)
        print("agrees with %s (within one node per split)" % a.summary)


if __name__ == "__main__":
    run_main(main)
