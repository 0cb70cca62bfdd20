#!/usr/bin/env python3
"""Whole training runs of two pdadmm binaries, alternated, for a paired speed comparison.

Usage: tools/bench_ab.py --a OLD_BINARY --b NEW_BINARY CONFIG [CONFIG ...]
                         [--rounds 4] [--set key=value ...] [--data DIR] [--json FILE]
Each round runs every config with A and with B (`pdadmm train --config CONFIG`, outputs in a
temporary folder), A first in odd rounds and B first in even ones, so slow and fast spells of a
shared machine hit both alike, and so does running second (measured on a 2-core machine: the second
run of a pair about 2-4 % slower, whichever binary it was). Records per run the
wall seconds, CPU seconds (user, system) of the child, and from summary.json the mean and median
seconds per iteration (ADMM updates only), the evaluation seconds, the stage changes' seconds (greedy
growth) and the test accuracy; prints one line per run and, per config, the median wall seconds of A
and B and their ratio A / B (and the stage changes' when a run has stages), and the paired view: the
median of each round's A / B with its range and the rounds A was slower in (a ratio of medians can
differ from it: 1.16x against 1.06x paired, A slower in 2 of 3 rounds, in a committed sitting). An
even --rounds (default 4) puts each binary first equally often. With
`threads: 0` (the default) a run leaves out the cores other processes kept busy when it started: each
run's `note: threads:` counts are recorded (`threads`), and a config whose runs differ in them is flagged
(`same_threads`, a warning), since its ratio then compares thread counts as well as builds. Writes all
of it as JSON (--json). A run that fails stops the comparison with its error. Standard library only.
"""
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from tool_common import (ArgumentParser, cpu_model, input_file, no_duplicates, pass_on_said, read_result,
                         remove_stale, require_binary, run_child, run_failed, run_main, writable_file, write_json)


def version(binary):
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True)
    except OSError as e:
        sys.exit("error: binary %s: %s" % (binary, e.strerror))
    if out.returncode != 0:
        sys.exit("error: %s --version failed: %s" % (binary, (out.stderr or out.stdout).strip()))
    return out.stdout.strip()


