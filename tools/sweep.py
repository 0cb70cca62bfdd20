#!/usr/bin/env python3
"""Speedup sweeps over `pdadmm bench`: layers or width (an "axis"), or named variants.

For every axis value three bench runs (docs/benchmarks.md):
  serial    groups=1, threads=T                     measured s/iteration (the baseline)
  parallel  groups=G, threads=G*T                   measured on this machine (G threads share its cores)
  model     groups=G, threads=T, --serialize        per-group compute with the groups run one at a
                                                    time; bench turns it into modeled s/iteration per link
T = threads_per_group is one "device". Speedup = serial / parallel, measured and modeled.
With --mpirun "mpirun -np {groups} [...]" the parallel (and variant) runs are G processes of T
threads each, launched by that command on the machines it names: real process boundaries.
With "variants" instead of "axis", each named variant runs once and the rows carry bytes_per_iter
(pdADMM-G vs -Q codecs; tools/plot.py bytes reads them).

  tools/sweep.py --config configs/sweeps/layers.json [--pdadmm build/pdadmm] [--out DIR] [--mpirun CMD]
Writes DIR/sweep.json and prints a table. Standard library only.
"""
import argparse
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys

from tool_common import (BINARY_DEFAULT, ArgumentParser, config_layers, default_binary, exit_status, fail, load_json,
                         no_duplicates, output_folder, pass_on_said, read_config, read_result, remove_stale,
                         replaceable_result, require_binary, run_child, run_failed, run_main, write_json)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KNOWN_KEYS = {"base", "set", "axis", "variants", "groups", "threads_per_group", "iterations", "warmup",
              "measure_parallel", "links", "timeout_s", "stat"}
# What each run sets itself ("partition" would override its groups): in "set" or as the axis key,
# the sweep's own value silently replaced the user's.
SET_PER_RUN = ("groups", "threads", "partition")


