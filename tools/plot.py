#!/usr/bin/env python3
"""Plots for pdadmm benchmarks and training runs (PNG).

  tools/plot.py speedup     SWEEP_JSON    [--out PNG]  speedup vs the sweep axis: measured, modeled per link, ideal
  tools/plot.py bytes       TABLE_JSON    [--out PNG]  bytes per iteration per variant (pdADMM-G vs -Q codecs)
  tools/plot.py convergence METRICS_JSONL [--out PNG]  objective, residual and test accuracy vs iteration

SWEEP_JSON comes from tools/sweep.py; TABLE_JSON is any JSON list of rows with "name" and
"bytes_per_iter" (or an object holding such a list under "rows": tools/sweep.py with "variants",
tools/quant_table.py); METRICS_JSONL is OUT/metrics.jsonl of `pdadmm train`.
--check validates the input and prints what would be drawn, without matplotlib.

matplotlib: used when importable; otherwise installed with pip into a virtual environment at
$PDADMM_PLOT_VENV (default ~/.cache/pdadmm/plot-venv) and the script re-runs itself there.
"""
import argparse
import os
import subprocess
import math
import sys

from tool_common import ArgumentParser, fail, load_json, load_jsonl, run_main, writable_file

VENV = os.environ.get("PDADMM_PLOT_VENV", os.path.join(os.path.expanduser("~"), ".cache", "pdadmm", "plot-venv"))


def load_speedup(path):
    j = load_json(path)
    rows = j.get("rows") if isinstance(j, dict) else None
    need = ("value", "serial_s", "ideal_speedup", "speedup_measured", "modeled")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) and all(k in r for k in need) for r in rows):
        fail(f"{path}: not a tools/sweep.py axis sweep (rows need {', '.join(need)})")
    links = list(rows[0]["modeled"])
    if not links or not all(isinstance(r["modeled"], dict) and set(links) <= set(r["modeled"]) for r in rows):
        fail(f"{path}: rows have no common modeled links")
    given = [l if isinstance(l, str) else l["name"] for l in j.get("spec", {}).get("links", [])]
    links = [l for l in given if l in links] or links
    return j, rows, links


def load_bytes(path):
    j = load_json(path)
    rows = j.get("rows") if isinstance(j, dict) else j
    if not isinstance(rows, list) or not rows:
        fail(f"{path}: expected a JSON list of rows (or an object with \"rows\")")
    for i, r in enumerate(rows):
        b = r.get("bytes_per_iter") if isinstance(r, dict) else None
        if "name" not in (r if isinstance(r, dict) else {}) or isinstance(b, bool) or not isinstance(b, (int, float)) \
                or not math.isfinite(b) or b < 0:
            fail(f"{path}: row {i} needs \"name\" and a finite \"bytes_per_iter\" >= 0")
    return rows


def load_metrics(path):
    lines = load_jsonl(path)
    if not lines:
        fail(f"{path}: no metrics lines")
    for n, r in lines:  # n: the file's line, blank lines counted
        for k in ("iter", "objective", "residual", "test_acc"):
            if not isinstance(r, dict) or k not in r:
                fail(f"{path}: line {n} has no \"{k}\" (is this a pdadmm metrics.jsonl?)")
            if r[k] is not None and (isinstance(r[k], bool) or not isinstance(r[k], (int, float))):
                fail(f"{path}: line {n}: \"{k}\" is not a number")
    return [r for _, r in lines]


