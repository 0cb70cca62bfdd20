#!/usr/bin/env python3
"""Runs one config over several seeds and reports test accuracy as mean +- std.

Usage: tools/accuracy.py CONFIG [--seeds 0,100,200,300,400] [--split-seeds 0,1,2 | --val-splits 0,1,2]
                         [--set key=value ...] [--data DIR] [--binary build/pdadmm]
                         [--out runs/accuracy/NAME] [--json FILE]
Each seed trains with `pdadmm train --set seed=S` (weights; the data split stays that of
data.split_seed; the synthetic set draws its graph, features and split from the seed too, so its
spread is the data's as well) into OUT/seed_S. Prints one line per seed, then mean +- std (population std,
as numpy's default) of the last-iterate test and validation accuracy and the seconds the whole
run took, and writes them as JSON (default OUT/accuracy.json). Standard library only.
--split-seeds (npz data sets only: Planetoid splits are fixed, synthetic ones follow the seed) repeats every seed
on each split (`--set data.split_seed=K`, into OUT/split_K/seed_S) and adds a mean per split;
the overall mean +- std then runs over all splits and seeds.
--val-splits does the same with train and validation redrawn outside the standard test set
(`--set data.val_split_seed=K`, into OUT/val_split_K/seed_S; any data set): for choosing
hyperparameters on several validation sets while the test nodes stay out of the choice.
--against BASE.json (an earlier accuracy.json on the same seeds and splits) pairs the runs by
split and seed and prints the mean change in validation and test accuracy, validation also in
nodes with how many pairs got better, tied or worse: how the selection rule in docs/data.md is applied.
"""
import json
import math
import os
import re
import subprocess
import sys
import time

from tool_common import (BINARY_DEFAULT, ArgumentParser, default_binary, fail, input_file, int_list, load_json,
                         no_duplicates, output_folder, pass_on_said, read_config, read_result, remove_stale,
                         replaceable_result, require_binary, run_child, run_failed, run_main, writable_file,
                         write_json)

# What accuracy.py writes, for its --json to replace: a sitting's result.
OWN_RESULT = ("a result of accuracy.py", lambda o: isinstance(o, dict) and "seeds" in o and "runs" in o)

NPZ_SETS = ("amazon_computers", "amazon_photo", "coauthor_cs", "npz", "files")  # the sets data.split_seed splits


def mean_std(xs):
    m = sum(xs) / len(xs)
    return m, math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))


def spread(std, n):
    """A std as printed: n/a for one run (its 0 is no spread)."""
    return "n/a" if n < 2 else "%.4f" % std


def accuracy_stats(runs):
    """Mean and std of test and validation accuracy over runs."""
    tm, ts = mean_std([r["test_acc"] for r in runs])
    vm, vs = mean_std([r["val_acc"] for r in runs])
    return {"test_mean": tm, "test_std": ts, "val_mean": vm, "val_std": vs}


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def join_lists(argv, flags):
    """`--seeds 0 100 200` (quant_table.py's form) as `--seeds 0,100,200`: the integers after a list
    flag join its value; the first other word (the config) ends the list."""
    out, i = [], 0
    while i < len(argv):
        out.append(argv[i])
        if argv[i] in flags and i + 1 < len(argv):
            words = [argv[i + 1]]
            i += 2
            while i < len(argv) and re.fullmatch(r"[0-9]+(,[0-9]+)*,?", argv[i]):
                words.append(argv[i])
                i += 1
            out.append(",".join(w.strip(",") for w in words))
            continue
        i += 1
    return out


def where(k, s):
    return "seed %d" % s if k is None else "split %d seed %d" % (k, s)


def load_base(path, keys, key):
    """The runs of an earlier accuracy.json by (split, seed); one clear error if a key is missing,
    or if its runs are on another kind of split (pairing them would compare different nodes)."""
    j = load_json(path, "--against")
    try:
        runs = j["runs"]
        base = {(r.get(key), r["seed"]): r for r in runs}
        numbers = all(isinstance(r[f], (int, float)) for r in runs for f in ("val_acc", "test_acc", "val_nodes"))
    except KeyError as e:  # said as the key missing, not as Python's KeyError('val_acc')
        sys.exit("error: --against %s: not an accuracy.json (no \"%s\" %s)"
                 % (path, e.args[0], "at the top" if e.args[0] == "runs" else "in a run"))
    except (TypeError, AttributeError):
        sys.exit("error: --against %s: not an accuracy.json (\"runs\" must be a list of objects)" % path)
    kinds = {k for r in runs for k in ("split_seed", "val_split_seed") if k in r}
    mine = set() if keys[0][0] is None else {key}
    if kinds != mine:
        sys.exit("error: --against %s: its runs are on %s, these on %s; they cannot be paired"
                 % (path, " and ".join(sorted(kinds)) or "the config's split", " and ".join(sorted(mine)) or "the config's split"))
    if not numbers or len(base) != len(runs):
        sys.exit("error: --against %s: not an accuracy.json (non-numeric accuracies or a run twice)" % path)
    for k, s in keys:
        if (k, s) not in base:
            sys.exit("error: --against %s: it has no run for %s" % (path, where(k, s)))
    return base


