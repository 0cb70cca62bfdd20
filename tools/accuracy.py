#!/usr/bin/env python3
"""Runs one config over several seeds and reports test accuracy as mean +- std.

Usage: tools/accuracy.py CONFIG [--seeds 0,100,200,300,400] [--set key=value ...]
                         [--binary build/pdadmm] [--out runs/accuracy/NAME] [--json FILE]
Each seed trains with `pdadmm train --set seed=S` (weights; the data split stays that of
data.split_seed) into OUT/seed_S. Prints one line per seed, then mean +- std (population std,
as numpy's default) of the last-iterate test and validation accuracy and the seconds the whole
run took, and writes them as JSON (default OUT/accuracy.json). Standard library only.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time


def mean_std(xs):
    m = sum(xs) / len(xs)
    return m, math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--seeds", default="0,100,200,300,400", help="comma-separated (reference: 0,100,...,400)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="passed to pdadmm train")
    ap.add_argument("--binary", default=os.path.join(root, "build", "pdadmm"))
    ap.add_argument("--out", help="output folder (default runs/accuracy/<config name>)")
    ap.add_argument("--json", help="result file (default OUT/accuracy.json)")
    a = ap.parse_args()
    try:
        seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
    except ValueError:
        sys.exit("error: --seeds: expected comma-separated integers, got " + repr(a.seeds))
    if not seeds:
        sys.exit("error: --seeds: no seed given")
    if not os.access(a.binary, os.X_OK):
        sys.exit("error: --binary: " + a.binary + " is not an executable (build first, e.g. tools/build.sh)")
    if not os.path.isfile(a.config):
        sys.exit("error: config " + a.config + " does not exist")
    name = os.path.splitext(os.path.basename(a.config))[0]
    out = a.out or os.path.join("runs", "accuracy", name)
    os.makedirs(out, exist_ok=True)

    runs = []
    t0 = time.time()
    for s in seeds:
        d = os.path.join(out, "seed_%d" % s)
        cmd = [a.binary, "train", "--config", a.config, "--out", d, "--set", "seed=%d" % s,
               "--set", "output.progress=\"off\"", "--set", "output.checkpoint=false"]
        for kv in a.set:
            cmd += ["--set", kv]
        t = time.time()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            sys.stdout.write(p.stdout)
            sys.exit("error: seed %d: pdadmm exited with %d" % (s, p.returncode))
        with open(os.path.join(d, "summary.json")) as f:
            sm = json.load(f)
        r = {"seed": s, "test_acc": sm["test"]["acc"], "val_acc": sm["val"]["acc"], "train_acc": sm["train"]["acc"],
             "seconds": time.time() - t}
        runs.append(r)
        print("seed %-4d test %.4f  val %.4f  train %.4f  %.1f s" % (s, r["test_acc"], r["val_acc"], r["train_acc"],
                                                                     r["seconds"]), flush=True)
    total = time.time() - t0
    tm, ts = mean_std([r["test_acc"] for r in runs])
    vm, vs = mean_std([r["val_acc"] for r in runs])
    print("%s: test %.4f +- %.4f  val %.4f +- %.4f  (%d seeds, %.1f s in all)" % (name, tm, ts, vm, vs, len(runs), total))
    res = {"config": a.config, "sets": a.set, "seeds": seeds, "runs": runs, "test_mean": tm, "test_std": ts,
           "val_mean": vm, "val_std": vs, "seconds_total": total}
    path = a.json or os.path.join(out, "accuracy.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