def load_sweep(path):
    spec = load_json(path, "sweep config")
    if not isinstance(spec, dict):
        fail(f"sweep config {path}: expected a JSON object")
    unknown = sorted(k for k in spec if k not in KNOWN_KEYS and not k.startswith("_"))
    if unknown:
        fail(f"sweep config {path}: unknown key '{unknown[0]}' (known: {', '.join(sorted(KNOWN_KEYS))})")
    if ("axis" in spec) == ("variants" in spec):
        fail(f"sweep config {path}: give exactly one of 'axis' and 'variants'")
    if not isinstance(spec.get("base", ""), str) or spec.get("base") == "":  # was "expected str, ... not int"
        fail(f"sweep config {path}: base must be a config file's path (a string)")
    if not isinstance(spec.get("set", {}), dict):
        fail(f"sweep config {path}: set must be an object of pdadmm keys and values")
    if "axis" in spec:
        ax = spec["axis"]
        if not isinstance(ax, dict) or not isinstance(ax.get("key"), str) or not isinstance(ax.get("values"), list) \
                or not ax["values"]:
            fail(f"sweep config {path}: axis must be {{\"key\": \"model.layers\", \"values\": [...]}}")
        if ax["key"] in SET_PER_RUN:  # each run sets these itself
            fail(f"sweep config {path}: axis key {ax['key']!r} is set by the sweep per run; "
                 f"use the sweep's \"groups\" (a list, one per axis value) or \"threads_per_group\"")
        # A value twice: its second runs overwrite the first's files under runs/, two rows of one point.
        no_duplicates([json.dumps(v, sort_keys=True) for v in ax["values"]], f"sweep config {path}: axis values")
    else:
        if not isinstance(spec["variants"], list) or not spec["variants"]:
            fail(f"sweep config {path}: variants must be a non-empty list")
        for v in spec["variants"]:
            if not isinstance(v, dict) or not isinstance(v.get("name"), str) or not isinstance(v.get("set", {}), dict):
                fail(f"sweep config {path}: each variant needs a \"name\" and an optional \"set\" object")
        # Two rows of one name: plot.py's bars and the table could not tell them apart.
        no_duplicates([v["name"] for v in spec["variants"]], f"sweep config {path}: variant names")
    # The sweep's "set" and each variant's: a key each run sets itself, or the axis key (each run's
    # axis value), was lost to the sweep's own value without a word.
    hint = "use the sweep's \"groups\"" + (" (a list, one per axis value)" if "axis" in spec else "") + \
        " or \"threads_per_group\""
    for of, sets in [("", spec.get("set", {}))] + \
            [(f" of variant {v['name']!r}", v.get("set", {})) for v in spec.get("variants", [])]:
        for k in sets:
            if k in SET_PER_RUN:
                fail(f"sweep config {path}: set key {k!r}{of} is set by the sweep per run; {hint}")
            if "axis" in spec and k == spec["axis"]["key"]:
                fail(f"sweep config {path}: set key {k!r} is the axis key, which each run sets to its axis "
                     "value; drop it from \"set\"")
    def one_groups(g):
        return g == "layers" or (isinstance(g, int) and not isinstance(g, bool) and g >= 1)

    g = spec.get("groups", "layers")
    if not (one_groups(g) or isinstance(g, list)):
        fail(f"sweep config {path}: groups must be \"layers\", an integer >= 1, or a list (one per axis value)")
    if isinstance(g, list) and ("axis" not in spec or len(g) != len(spec["axis"]["values"])):
        fail(f"sweep config {path}: a list of groups needs one entry per axis value")
    # Each entry now, not when its axis value comes up after the earlier values' runs.
    if isinstance(g, list) and not all(one_groups(x) for x in g):
        fail(f"sweep config {path}: each entry of groups must be \"layers\" or an integer >= 1")
    if spec.get("stat", "cpu") not in ("cpu", "min", "median"):
        fail(f"sweep config {path}: stat must be \"cpu\", \"min\" or \"median\"")
    if spec.get("stat", "cpu") == "cpu" and spec.get("threads_per_group", 1) != 1:
        fail(f"sweep config {path}: \"stat\": \"cpu\" needs threads_per_group 1 (use \"min\")")
    # true is an int to isinstance; warmup went to pdadmm unchecked (its error only at the first run)
    for key, least in (("threads_per_group", 1), ("iterations", 1), ("warmup", 0)):
        v = spec.get(key, least)
        if not isinstance(v, int) or isinstance(v, bool) or v < least:
            fail(f"sweep config {path}: {key} must be an integer >= {least}")
    # [] meant every preset, as if "links" were left out; a string was taken letter by letter.
    links = spec.get("links")
    if "links" in spec and (not isinstance(links, list) or not links or not all(
            isinstance(l, str) or (isinstance(l, dict) and {"name", "bandwidth_GBps", "latency_us"} <= set(l))
            for l in links)):
        fail(f"sweep config {path}: links must be a non-empty list of link names and "
             "{\"name\", \"bandwidth_GBps\", \"latency_us\"} objects (leave it out for every preset)")
    # 0 or less timed out every run at once; a string failed only at the first run.
    t = spec.get("timeout_s", 3600)
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t < math.inf:
        fail(f"sweep config {path}: timeout_s must be a number of seconds > 0")
    # model.layers decides each point's groups (layers_of's int()): a list or "x" was "malformed input:
    # invalid literal for int()", and only at its point, after the earlier points' runs.
    layers = [spec.get("set", {}).get("model.layers")]
    if "axis" in spec and spec["axis"]["key"] == "model.layers":
        layers += spec["axis"]["values"]
    layers += [v.get("set", {}).get("model.layers") for v in spec.get("variants", [])]
    for v in layers:
        if v is not None and not (isinstance(v, int) and not isinstance(v, bool) and 2 <= v <= 10000):
            fail(f"sweep config {path}: model.layers {json.dumps(v)}: must be an integer in [2, 10000] (pdadmm's bounds)")
    return spec


def resolve(path, sweep_path):
    if os.path.isabs(path):
        return path
    for base in (os.path.dirname(os.path.abspath(sweep_path)), ROOT, os.getcwd()):
        if os.path.exists(os.path.join(base, path)):
            return os.path.join(base, path)
    fail(f"base config {path} not found (relative to the sweep file, the repository or the current folder)")


