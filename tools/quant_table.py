#!/usr/bin/env python3
"""pdADMM-G-Q wire table: trains one config as fp32 pdADMM-G and as -Q with each codec, then
prints test accuracy, bytes per iteration, the ratio to fp32 pdADMM-G and seconds per iteration,
and writes the rows as JSON (--out).

Every run uses the same model, data, seed and groups (default: one group per layer, so every
layer boundary crosses the wire). Numbers come from each run's OUT/summary.json.

  tools/quant_table.py --pdadmm build/pdadmm --config configs/synthetic.json --out quant.json
  tools/quant_table.py --config configs/cora.json --grid '{"min": 0, "max": 2, "levels": 16}'
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import shutil
import tempfile

from tool_common import (BINARY_DEFAULT, ROOT, ArgumentParser, config_layers, default_binary, fail, input_file,
                         int_list, no_duplicates, output_folder, parse_json, pass_on_said, read_config, read_result,
                         remove_stale, require_binary, run_child, run_failed, run_main, writable_file, write_json)

Q = 'algorithm="pdadmm-g-q"'
DEFAULT_GRID = '{"min": 0, "max": 2, "levels": 16}'


def rows_to_run(grid):
    """(name, overrides); every key that differs between rows is set, so the config's own -Q
    settings (if any) do not leak into a row."""
    def q_row(quantize, p, q):
        return [Q, "admm.grid=" + grid, 'admm.quantize="%s"' % quantize, 'admm.wire.p="%s"' % p,
                'admm.wire.q="%s"' % q]
    rows = [("pdadmm-g fp32", ['algorithm="pdadmm-g"', 'admm.quantize="none"', 'admm.wire.p="fp32"',
                               'admm.wire.q="fp32"'])]
    rows.append(("-Q p codes, q fp32", q_row("p", "codes", "fp32")))
    rows.append(("-Q q codes, p fp32", q_row("q", "fp32", "codes")))
    rows.append(("-Q both codes", q_row("both", "codes", "codes")))
    for w in ("fp16", "bf16", "int8"):
        rows.append(("-Q p codes, q " + w, q_row("p", "codes", w)))
    for w in ("fp16", "bf16", "int8"):
        rows.append(("-Q q codes, p " + w, q_row("q", w, "codes")))
    return rows


def train(binary, config, sets, out_dir):
    cmd = [binary, "train", "--config", config, "--out", out_dir]
    for s in sets + ['output.progress="off"', "output.checkpoint=false"]:
        cmd += ["--set", s]
    # Each run starts afresh: an earlier one's state.bin (a stopped run) would be refused as a forgotten --resume.
    for stale in ("summary.json", "state.bin"):
        remove_stale(os.path.join(out_dir, stale))
    r = run_child(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:  # pdadmm's own error line, with the run it came from
        run_failed("run %s" % out_dir, r.stdout, r.returncode)
    pass_on_said(r.stdout, "run %s" % out_dir)
    return read_result(os.path.join(out_dir, "summary.json"), binary)


def check_rows(binary, config, sets):
    """`pdadmm info` with a -Q row's settings: a --grid or --set pdadmm refuses is named before the
    fp32 row trains (it failed at the first -Q row, after the fp32 runs)."""
    cmd = [binary, "info", "--config", config]
    for s in sets:
        cmd += ["--set", s]
    r = run_child(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        run_failed("the -Q rows' settings", r.stdout, r.returncode)


def main():
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdadmm", "--binary", dest="pdadmm", default=default_binary(),
                    help=f"the pdadmm binary (default {BINARY_DEFAULT}; --binary as in accuracy.py)")
    # The default is the repository's (as sweep.py's "base"): from the current folder it was "no such file" elsewhere.
    ap.add_argument("--config", default=os.path.join(ROOT, "configs", "synthetic.json"),
                    help="the pdadmm config (default configs/synthetic.json), the repository's from any folder")
    ap.add_argument("--grid", help="admm.grid of the -Q runs, as JSON (default: the config's admm.grid, else 16 "
                    "uniform levels on [0, 2])")
    ap.add_argument("--groups", type=int, help="layer groups, 2 up to model.layers (default: one per layer)")
    ap.add_argument("--seeds", nargs="+", default=["0"],
                    help="seeds to train each row with, space- or comma-separated (accuracy.py's form); accuracy and "
                    "time are their mean")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="extra key=value for every run")
    ap.add_argument("--rows", nargs="+", default=[],
                    help="only the rows whose name contains one of these (the fp32 row always runs)")
    ap.add_argument("--work", default="", help="folder for the runs' outputs (default: a temporary one)")
    ap.add_argument("--out", default="", help="write the rows as JSON here")
    a = ap.parse_args()
    a.seeds = int_list("--seeds", a.seeds)
    require_binary(a.pdadmm, "--pdadmm")
    input_file(a.config, "--config")
    if a.out:  # its own earlier table only: a config or data file given by mistake was replaced
        writable_file(a.out, "--out", ("a table of quant_table.py", lambda o: isinstance(o, list) and all(
            isinstance(r, dict) and "name" in r and "bytes_per_iter" in r for r in o)))
    no_duplicates(a.seeds, "--seeds")
    if min(a.seeds) < 0:  # pdadmm refuses it, but only at its turn, after the earlier rows' runs
        fail("--seeds: %d: a seed is an integer >= 0" % min(a.seeds))
    # What every row sets itself: a --set of it was overridden without a word (the rows' settings
    # come after the user's), so a run's config.json said seed 0 where --set seed=7 was asked.
    own = {"seed": "--seeds", "groups": "--groups", "partition": "--groups", "algorithm": "--rows",
           "admm.quantize": "--rows", "admm.grid": "--grid", "admm.wire": "--rows", "admm.wire.p": "--rows",
           "admm.wire.q": "--rows"}
    for kv in a.sets:
        k = kv.split("=", 1)[0].strip()
        # The key itself, one under it (admm.grid.levels) or one above it (admm): each lost to the rows'.
        hit = next((o for o in own if k == o or k.startswith(o + ".") or o.startswith(k + ".")), None)
        if hit:
            fail("--set %s: every row sets %s itself; choose it with %s" % (kv, hit, own[hit]))
    cfg = read_config(a.config, "--config")
    if a.grid is None:  # the config's own grid: cora_q.json's 64 levels, not a 16-level stand-in
        admm = cfg.get("admm", {})
        own_grid = admm.get("grid") if isinstance(admm, dict) else None
        a.grid = json.dumps(own_grid) if own_grid is not None else DEFAULT_GRID
        a.grid_from = "the config's" if own_grid is not None else "the default"
    else:
        a.grid_from = "--grid"
    names = [name for name, _ in rows_to_run("{}")]
    for x in a.rows:
        if not any(x in name for name in names[1:]):
            sys.exit("error: --rows: '%s' matches no -Q row (rows: %s)" % (x, "; ".join(names[1:])))
    parse_json(a.grid, "--grid")
    if a.groups is None:  # one group per layer: too few layers are the config's or the --set's, not --groups'
        groups = config_layers(cfg, a.sets, "--config " + a.config)
        given = [kv for kv in a.sets if kv.split("=", 1)[0].strip() == "model.layers"]
        if groups < 2:
            fail("%s: model.layers %d: must be in [2, 10000] (pdadmm's bounds; the default --groups is one per layer)"
                 % ("--set " + given[-1] if given else "--config " + a.config, groups))
    else:
        groups = a.groups
    if groups < 1:  # it was "with one group …" for 0 and -3 too
        fail("--groups %d: the layer groups the model is split into are 1 or more (default: one per layer)" % groups)
    if groups < 2:
        fail("--groups %d: with one group nothing crosses the wire, so every row would move 0 bytes" % groups)
    check_rows(a.pdadmm, a.config, a.sets + ["groups=%d" % groups, "partition=[]"] + rows_to_run(a.grid)[3][1])
    if a.work:
        output_folder(a.work, "--work")
    work = a.work or tempfile.mkdtemp(prefix="quant_table_")
    try:
        table(a, groups, work)
    finally:
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)


def table(a, groups, work):

    rows = []
    for i, (name, sets) in enumerate(rows_to_run(a.grid)):
        if i > 0 and a.rows and not any(x in name for x in a.rows):
            continue
        accs, secs, summ = [], [], None
        for seed in a.seeds:
            summ = train(a.pdadmm, a.config, a.sets + ["groups=%d" % groups, "partition=[]", "seed=%d" % seed] + sets,
                         os.path.join(work, "row%02d_seed%d" % (i, seed)))
            accs.append(summ["test_acc"])
            secs.append(summ["seconds_per_iter_mean"])
        rows.append({"name": name, "test_acc": statistics.mean(accs), "test_acc_per_seed": accs,
                     "bytes_per_iter": summ["bytes_per_iter"], "ratio": summ.get("bytes_ratio_fp32"),
                     "seconds_per_iter": statistics.mean(secs), "sets": sets})
        print("  %-22s done (test acc %s)" % (name, " ".join("%.4f" % x for x in accs)), file=sys.stderr)

    base = rows[0]
    print("config %s, groups %d, seeds %s, -Q grid %s (%s)" % (a.config, groups, a.seeds, a.grid, a.grid_from))
    print("%-22s %9s %8s %14s %8s %10s" % ("run", "test acc", "vs fp32", "bytes/iter", "ratio", "s/iter"))
    for r in rows:
        ratio = "-" if r["ratio"] is None else "%.2fx" % r["ratio"]  # null: one group, nothing moves
        print("%-22s %9.4f %+8.2f %14d %8s %10.5f" % (r["name"], r["test_acc"],
                                                       100 * (r["test_acc"] - base["test_acc"]),
                                                       r["bytes_per_iter"], ratio, r["seconds_per_iter"]))
    print("(vs fp32: test accuracy difference in points; ratio: fp32 pdADMM-G bytes / this run's bytes)")
    if a.out:
        write_json(a.out, rows)


if __name__ == "__main__":
    run_main(main)