def ensure_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return
    except ImportError:
        pass
    if os.environ.get("PDADMM_PLOT_IN_VENV"):
        fail(f"matplotlib is still missing in {VENV}; remove that folder and retry, or install python3-matplotlib")
    py = os.path.join(VENV, "bin", "python")
    try:
        if not os.path.exists(py):
            print(f"plot: installing matplotlib into {VENV} (once)", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True, stdout=subprocess.DEVNULL)
        if subprocess.run([py, "-c", "import matplotlib"], stderr=subprocess.DEVNULL).returncode != 0:
            subprocess.run([py, "-m", "pip", "install", "--quiet", "matplotlib"], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        fail(f"matplotlib is not installed and could not be installed into {VENV} ({e}); "
             "install it with 'pip install matplotlib' or 'apt-get install python3-matplotlib'")
    os.environ["PDADMM_PLOT_IN_VENV"] = "1"
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


def pyplot():
    ensure_matplotlib()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_speedup(path, out, check):
    j, rows, links = load_speedup(path)
    axis = j.get("axis", rows[0].get("axis", "value"))
    xs = [r["value"] for r in rows]
    # A --mpirun sweep's parallel runs are G processes on the machines its command names, not
    # threads on the cores of the machine the JSON describes.
    measured_label = ("measured, G processes (mpirun)" if j.get("mpirun")
                      else f"measured here ({j.get('machine', {}).get('cores', '?')} cores)")
    if check:
        for r in rows:
            measured = r["speedup_measured"]
            measured = "none" if measured is None else f"{measured:.3g}"
            print(f"{axis}={r['value']}: ideal {r['ideal_speedup']}, measured {measured}, "
                  + ", ".join(f"{l} {r['modeled'][l]['speedup']:.3g}" for l in links))
        measured_any = any(r.get("speedup_measured") is not None for r in rows)
        print(f"measured line: {measured_label if measured_any else 'none'}")
        return
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    ax.plot(xs, [r["ideal_speedup"] for r in rows], "k--", label="ideal (G)")
    for l, m in zip(links, "os^vDx"):
        ax.plot(xs, [r["modeled"][l]["speedup"] for r in rows], marker=m, label=f"modeled, {l}")
    if "speedup_same_run" in rows[0]["modeled"][links[0]]:
        ax.plot(xs, [r["modeled"][links[0]]["speedup_same_run"] for r in rows], ":", color="gray", marker=".",
                label=f"Σ busy / modeled, {links[0]} (× busy/ser)")
    meas = [(x, r["speedup_measured"]) for x, r in zip(xs, rows) if r.get("speedup_measured") is not None]
    if meas:
        ax.plot([m[0] for m in meas], [m[1] for m in meas], "r*-", ms=10, label=measured_label)
    # Sizes on a log2 axis; other values (a wire codec, an algorithm) one tick each, in sweep order
    # (on the log axis "fp16" and "int8" were drawn on top of each other).
    if all(isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 for x in xs):
        ax.set_xscale("log", base=2)
        ax.set_xticks(xs)
    else:
        for line in ax.get_lines():
            line.set_xdata(range(len(xs)) if len(line.get_xdata()) == len(xs) else
                           [xs.index(x) for x in line.get_xdata()])
        ax.set_xticks(range(len(xs)))
    ax.set_xticklabels([str(x) for x in xs])
    every_layer = all(r["groups"] == r["layers"] for r in rows)  # the first row alone named G = L for all
    ax.set_xlabel({"model.layers": "layers L (groups G = L)" if every_layer else "layers L",
                   "model.hidden": "neurons per layer"}.get(axis, axis))
    ax.set_ylabel("speedup over 1 group")
    r0 = rows[0]
    fixed = f"width {r0['hidden']}" if axis == "model.layers" else f"{r0['layers']} layers, G = {r0['groups']}"
    algorithms = {r.get("algorithm") or "pdadmm-g" for r in rows}  # rows from before the key: G
    name = {"pdadmm-g": "pdADMM-G", "pdadmm-g-q": "pdADMM-G-Q"}.get(algorithms.pop(), "pdADMM") if len(algorithms) == 1 \
        else "pdADMM"
    short = axis[len("model."):] if axis.startswith("model.") else axis  # admm.wire.p was said as "p"
    ax.set_title(f"{name} speedup vs {short} ({fixed}, N = {r0['n_cols']})", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    print(f"wrote {out}")


def plot_bytes(path, out, check):
    rows = load_bytes(path)
    if check:
        for r in rows:
            print(f"{r['name']}: {r['bytes_per_iter']} bytes/iteration")
        return
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(rows) + 1.4), dpi=100)
    names = [r["name"] for r in rows][::-1]
    mb = [r["bytes_per_iter"] / 1e6 for r in rows][::-1]
    base = rows[0]["bytes_per_iter"]
    colors = ["tab:orange" if "-q" in n.lower() or "codes" in n.lower() else "tab:blue" for n in names]
    ax.barh(names, mb, color=colors)
    def against_first(n):  # as train and bench say it: "4.55 x fewer" (it said 0.22x)
        if not base or not n or n == base:
            return ""
        return f" {base / n:.2f}x fewer" if n < base else f" {n / base:.2f}x more"
    for y, (v, r) in enumerate(zip(mb, rows[::-1])):
        ax.text(v, y, against_first(r["bytes_per_iter"]), va="center", fontsize=8)
    ax.set_xlabel(f"MB per iteration across all boundaries (x fewer or more than the first row, {rows[0]['name']})")
    ax.set_xlim(0, max(mb) * 1.3)
    ax.set_title("Boundary bytes per iteration, pdADMM-G vs -Q codecs", fontsize=10)
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(out)
    print(f"wrote {out}")


def plot_convergence(path, out, check):
    rows = load_metrics(path)
    it = [r["iter"] for r in rows]
    if check:
        # null (JSON's NaN) passes load_metrics: printed as "none", drawn as a gap.
        def f(x, spec):
            return "none" if x is None else format(x, spec)
        print(f"{len(rows)} lines, iterations {it[0]}..{it[-1]}, objective {f(rows[0]['objective'], '.4g')} -> "
              f"{f(rows[-1]['objective'], '.4g')}, residual {f(rows[0]['residual'], '.3g')} -> "
              f"{f(rows[-1]['residual'], '.3g')}, test acc {f(rows[-1]['test_acc'], '.4f')}")
        return
    plt = pyplot()
    fig, axs = plt.subplots(1, 3, figsize=(10, 3.2), dpi=100)
    for ax, key, log in zip(axs, ("objective", "residual", "test_acc"), (True, True, False)):
        ys = [math.nan if r[key] is None else r[key] for r in rows]
        ax.plot(it, ys, "-")
        if log and all(y > 0 for y in ys if not math.isnan(y)):
            ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_title(key.replace("_", " "), fontsize=10)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out)
    print(f"wrote {out}")


def main():
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["speedup", "bytes", "convergence"])
    ap.add_argument("input")
    ap.add_argument("--out", help="PNG to write (default: INPUT with the kind and .png)")
    ap.add_argument("--check", action="store_true", help="validate and summarise the input, draw nothing")
    a = ap.parse_args()
    out = a.out or os.path.splitext(a.input)[0] + f"_{a.kind}.png"
    if not a.check:
        writable_file(out, "--out")
        if not out.lower().endswith(".png"):
            fail(f"--out {out}: the plots are PNG files; name it NAME.png")
    {"speedup": plot_speedup, "bytes": plot_bytes, "convergence": plot_convergence}[a.kind](a.input, out, a.check)


if __name__ == "__main__":
    run_main(main)