def run(binary, config, sets, out_dir, data=None):
    cmd = [binary, "train", "--config", config] + (["--data", data] if data else [])
    for s in sets:
        cmd += ["--set", s]
    cmd += ["--set", "output.dir=%s" % json.dumps(out_dir)]  # last: where this script reads the summary
    # Each run starts afresh: an earlier one's state.bin (a stopped run) would be refused as a forgotten --resume.
    for stale in ("summary.json", "state.bin"):
        remove_stale(os.path.join(out_dir, stale))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = run_child(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:  # pdadmm's own error line, once, with the run it came from
        run_failed("%s on %s" % (binary, config), proc.stdout + proc.stderr, proc.returncode)
    pass_on_said(proc.stdout + proc.stderr, "%s on %s" % (binary, config))
    s = read_result(os.path.join(out_dir, "summary.json"), binary)
    return {
        "wall_s": wall,
        "user_s": after.ru_utime - before.ru_utime,
        "sys_s": after.ru_stime - before.ru_stime,
        "s_per_iter_mean": s["seconds_per_iter_mean"],
        "s_per_iter_median": s["seconds_per_iter_median"],
        # With growth stages, each stage's: the run's median over all is one stage's.
        "stage_s_per_iter_median": [st["seconds_per_iter_median"] for st in s.get("stages", [])],
        "eval_s": s["eval_seconds"],
        "stage_s": s.get("stage_seconds", 0.0),
        "test_acc": s["test_acc"],
        # How many threads the run chose, when it chose fewer than all (threads: 0, a busy machine).
        "threads": re.findall(r"^note: threads: (\d+ of \d+ cores(?: from stage \d+)?)", proc.stdout + proc.stderr,
                              re.M),
    }


def main():
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True, help="the first (baseline) pdadmm binary")
    ap.add_argument("--b", required=True, help="the second pdadmm binary")
    ap.add_argument("configs", nargs="+", help="pdadmm configs, each trained by both binaries")
    ap.add_argument("--rounds", type=int, default=4, help="rounds per config, A and B first in turn (default 4; an "
                    "even count puts each first equally often)")
    ap.add_argument("--set", action="append", default=[], dest="sets", metavar="KEY=VALUE",
                    help="passed to every pdadmm train (repeatable)")
    ap.add_argument("--json", help="write the runs and the medians here")
    ap.add_argument("--data", metavar="DIR", help="the data folder, passed to pdadmm train (default: the config's "
                    "data.root, else $PDADMM_DATA, else ./data)")
    args = ap.parse_args()
    if args.rounds < 1:
        sys.exit("error: --rounds must be at least 1")
    if args.rounds % 2 and args.rounds > 1:  # one round is a smoke run, not a comparison
        print("note: --rounds %d is odd: A runs first in one round more than B (the second run of a pair measured "
              "2-4 %% slower on 2 cores)" % args.rounds, flush=True)
    for c in args.configs:
        input_file(c, "config")
    no_duplicates(args.configs, "configs")
    if args.json:
        writable_file(args.json, "--json", ("a result of bench_ab.py",
                                            lambda o: isinstance(o, dict) and "versions" in o and "configs" in o))
    require_binary(args.a, "--a")
    require_binary(args.b, "--b")
    binaries = {"a": args.a, "b": args.b}
    result = {
        "versions": {k: version(v) for k, v in binaries.items()},
        # Which CPU: the docs' comparisons came from Xeons and EPYCs whose timings differ by 2x.
        "machine": {"cpu_model": cpu_model(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "load": os.getloadavg()},
        "sets": args.sets,
        "configs": {},
    }
    with tempfile.TemporaryDirectory(prefix="pdadmm_ab_") as tmp:
        for c in args.configs:
            runs = {"a": [], "b": []}
            for r in range(args.rounds):
                for k in ("a", "b") if r % 2 == 0 else ("b", "a"):
                    x = run(binaries[k], c, args.sets, os.path.join(tmp, "%s_%d" % (k, r)), args.data)
                    runs[k].append(x)
                    print("%s %s round %d: %.2f s wall (%.2f user, %.2f sys), %.4f s/iteration, "
                          "evaluation %.2f s, stage changes %.2f s, test %.4f" %
                          (k.upper(), c, r + 1, x["wall_s"], x["user_s"], x["sys_s"], x["s_per_iter_mean"],
                           x["eval_s"], x["stage_s"], x["test_acc"]), flush=True)
            med = {k: statistics.median(x["wall_s"] for x in v) for k, v in runs.items()}
            same = len({tuple(x["threads"]) for v in runs.values() for x in v}) == 1
            # Round by round, A against the B beside it: what the alternation is for.
            paired = [a["wall_s"] / b["wall_s"] for a, b in zip(runs["a"], runs["b"])]
            result["configs"][c] = {"runs": runs, "median_wall_s": med, "ratio_a_over_b": med["a"] / med["b"],
                                    "paired_ratios": paired, "paired_ratio_median": statistics.median(paired),
                                    "rounds_a_slower": sum(x > 1 for x in paired), "same_threads": same}
            if not same:
                print("warning: %s: the runs chose different thread counts (their `note: threads:` lines differ; "
                      "--set threads=N fixes the count)" % c, flush=True)
            print("%s: median %.2f s (A) vs %.2f s (B), A / B = %.2fx; paired A / B %.2fx (%.2f-%.2f), A slower in "
                  "%d of %d rounds" % (c, med["a"], med["b"], med["a"] / med["b"], statistics.median(paired),
                                       min(paired), max(paired), sum(x > 1 for x in paired), len(paired)))
            stage = {k: statistics.median(x["stage_s"] for x in v) for k, v in runs.items()}
            if stage["b"] > 0:
                result["configs"][c].update(median_stage_s=stage, stage_ratio_a_over_b=stage["a"] / stage["b"])
                print("%s: stage changes median %.2f s (A) vs %.2f s (B), A / B = %.2fx" %
                      (c, stage["a"], stage["b"], stage["a"] / stage["b"]))
    if args.json:
        write_json(args.json, result, indent=1)


if __name__ == "__main__":
    run_main(main)