def find_pdadmm(given):
    if given:
        require_binary(given, "--pdadmm")
        return given
    # PDADMM_BUILD names the build wanted: no other one stands in for it.
    cands = [default_binary()] if os.environ.get("PDADMM_BUILD") else \
        [os.path.join(ROOT, "build", "pdadmm"), os.path.join(ROOT, "build-bench", "pdadmm")]
    for cand in cands:
        if os.access(cand, os.X_OK):
            return cand
    fail(f"no pdadmm binary found ({', '.join(cands)}); build it (tools/build.sh), set PDADMM_BUILD to the build "
         "folder that has it, or pass --pdadmm PATH")


def last_words(text):
    """What a failed run said last, for one error line. mpirun frames its messages in lines of dashes
    (or of equals signs): of the last one, its first paragraph (what went wrong) and its last (what to
    do), each whole (its last 3 lines alone began mid-sentence), after a process's own last `error:`
    line above it (under mpirun `error (process N):`, of the process that failed). Else the last 3
    lines that say something. ORTE's "An internal error has occurred" frame follows the one that
    says what (a hostfile it cannot open): that one is taken instead."""
    lines = [l.strip() for l in text.strip().splitlines()]
    frame = [bool(l) and not l.strip("-=") for l in lines]
    said = [i for i, l in enumerate(lines) if l.strip("-= ")]
    if not said:
        return ""
    last = top = said[-1]
    while top > 0 and not frame[top - 1]:
        top -= 1
    if top == 0 or not any(frame[last + 1:]):
        return " ".join(lines[i] for i in said[-3:])
    if lines[top].startswith("An internal error has occurred") and top > 1:
        earlier = last_words("\n".join(lines[:top - 1]))
        if earlier:
            return earlier
    paragraphs, cur = [], []
    for l in lines[top:last + 1] + [""]:
        if l:
            cur.append(l)
        elif cur:
            paragraphs.append(" ".join(cur))
            cur = []
    errors = [l for l in lines[:top] if re.match(r"error( \(process \d+\))?: ", l)]
    return " … ".join(errors[-1:] + paragraphs[:1] + paragraphs[1:][-1:])


ROOT_REFUSAL = ("mpirun refuses to run as root: set OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1, "
                "add --allow-run-as-root to --mpirun, or run as another user: ")