def paired_change(runs, base, key):
    """Mean change against base, pair by pair; validation also in nodes (rounded per pair)."""
    pairs = [(r, base[(r.get(key), r["seed"])]) for r in runs]
    dv = [r["val_acc"] - b["val_acc"] for r, b in pairs]
    nodes = [round(d * r["val_nodes"]) for d, (r, _) in zip(dv, pairs)]
    return {"val_change": sum(dv) / len(dv), "test_change": sum(r["test_acc"] - b["test_acc"] for r, b in pairs) / len(pairs),
            "val_nodes_change": sum(nodes), "better": sum(n > 0 for n in nodes), "tied": sum(n == 0 for n in nodes),
            "worse": sum(n < 0 for n in nodes)}


def data_name(config, sets):
    """data.name as pdadmm will see it: the config's, unless a --set overrides it."""
    data = read_config(config).get("data", {})
    name = data.get("name", "synthetic") if isinstance(data, dict) else "synthetic"  # pdadmm names a bad one
    for kv in sets:
        key, _, value = kv.partition("=")
        if key.strip() == "data.name":
            try:
                name = json.loads(value)
            except (ValueError, RecursionError):  # pdadmm names a bad one
                name = value
    return name


def main():
    ap = ArgumentParser(description=__doc__.splitlines()[0],
                        epilog="The real data sets are read from --data, else the config's data.root, else "
                        "$PDADMM_DATA, else ./data (pdadmm train's order).")
    ap.add_argument("config", help="the pdadmm config to train")
    ap.add_argument("--seeds", default="0,100,200,300,400",
                    help="comma- or space-separated (reference: 0,100,...,400)")
    ap.add_argument("--split-seeds", help="data.split_seed values, comma- or space-separated (npz data sets)")
    ap.add_argument("--val-splits",
                    help="data.val_split_seed values, comma- or space-separated (train/val redrawn, test kept)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="passed to pdadmm train")
    ap.add_argument("--data", metavar="DIR", help="the data folder, passed to pdadmm train (default $PDADMM_DATA)")
    ap.add_argument("--binary", "--pdadmm", dest="binary", default=default_binary(),
                    help=f"the pdadmm binary (default {BINARY_DEFAULT})")  # --pdadmm: sweep.py's name
    ap.add_argument("--out", help="output folder (default runs/accuracy/<config name>)")
    ap.add_argument("--json", help="result file (default OUT/accuracy.json)")
    ap.add_argument("--against", metavar="BASE.json", help="an earlier accuracy.json: print the paired change")
    a = ap.parse_args(join_lists(sys.argv[1:], ("--seeds", "--split-seeds", "--val-splits")))
    seeds = int_list("--seeds", a.seeds)
    if min(seeds) < 0:  # pdadmm refuses it, but only at its turn, after the earlier seeds' runs
        fail("--seeds: %d: a seed is an integer >= 0" % min(seeds))
    no_duplicates(seeds, "--seeds")
    if a.json:
        writable_file(a.json, "--json", OWN_RESULT)
    require_binary(a.binary, "--binary")
    input_file(a.config, "config")
    splits, key, folder = [None], "split_seed", "split_%d"
    if a.split_seeds is not None and a.val_splits is not None:
        sys.exit("error: --split-seeds and --val-splits: give one of them")
    if a.split_seeds is not None:
        splits = int_list("--split-seeds", a.split_seeds)
        ds = data_name(a.config, a.set)
        if ds not in NPZ_SETS:
            sys.exit("error: --split-seeds: data set %r %s; data.split_seed applies to %s"
                     % (ds, "draws its graph, features and split from seed (--seeds)" if ds == "synthetic"
                        else "has a fixed split", ", ".join(NPZ_SETS)))
    if a.val_splits is not None:
        splits, key, folder = int_list("--val-splits", a.val_splits), "val_split_seed", "val_split_%d"
    no_duplicates(splits, "--split-seeds" if a.split_seeds is not None else "--val-splits")
    # What each run sets itself: a --set of it made every run the same (seed: the report still named
    # five seeds, std 0) or was overridden without a word (a split seed).
    own = {"seed": "--seeds"}
    if a.split_seeds is not None or a.val_splits is not None:
        own["data." + key] = "--split-seeds" if a.split_seeds is not None else "--val-splits"
    for kv in a.set:
        k = kv.split("=", 1)[0].strip()
        if k in own:
            fail("--set %s: each run sets %s from %s; give the values there" % (kv, k, own[k]))
    name = os.path.splitext(os.path.basename(a.config))[0]
    out = a.out or os.path.join("runs", "accuracy", name)
    output_folder(out, "--out")

    keys = [(k, s) for k in splits for s in seeds]
    result = a.json or os.path.join(out, "accuracy.json")
    if a.against is not None:  # the candidate overwrote its baseline's file and runs without a word
        real = os.path.realpath(a.against)
        if real == os.path.realpath(result):
            fail("--against %s: is this sitting's own result file, which it would overwrite; copy it away or "
                 "give --out (or --json) another path" % a.against)
        if os.path.dirname(real) == os.path.realpath(out):  # the numbers stay; the runs behind them do not
            print("note: --against %s is in --out's folder %s, whose seed folders this sitting replaces (the "
                  "baseline's runs)" % (a.against, out), flush=True)
    base = None if a.against is None else load_base(a.against, keys, key)
    replaceable_result(result, "--json" if a.json else "--out", *OWN_RESULT)
    remove_stale(result)  # an earlier sitting's, which an interrupted one left beside its own runs
    runs = []
    versions = {}  # each build that ran, with the first run it ran (summary.json's version)
    t0 = time.time()
    for k, s in keys:
        d = os.path.join(out, "seed_%d" % s) if k is None else os.path.join(out, folder % k, "seed_%d" % s)
        cmd = [a.binary, "train", "--config", a.config, "--out", d, "--set", "seed=%d" % s,
               "--set", "output.progress=\"off\"", "--set", "output.checkpoint=false"]
        for kv in a.set:
            cmd += ["--set", kv]
        if a.data is not None:
            cmd += ["--data", a.data]
        if k is not None:
            cmd += ["--set", "data.%s=%d" % (key, k)]
        t = time.time()
        # Each run starts afresh: an earlier one's state.bin (a stopped run) would be refused as a forgotten --resume.
        for stale in ("summary.json", "state.bin"):
            remove_stale(os.path.join(d, stale))
        p = run_child(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:  # pdadmm's own error line, with the run it came from
            run_failed(where(k, s), p.stdout, p.returncode)
        said = pass_on_said(p.stdout, where(k, s))
        sm = read_result(os.path.join(d, "summary.json"), "%s: %s" % (where(k, s), a.binary))
        r = {"seed": s, "test_acc": sm["test"]["acc"], "val_acc": sm["val"]["acc"], "train_acc": sm["train"]["acc"],
             "val_nodes": sm["val"]["nodes"], "seconds": time.time() - t}
        if said:
            r["said"] = said
        versions.setdefault("pdadmm " + str(sm.get("version", "?")), where(k, s))
        if k is not None:
            r[key] = k
        runs.append(r)
        print(("" if k is None else "split %-4d " % k) + "seed %-4d test %.4f  val %.4f  train %.4f  %.1f s"
              % (s, r["test_acc"], r["val_acc"], r["train_acc"], r["seconds"]), flush=True)
    total = time.time() - t0
    per_split = []
    if splits != [None]:
        for k in splits:
            st = accuracy_stats([r for r in runs if r[key] == k])
            per_split.append(dict({key: k}, **st))
            n = len(seeds)
            print("split %-4d test %.4f +- %s  val %.4f +- %s"
                  % (k, st["test_mean"], spread(st["test_std"], n), st["val_mean"], spread(st["val_std"], n)))
    st = accuracy_stats(runs)
    what = plural(len(seeds), "seed")
    if splits != [None]:
        what = plural(len(splits), "split") + " x " + what
    # Population std (numpy's default), said so: about 11 % below the sample std on 5 runs.
    print("%s: test %.4f +- %s  val %.4f +- %s  (%s, population std, %.1f s in all)"
          % (name, st["test_mean"], spread(st["test_std"], len(runs)), st["val_mean"], spread(st["val_std"], len(runs)),
             what, total))
    # The builds that ran, from the runs' own summaries: `--version` after the last run named a
    # rebuild during a long sitting as the build of every run.
    if len(versions) > 1:
        print("warning: the runs are from %d builds of pdadmm (rebuilt during the sitting?): %s"
              % (len(versions), "; ".join("%s from %s" % (v, w) for v, w in versions.items())), flush=True)
    version = next(iter(versions)) if len(versions) == 1 else sorted(versions)
    res = dict({"config": a.config, "sets": a.set, "seeds": seeds, "runs": runs, "binary": version}, **st,
               std="population", seconds_total=total)
    if per_split:
        res[key + "s"] = splits
        res["per_split"] = per_split
    if base is not None:
        ch = paired_change(runs, base, key)
        # Per run too: the tuning rule (docs/data.md) and tables count nodes per run, not in all.
        print("against %s: validation %+.4f (%+d nodes in %d runs, %+.1f per run: %d better, %d tied, %d worse), "
              "test %+.4f" % (a.against, ch["val_change"], ch["val_nodes_change"], len(runs),
                              ch["val_nodes_change"] / len(runs), ch["better"], ch["tied"], ch["worse"],
                              ch["test_change"]))
        res["against"] = dict({"base": a.against}, **ch)
    write_json(result, res)


if __name__ == "__main__":
    run_main(main)