def check_root_launcher(template):
    """Open MPI's mpirun refuses root unless told otherwise: said now, not at the first parallel run
    after the first point's serial and model runs. Open MPI is told by `LAUNCHER --version`."""
    words = shlex.split(template.format(groups=1))
    if os.geteuid() != 0 or "--allow-run-as-root" in words or all(
            os.environ.get(v) == "1" for v in ("OMPI_ALLOW_RUN_AS_ROOT", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM")):
        return
    try:
        r = run_child([words[0], "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):  # the runs say what it is
        return
    if "Open MPI" in r.stdout:
        fail(ROOT_REFUSAL + template)


def check_hostfile(template):
    """A hostfile the launcher cannot open: now, not at the first parallel run after the first
    point's serial and model runs (Open MPI then said only "An internal error has occurred")."""
    words = shlex.split(template.format(groups=1))
    names = ("--hostfile", "-hostfile", "--machinefile", "-machinefile", "--default-hostfile")
    for i, w in enumerate(words):
        path = None
        if w in names and i + 1 < len(words):
            path = words[i + 1]
        elif "=" in w and w.split("=", 1)[0] in names:
            path = w.split("=", 1)[1]
        if path is not None and not os.path.isfile(path):
            fail(f"--mpirun {template}: the hostfile {path!r} is not a file here (Open MPI's: one machine a "
                 "line, e.g. \"node1 slots=8\")")


# A link the check's bench is given twice after the sweep's own: it stops there, before reading any
# data, once it has taken all of theirs (each a preset or NAME:GBPS:US, each name once).
CHECK_LINK = "sweep.py-check"


def check_links(spec, pdadmm, base, path):
    """The sweep's "links" read by pdadmm itself before any run (a misspelt preset was named only
    by the first run): bench stops at the first one it refuses, with its `error:` line naming the
    presets, or at CHECK_LINK's second time when it took them all. As check_points, only pdadmm's
    own refusal stops the sweep here."""
    cmd = [pdadmm, "bench", "--config", base, "--serialize", "--no-peak"]
    for link in spec["links"] + [CHECK_LINK + ":1:0"] * 2:
        cmd.append("--link=" + link_arg(link))
    try:
        r = run_child(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return
    last = r.stdout.rstrip("\n").rpartition("\n")[2]
    # Only a link's refusal: the base config may need the sweep's --sets (check_points reads those).
    if r.returncode != 0 and last.startswith(("error: link ", "error: bench: --link ")) and CHECK_LINK not in last:
        fail(f"sweep config {path}: links: {last[len('error: '):]}")


def link_arg(link):
    """A sweep's link as bench's --link takes it: a name, or NAME:GBPS:US."""
    return link if isinstance(link, str) else f"{link['name']}:{link['bandwidth_GBps']}:{link['latency_us']}"


def timed_iterations(spec):
    """The iterations each bench run of the sweep times (after its warm-up)."""
    return spec.get("iterations", 3)


def bench(spec, pdadmm, base, sets, out_json, serialize=False, quiet=False, launcher=None):
    """launcher: a command template with {groups} (e.g. "mpirun -np {groups}") that starts the bench."""
    cmd = [pdadmm, "bench", "--config", base, "--json", out_json, "--no-peak",
           "--iterations", str(timed_iterations(spec)), "--warmup", str(spec.get("warmup", 1))]
    # Each run's groups are the sweep's: a base config's partition (which sets the groups) is cleared.
    for k, v in {**sets, "partition": []}.items():
        cmd += ["--set", f"{k}={json.dumps(v)}"]
    for link in spec.get("links", []):
        cmd += ["--link", link_arg(link)]
    if serialize:
        cmd.append("--serialize")
    if not quiet:
        print("  " + (launcher.format(groups=sets["groups"]) + " pdadmm " if launcher else "") +
              " ".join(os.path.relpath(c, os.getcwd()) if c in (pdadmm, base) else c for c in cmd[1:]), flush=True)
    if launcher:
        cmd = shlex.split(launcher.format(groups=sets["groups"])) + cmd
    remove_stale(out_json)
    try:
        r = run_child(cmd, capture_output=True, text=True, timeout=spec.get("timeout_s", 3600))
    except subprocess.TimeoutExpired:
        fail(f"pdadmm bench took longer than {spec.get('timeout_s', 3600)} s: {' '.join(cmd)}")
    if r.returncode != 0:
        said = r.stderr or r.stdout
        if "OMPI_ALLOW_RUN_AS_ROOT" in said:  # Open MPI's refusal, a page long: what to do, plainly
            fail(ROOT_REFUSAL + " ".join(cmd))
        why = last_words(said)
        if r.returncode < 0 or not why:  # killed by a signal: its last output is not the reason
            why = exit_status(r.returncode) + (f"; its last output: {why}" if why else "")
        fail(f"pdadmm bench failed ({why}): {' '.join(cmd)}")
    said = pass_on_said(r.stdout + r.stderr, os.path.basename(out_json), quiet)
    res = read_result(out_json, "pdadmm bench")
    if said:
        res["said"] = said
    return res


def layers_of(base, sets):
    """model.layers of a run: the sweep's set, else the base config's (its last stage's), else pdadmm's
    default 2. Decides the groups ("groups": "layers", or a count capped at the layers)."""
    return config_layers(read_config(base, "base config"), sets, "base config " + base)


def same_layers(result, layers, what):
    if result["layers"] != layers:
        fail(f"{what}: pdadmm bench ran {result['layers']} layers, the sweep planned its groups for {layers}")


def host(result):
    m = result.get("machine") or {}
    return m.get("hostname"), m.get("cpu_model")


def groups_for(spec, i, value, layers):
    g = spec.get("groups", "layers")
    if isinstance(g, list):
        g = g[i]
    return layers if g == "layers" else min(int(g), layers)


def check_points(spec, pdadmm, base, path):
    """Each axis value or variant as its runs will set it, read by pdadmm itself (`info --print-config`
    reads no data: milliseconds), so that a value it refuses ("x" for admm.rho) is named before the
    first run, not after the earlier values' runs. Only pdadmm's own refusal (its `error:` line) stops
    the sweep here; a check that fails otherwise (killed, not pdadmm) is left to the first run's line."""
    if "axis" in spec:
        key = spec["axis"]["key"]
        points = [(f"{key} = {json.dumps(v)}", {**spec.get("set", {}), key: v}) for v in spec["axis"]["values"]]
    else:
        points = [(f"variant {v['name']!r}", {**spec.get("set", {}), **v.get("set", {})}) for v in spec["variants"]]
    for i, (what, sets) in enumerate(points):
        groups = groups_for(spec, i, None, layers_of(base, sets))
        cmd = [pdadmm, "info", "--print-config", "--config", base]
        for k, v in {**sets, "groups": groups, "threads": spec.get("threads_per_group", 1), "partition": []}.items():
            cmd += ["--set", f"{k}={json.dumps(v)}"]
        try:
            r = run_child(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        except subprocess.TimeoutExpired:  # not pdadmm's refusal: the runs, with their timeout_s, say what it is
            continue
        if r.returncode != 0 and r.stdout.rstrip("\n").rpartition("\n")[2].startswith("error: "):
            run_failed(f"sweep config {path}: {what}", r.stdout, r.returncode)


def axis_rows(spec, pdadmm, base, run_dir, quiet, launcher=None):
    """The rows, and the machine of the sweep's first run."""
    key, rows, machine = spec["axis"]["key"], [], None
    tpg = spec.get("threads_per_group", 1)
    for i, value in enumerate(spec["axis"]["values"]):
        sets = dict(spec.get("set", {}))
        sets[key] = value
        layers = layers_of(base, sets)
        G = groups_for(spec, i, value, layers)
        tag = f"{key.split('.')[-1]}{value}"
        if not quiet:
            asked = spec.get("groups", "layers")
            asked = asked[i] if isinstance(asked, list) else asked
            capped = f" (groups {asked} capped at the layers)" if asked != "layers" and int(asked) > layers else ""
            print(f"{key} = {value}: {layers} layers, {G} groups{capped}, {tpg} thread(s) per group", flush=True)
        serial = bench(spec, pdadmm, base, {**sets, "groups": 1, "threads": tpg},
                       os.path.join(run_dir, tag + "_serial.json"), quiet=quiet)
        same_layers(serial, layers, f"{key} = {value}")
        model = bench(spec, pdadmm, base, {**sets, "groups": G, "threads": tpg},
                      os.path.join(run_dir, tag + "_model.json"), serialize=True, quiet=quiet)
        parallel = None
        if spec.get("measure_parallel", True):  # G threads of one process, or G processes
            parallel = bench(spec, pdadmm, base, {**sets, "groups": G, "threads": tpg if launcher else G * tpg},
                             os.path.join(run_dir, tag + "_parallel.json"), quiet=quiet, launcher=launcher)
        # cpu: CPU time of the single-threaded serial run and of each serialised group's ops, which
        # leaves out the time other processes held the cores; min/median: wall time.
        stat = spec.get("stat", "cpu")
        s = serial["cpu_seconds_per_iter"]["median"] if stat == "cpu" else serial["seconds_per_iter"][stat]
        busy = [g[{"cpu": "busy_cpu_s", "min": "busy_min_s", "median": "busy_s"}[stat]] for g in model["group_stats"]]
        modeled = model[{"cpu": "modeled_cpu", "min": "modeled_min", "median": "modeled"}[stat]]
        # The measured parallel run is wall time (min over iterations) whatever the stat.
        par = parallel["seconds_per_iter"]["median" if stat == "median" else "min"] if parallel else None
        par_serial = serial["seconds_per_iter"]["median" if stat == "median" else "min"]
        row = {
            "axis": key, "value": value, "layers": serial["layers"], "hidden": serial["hidden"],
            "n_cols": serial["n_cols"], "nodes": serial["nodes"], "groups": G, "threads_per_group": tpg,
            "algorithm": serial.get("algorithm"),
            "serial_s": s, "serial_gflops": serial["gflops"],
            "gemm_flops_per_iter": serial["gemm_flops_per_iter"], "bytes_per_iter": model["bytes_per_iter"],
            "ideal_speedup": G,
            # How many iterations each of the row's runs timed: its medians and minima are of that many.
            "timed_iterations": timed_iterations(spec),
            "busy_max_s": max(busy), "busy_sum_s": sum(busy),
            # Σ busy over the serialised groups should be close to the serial time: a check of the
            # per-group measurement (> 1: the split added work or cache misses; well below 1: the
            # serial time is mostly overhead outside the Ops calls, which the link model leaves out).
            "busy_sum_over_serial": sum(busy) / s,
            "link_model_overstates": sum(busy) / s < OVERHEAD_BOUND,
            "stat": stat, "serial_wall_s": par_serial, "parallel_s": par,
            "parallel_processes": parallel.get("processes", 1) if parallel else None,
            "speedup_measured": par_serial / par if par else None,
            # speedup_same_run: Σ busy / modeled, both from the serialised run, so it does not
            # move with the load of other processes between the serial run and that one; Σ busy
            # holds the split's own boundary work, so it is speedup x busy_sum_over_serial, not a
            # speedup over serial (above it where busy/ser > 1).
            "modeled": {name: {"seconds": m["seconds_per_iter"], "speedup": s / m["seconds_per_iter"],
                               "speedup_same_run": sum(busy) / m["seconds_per_iter"],
                               "comm_max_s": max(m["comm_s"])}
                        for name, m in ((n, modeled[n]) for n in model.get("links", sorted(modeled)))},
        }
        said = sorted({line for j in (serial, model, parallel) if j for line in j.get("said", [])})
        if said:  # a warning a run printed (a key with no effect, threads a busy machine took)
            row["said"] = said
        if parallel and host(parallel) != host(serial):  # --mpirun onto other machines
            row["parallel_machine"] = parallel.get("machine")
            print(f"warning: {key} = {value}: the parallel run's first process ran on {host(parallel)[0]}, the serial "
                  f"run on {host(serial)[0]}: speedup_measured compares two machines", flush=True)
        rows.append(row)
        machine = machine or serial.get("machine")
    return rows, machine


def variant_rows(spec, pdadmm, base, run_dir, quiet, launcher=None):
    rows, machine = [], None
    for i, v in enumerate(spec["variants"]):
        sets = {**spec.get("set", {}), **v.get("set", {})}
        layers = layers_of(base, sets)
        G = groups_for(spec, i, None, layers)
        tpg = spec.get("threads_per_group", 1)
        # On this machine the groups run one after another (--serialize), each with threads_per_group
        # threads: G groups at once on fewer cores timed each other's contention (fp32 looked 1.5x
        # faster than a codec), and the link model used that contended time. Under --mpirun: G
        # processes, real boundaries, as an axis sweep's parallel runs.
        serialize = launcher is None
        sets.update({"groups": G, "threads": tpg})
        if not quiet:
            print(f"{v['name']}:", flush=True)
        j = bench(spec, pdadmm, base, sets, os.path.join(run_dir, f"variant{i}.json"), serialize=serialize,
                  quiet=quiet, launcher=launcher)
        same_layers(j, layers, f"variant {v['name']}")
        rows.append({"name": v["name"], "bytes_per_iter": j["bytes_per_iter"], "boundary_bytes": j["boundary_bytes"],
                     "seconds_per_iter": j["seconds_per_iter"]["min"], "serialize": serialize,
                     "timed_iterations": timed_iterations(spec),
                     "model_compute": j.get("model_compute"), "groups": G, "layers": j["layers"],
                     "hidden": j["hidden"], "n_cols": j["n_cols"], "algorithm": j["algorithm"],
                     "wire": j["config"]["admm"].get("wire"), "modeled": {
                         name: m["seconds_per_iter"] for name, m in j["modeled"].items()}})
        if j.get("said"):
            rows[-1]["said"] = j["said"]
        machine = machine or j.get("machine")
    return rows, machine


# Below this Σ busy / serial, the serial run spent more than a fifth of its time outside the groups'
# Ops calls (thread wake-ups, bookkeeping: tiny layers), which the modeled parallel time leaves out.
OVERHEAD_BOUND = 0.8


def fmt(x, digits=3):
    if x is None:
        return "-"
    return f"{x:.{digits}g}" if isinstance(x, float) else str(x)


def print_table(result):
    rows = result["rows"]
    if not rows:
        return
    if "name" in rows[0]:
        w = max(len(r["name"]) for r in rows)
        # seconds_per_iter of a variant row is bench's fastest iteration (its "min"), not a median.
        print(f"\n{'variant':<{w}}  {'bytes/iter':>12}  {'min s/iter':>10}")
        for r in rows:
            print(f"{r['name']:<{w}}  {r['bytes_per_iter']:>12}  {fmt(r['seconds_per_iter']):>10}")
        n = rows[0].get("timed_iterations")
        of = f" of {n}" if n else ""
        if rows[0].get("serialize", False):
            print(f"min s/iter: the fastest iteration{of} of the groups run one after another (--serialize): every "
                  "group's compute, codecs included, without the groups contending for cores")
        elif "serialize" in rows[0]:
            print(f"min s/iter: the fastest iteration{of} of the G processes (--mpirun), wall time")
        return
    given = [l if isinstance(l, str) else l["name"] for l in result["spec"].get("links", [])]
    links = [l for l in given if l in rows[0]["modeled"]] or list(rows[0]["modeled"])
    head = ["value", "L", "width", "N", "G", "serial s", "ser wall", "par s", "speedup", "ideal"] + \
           [f"{l} x" for l in links] + [f"{links[0]} x same-run", "MB/iter", "busy/ser"]
    table = [[str(r["value"]), str(r["layers"]), str(r["hidden"]), str(r["n_cols"]), str(r["groups"]),
              fmt(r["serial_s"]), fmt(r["serial_wall_s"]), fmt(r["parallel_s"]), fmt(r["speedup_measured"]), str(r["ideal_speedup"])] +
             [fmt(r["modeled"][l]["speedup"]) for l in links] +
             [fmt(r["modeled"][links[0]]["speedup_same_run"]), fmt(r["bytes_per_iter"] / 1e6),
              fmt(r["busy_sum_over_serial"])] for r in rows]
    widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(head)]
    print()
    print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
    for t in table:
        print("  ".join(c.rjust(w) for c, w in zip(t, widths)))
    where = "as G processes (" + result["mpirun"] + ")" if result.get("mpirun") else "on this machine"
    wall = "median" if rows[0]["stat"] == "median" else "min"  # the parallel run's statistic (axis_rows)
    print(f"each run timed {rows[0].get('timed_iterations', '?')} iteration(s); "
          f"serial s: {rows[0]['stat']} time per iteration; par s: wall time ({wall}) of G groups {where}, "
          "speedup = serial wall / par; '<link> x' = serial s / modeled parallel; same-run = sum of per-group busy / "
          "modeled parallel (busy/ser times '<link> x': the sum holds the split's own work, so above the speedup "
          "where busy/ser > 1)")
    low = [r for r in rows if r.get("link_model_overstates")]
    if low:
        print(f"note: busy/ser below {OVERHEAD_BOUND} ({', '.join(str(r['value']) for r in low)}): the groups' operations "
              "are only that share of the serial time, the rest being overhead outside them (thread wake-ups, "
              "bookkeeping: layers this small) that the modeled parallel time leaves out, so the '<link> x' columns "
              "overstate the speedup there; same-run leaves that overhead out of both sides (but holds the split's own work)")


def main():
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="sweep JSON (configs/sweeps/*.json)")
    ap.add_argument("--pdadmm", "--binary", dest="pdadmm",
                    help=f"pdadmm binary (default: {BINARY_DEFAULT}, then build-bench/pdadmm; --binary as in "
                    "accuracy.py)")
    ap.add_argument("--out", help="output folder (default: runs/sweeps/<name>)")
    ap.add_argument("--quiet", action="store_true", help="print only the table, warnings and errors (no progress, "
                    "no notes of the runs, which sweep.json keeps)")
    ap.add_argument("--mpirun", metavar="CMD", help='launch the parallel runs as G processes, e.g. '
                    '"mpirun -np {groups} --hostfile hosts" (pdadmm built with MPI)')
    a = ap.parse_args()
    if a.mpirun is not None and "{groups}" not in a.mpirun:
        fail("--mpirun needs {groups} where the process count goes, e.g. \"mpirun -np {groups}\"")
    if a.mpirun is not None:  # another {name} or a lone brace: now, not at the first parallel run
        try:
            cmd = a.mpirun.format(groups=1)
        except (KeyError, IndexError, ValueError) as e:
            fail(f"--mpirun {a.mpirun}: {{groups}} is the only placeholder, a brace is written {{{{ or }}}} ({e!r})")
        try:
            shlex.split(cmd)
        except ValueError as e:
            fail(f"--mpirun {a.mpirun}: {e}")
    spec = load_sweep(a.config)
    # No run to launch with it: sweep.json and the table named the command all the same.
    if a.mpirun is not None and "axis" in spec and not spec.get("measure_parallel", True):
        fail(f"--mpirun: {a.config} has \"measure_parallel\": false, so no run would be launched with it; "
             "drop one of them")
    # A launcher that is not there: now, not at the first parallel run after the serial runs' minutes.
    if a.mpirun is not None:
        launcher = shlex.split(a.mpirun.format(groups=1))[0]
        if not shutil.which(launcher):
            where = "is not an executable file" if os.sep in launcher else \
                "is not on PATH (install it, e.g. Open MPI's mpirun, or give its full path)"
            fail(f"--mpirun {a.mpirun}: the launcher {launcher!r} {where}")
        check_root_launcher(a.mpirun)
        check_hostfile(a.mpirun)
    pdadmm = find_pdadmm(a.pdadmm)
    base = resolve(spec.get("base", "configs/synthetic.json"), a.config)
    check_points(spec, pdadmm, base, a.config)
    if "links" in spec:
        check_links(spec, pdadmm, base, a.config)
    name = os.path.splitext(os.path.basename(a.config))[0]
    out = a.out or os.path.join("runs", "sweeps", name)
    run_dir = os.path.join(out, "runs")
    output_folder(out, "--out")
    os.makedirs(run_dir, exist_ok=True)
    replaceable_result(os.path.join(out, "sweep.json"), "--out", "a sweep.json of sweep.py",
                       lambda o: isinstance(o, dict) and "sweep" in o and "rows" in o)
    remove_stale(os.path.join(out, "sweep.json"))  # an earlier sweep's, which an interrupted one left beside its runs
    # The machine is this sweep's first run's, not that of whichever file sorts first in run_dir
    # (an earlier sweep's, perhaps on another machine, stays there).
    rows, machine = (axis_rows if "axis" in spec else variant_rows)(spec, pdadmm, base, run_dir, a.quiet, a.mpirun)
    result = {"sweep": name, "spec": spec, "machine": machine, "rows": rows, "mpirun": a.mpirun}
    if "axis" in spec:
        result["axis"] = spec["axis"]["key"]
    write_json(os.path.join(out, "sweep.json"), result, indent=1)
    print_table(result)
    if not a.quiet:
        print(f"wrote {os.path.join(out, 'sweep.json')}")


if __name__ == "__main__":
    run_main(main)
