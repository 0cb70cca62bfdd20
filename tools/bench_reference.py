#!/usr/bin/env python3
"""Times the reference code's pdADMM-G iteration (transcribed to PyTorch) against pdadmm, same shapes.

Usage: tools/bench_reference.py [--dataset cora] [--algorithm pdadmm-g] [--layers 10] [--hidden 500]
                                [--iterations 20] [--threads 2] [--binary build/pdadmm]
                                [--device cpu|cuda] [--data DIR] [--json FILE] [--check-only]
The authors' code (github:xianggebenben/pdADMM-G) is not vendored and cannot be fetched here, so
its serial driver is transcribed step by step from shared/reference_algorithm.md section 1, the
way it computes: autograd gradients for p and W, backtracking from t = 20 that re-evaluates the
objective at every trial, W p recomputed in every step, FISTA for z_L (eta 4, up to 50 steps),
float32 on the CPU. First the transcription runs in float64 on shared/reference_vectors and must
match them (1e-8 relative, counts exact), else the script stops. Then both run --iterations
iterations on the same shapes (the data set's training nodes, augmented dimension and classes;
the reference on random binary features, pdadmm on the real data set with admm.preset
"reference", the same rho = nu and mu, no rho schedule) with the same threads, and the
ADMM-update time per iteration is compared (evaluation excluded on both sides, as the reference's
t_train excludes it). --algorithm pdadmm-g-q projects q onto the reference's grid
linspace(-1, 2, 1000) as its update_q_quantize does (a 1000 x (n N) distance matrix and argmin),
against pdadmm with admm.quantize "q", admm.grid "reference". --device cuda runs the
transcription on the GPU (as the authors ran theirs; the GPU is synchronised before each clock
read) against pdadmm's "backend": "cuda". Needs PyTorch (pip install torch); nothing else of pdadmm
does.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from tool_common import (BINARY_DEFAULT, ArgumentParser, cpu_model, default_binary, import_or_fail, load_json,
                         load_jsonl, pass_on_said, read_result, require_binary, run_child, run_main, writable_file,
                         write_json)

torch = None  # imported in main(), after the arguments: --help works without PyTorch


# Training nodes, augmented dimension (5 x features, 4 hops) and classes of the real data sets.
SHAPES = {"cora": (140, 7165, 7), "citeseer": (120, 18515, 6), "pubmed": (60, 2500, 3),
          "amazon_computers": (200, 3835, 10), "amazon_photo": (160, 3725, 8), "coauthor_cs": (300, 34025, 15)}


def relu(x):
    return torch.clamp(x, min=0)


def backtrack(obj, x, grad, t0=20.0, tries=10):
    """The reference's step: x - grad / t, t doubling from 20 while the quadratic bound fails."""
    fx = obj(x)
    t, count = t0, 0
    cand = x - grad / t
    while obj(cand) > fx + torch.sum(grad * (cand - x)) + t / 2 * torch.sum((cand - x) ** 2):
        t *= 2
        cand = x - grad / t
        count += 1
        if count > tries:
            return x, count, 1
    return cand, count, 0


def autograd(obj, x):
    v = x.detach().clone().requires_grad_(True)
    return torch.autograd.grad(obj(v), v)[0]


def update_p(p, q, u, W, b, z, rho):
    def phi(x):
        return rho / 2 * torch.sum((W @ x + b - z) ** 2) + torch.sum(u * (x - q)) + rho / 2 * torch.sum((x - q) ** 2)
    return backtrack(phi, p, autograd(phi, p))


def update_W(W, p, b, z, rho, mu):
    def psi(x):
        return rho / 2 * torch.sum((x @ p + b - z) ** 2) + mu / 2 * torch.sum(x ** 2)
    return backtrack(psi, W, autograd(psi, W))


def update_b(W, p, b, z, rho):
    return b - torch.mean(rho * (W @ p + b - z), dim=1, keepdim=True) / rho


def update_z(z0, W, p, b, q):
    a = W @ p + b
    c1 = torch.clamp((a + z0) / 2, max=0)
    c2 = torch.clamp((a + z0 + q) / 3, min=0)
    v1 = (c1 - a) ** 2 + (q - relu(c1)) ** 2
    v2 = (c2 - a) ** 2 + (q - relu(c2)) ** 2
    return torch.where(v1 > v2, c2, c1)


def softmax(z):
    # Max-subtracted as in the reference vectors; the reference instead clamps exp's overflow to
    # exp(88.6), one element-wise pass either way on a C x N matrix.
    e = torch.exp(z - torch.max(z, dim=0, keepdim=True).values)
    return e / (torch.sum(e, dim=0, keepdim=True) + 1e-10)


def cross_entropy(z, Y):
    return -torch.sum(Y * torch.log(softmax(z) + 1e-10))


def update_zl(z, W, p, b, Y, rho, eta=4.0, max_iter=50, tol=1e-3):
    a = W @ p + b
    lam, zeta, f_old, its = 1.0, z, 1e11, 0
    for _ in range(max_iter):
        f = float(cross_entropy(z, Y) + rho / 2 * torch.sum((z - a) ** 2))
        if abs(f - f_old) < tol:
            break
        f_old = f
        lam_old = lam
        lam = (1 + (1 + 4 * lam * lam) ** 0.5) / 2
        gamma = (1 - lam_old) / lam
        G = softmax(z) - Y
        zeta_old = zeta
        zeta = (rho * a + (z - eta * G) / eta) / (rho + 1 / eta)
        z = (1 - gamma) * zeta + gamma * zeta_old
        its += 1
    return z, its


def project_reference(q, delta):
    """The reference's quantizer: the nearest level of delta by a |delta| x q.numel() distance matrix
    (torch.argmin: ties to the lower level)."""
    idx = torch.argmin(torch.abs(q.reshape(1, -1) - delta.reshape(-1, 1)), dim=0)
    return delta[idx].reshape(q.shape)


def iteration(s, X, Y, rho, mu, delta=None):
    """One serial iteration in the reference's order: all p, all W, all b, all z, all q, all u.
    With delta (pdADMM-G-Q), q is projected onto it."""
    L = len(s["W"])
    c = {"p_backtracks": 0, "p_giveups": 0, "W_backtracks": 0, "W_giveups": 0}
    P = [X] + s["p"][1:]
    for l in range(1, L):
        P[l], n, g = update_p(P[l], s["q"][l - 1], s["u"][l - 1], s["W"][l], s["b"][l], s["z"][l], rho)
        c["p_backtracks"] += n
        c["p_giveups"] += g
    for l in range(L):
        s["W"][l], n, g = update_W(s["W"][l], P[l], s["b"][l], s["z"][l], rho, mu)
        c["W_backtracks"] += n
        c["W_giveups"] += g
    for l in range(L):
        s["b"][l] = update_b(s["W"][l], P[l], s["b"][l], s["z"][l], rho)
    for l in range(L - 1):
        s["z"][l] = update_z(s["z"][l], s["W"][l], P[l], s["b"][l], s["q"][l])
    s["z"][L - 1], c["fista_its"] = update_zl(s["z"][L - 1], s["W"][L - 1], P[L - 1], s["b"][L - 1], Y, rho)
    for l in range(L - 1):
        s["q"][l] = (P[l + 1] + s["u"][l] / rho + relu(s["z"][l])) / 2
        if delta is not None:
            s["q"][l] = project_reference(s["q"][l], delta)
    r2 = 0.0
    for l in range(L - 1):
        r = P[l + 1] - s["q"][l]
        r2 += float(torch.sum(r * r))
        s["u"][l] = s["u"][l] + rho * r
    s["p"] = [None] + P[1:]
    c["r2"] = r2
    return c


def init_state(X, W, b):
    """z = W p + b, q = relu(z), p_{l+1} = q; z_L = 0; u = 0 (the reference vectors' start)."""
    L = len(W)
    s = {"W": list(W), "b": list(b), "z": [], "q": [], "p": [None], "u": []}
    p = X
    for l in range(L - 1):
        z = W[l] @ p + b[l]
        s["z"].append(z)
        s["q"].append(relu(z))
        s["u"].append(torch.zeros_like(z))
        p = relu(z)
        s["p"].append(p)
    s["z"].append(torch.zeros(W[-1].shape[0], X.shape[1], dtype=X.dtype, device=X.device))
    return s


def check_vectors(path):
    """The transcription against shared/reference_vectors (float64); returns the worst relative error."""
    vec = load_json(path, "--vectors")
    t = lambda m: torch.tensor(m, dtype=torch.float64)  # noqa: E731
    worst = 0.0
    for case in ("tiny_3layer", "tiny_3layer_small_rho"):
        v = vec[case]
        X, Y = t(v["X"]), t(v["Y"])
        s = init_state(X, [t(w) for w in v["W0"]], [t(x).reshape(-1, 1) for x in v["b0"]])
        for want in v["iterations"]:
            got = iteration(s, X, Y, v["rho"], v["mu"])
            for k in ("p_backtracks", "p_giveups", "W_backtracks", "W_giveups", "fista_its"):
                if got[k] != want[k]:
                    sys.exit("error: reference transcription: %s iteration %d: %s = %d, vectors say %d"
                             % (case, want["it"], k, got[k], want[k]))
            pairs = [(got["r2"], want["r2"], "r2")]
            for key in ("W", "b", "z", "p", "q", "u"):
                for l, w in enumerate(want[key]):
                    if w is not None:
                        pairs.append((s[key][l].reshape(-1), t(w).reshape(-1), "%s[%d]" % (key, l)))
            for g, w, name in pairs:
                g, w = torch.as_tensor(g, dtype=torch.float64), torch.as_tensor(w, dtype=torch.float64)
                err = float(torch.max(torch.abs(g - w) / torch.clamp(torch.abs(w), min=1e-3)))
                if err > 1e-8:
                    sys.exit("error: reference transcription: %s iteration %d: %s differs from the vectors by %.3g"
                             % (case, want["it"], name, err))
                worst = max(worst, err)
    # The quantizer against arithmetic rounding on the same uniform grid (ties excluded).
    delta = torch.linspace(-1, 2, 1000, dtype=torch.float64)
    x = torch.linspace(-1.5, 2.5, 4001, dtype=torch.float64) + 1e-7
    step = 3 / 999
    want = delta[torch.clamp(torch.round((x + 1) / step), 0, 999).long()]
    if not torch.equal(project_reference(x, delta), want):
        sys.exit("error: reference transcription: the quantizer does not pick the nearest level")
    return worst


def time_reference(N, d, C, layers, hidden, iterations, rho, mu, threads, quantized, device):
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    # Binary features at Cora's density (1.3% ones): the GEMMs cost the same as on dense data, and
    # the activations stay in the range real data give (N(0, 1) features saturate the softmax).
    X = (torch.rand(d, N, generator=g) < 0.013).float()
    Y = torch.nn.functional.one_hot(torch.arange(N) % C, C).T.float()
    dims = [d] + [hidden] * (layers - 1) + [C]
    W = [0.1 * torch.randn(dims[l + 1], dims[l], generator=g) for l in range(layers)]
    b = [0.1 * torch.randn(dims[l + 1], 1, generator=g) for l in range(layers)]
    X, Y = X.to(device), Y.to(device)
    s = init_state(X, [w.to(device) for w in W], [v.to(device) for v in b])
    delta = torch.linspace(-1, 2, 1000, device=device) if quantized else None
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    secs, counts = [], []
    for _ in range(iterations):
        sync()
        t = time.perf_counter()
        counts.append(iteration(s, X, Y, rho, mu, delta))
        sync()
        secs.append(time.perf_counter() - t)
    return secs, counts


def run_pdadmm(binary, dataset, algorithm, layers, hidden, iterations, rho, mu, threads, device, log_every,
               data=None):
    cfg = {"data": {"name": dataset, **({"root": os.path.abspath(data)} if data else {})}, "threads": threads, "algorithm": algorithm, "backend": device,
           "model": {"layers": layers, "hidden": hidden, "hops": 4, "hop_order": "descending"},
           "admm": {"iterations": iterations, "nu": rho, "rho": rho, "mu": mu, "preset": "reference"},
           "output": {"progress": "off", "checkpoint": False, "log_every": log_every}}
    if algorithm == "pdadmm-g-q":
        cfg["admm"].update({"quantize": "q", "grid": "reference"})
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        p = run_child([binary, "train", "--config", path, "--out", os.path.join(tmp, "run")],
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            errors = [line for line in p.stdout.splitlines() if line.startswith("error:")]
            sys.exit("error: pdadmm train: " + (errors[-1][len("error: "):] if errors else p.stdout.strip()))
        pass_on_said(p.stdout, "pdadmm train")
        sm = read_result(os.path.join(tmp, "run", "summary.json"), binary)
        rows = [r for _, r in load_jsonl(os.path.join(tmp, "run", "metrics.jsonl"))]
    return sm, rows


def time_pdadmm(binary, dataset, algorithm, layers, hidden, iterations, rho, mu, threads, device, data=None):
    """Seconds from a run that evaluates only at the end (as the transcription never evaluates);
    FISTA steps and backtracks from a second run that logs every iteration."""
    args = (binary, dataset, algorithm, layers, hidden, iterations, rho, mu, threads, device)
    sm, _ = run_pdadmm(*args, log_every=iterations, data=data)
    _, rows = run_pdadmm(*args, log_every=1, data=data)
    sm["fista_its_mean"] = sum(r["fista_its"] for r in rows) / len(rows)
    sm["backtracks"] = sum(r["backtracks"]["p"] + r["backtracks"]["W"] for r in rows)
    return sm


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="cora", choices=sorted(SHAPES), help="its shapes (default cora)")
    ap.add_argument("--algorithm", default="pdadmm-g", choices=["pdadmm-g", "pdadmm-g-q"], help="(default pdadmm-g)")
    ap.add_argument("--layers", type=int, default=10, help="layers of the model (default 10)")
    ap.add_argument("--hidden", type=int, default=500, help="neurons per hidden layer (default 500)")
    ap.add_argument("--iterations", type=int, default=20, help="timed on each side (default 20)")
    ap.add_argument("--rho", type=float, default=1e-4, help="rho = nu (the paper's Table VI value for Cora)")
    ap.add_argument("--mu", type=float, default=0.01, help="weight decay (default 0.01)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="for both sides (default: all cores)")
    ap.add_argument("--binary", default=default_binary(), help=f"the pdadmm binary (default {BINARY_DEFAULT})")
    ap.add_argument("--vectors", default=os.path.join(root, "..", "shared", "reference_vectors", "pdadmm_reference.json"),
                    help="the reference vectors the transcription must match (default ../shared/reference_vectors)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                    help="where both run: the transcription's torch device and pdadmm's backend")
    ap.add_argument("--json", help="write the result here")
    ap.add_argument("--data", metavar="DIR", help="the data folder pdadmm reads --dataset from (default $PDADMM_DATA, "
                    "else ./data)")
    ap.add_argument("--check-only", action="store_true", help="only check the transcription against the vectors")
    a = ap.parse_args()
    if a.json:
        writable_file(a.json, "--json", ("a result of bench_reference.py",
                                         lambda o: isinstance(o, dict) and "dataset" in o and "speedup" in o))
    global torch
    torch = import_or_fail("torch", "PyTorch", "bench_reference.py")
    if a.layers < 2 or a.hidden < 1 or a.iterations < 1 or a.threads < 1:
        sys.exit("error: --layers >= 2, --hidden, --iterations and --threads >= 1 are required")
    if not os.path.isfile(a.vectors):
        sys.exit("error: --vectors: " + a.vectors + " does not exist")
    worst = check_vectors(a.vectors)
    print("reference transcription matches %s (float64, worst relative error %.1e)" % (a.vectors, worst))
    if a.check_only:
        return
    if a.device == "cuda" and not torch.cuda.is_available():
        sys.exit("error: --device cuda: PyTorch sees no CUDA device")
    require_binary(a.binary, "--binary")
    N, d, C = SHAPES[a.dataset]
    sm = time_pdadmm(a.binary, a.dataset, a.algorithm, a.layers, a.hidden, a.iterations, a.rho, a.mu, a.threads,
                     a.device, a.data)
    ref_secs, counts = time_reference(N, d, C, a.layers, a.hidden, a.iterations, a.rho, a.mu, a.threads,
                                      a.algorithm == "pdadmm-g-q", a.device)
    ref_med = statistics.median(ref_secs[1:] or ref_secs)
    our_med = sm["seconds_per_iter_median"]
    res = {"dataset": a.dataset, "algorithm": a.algorithm,
           "shape": {"N": N, "d": d, "classes": C, "layers": a.layers, "hidden": a.hidden},
           "iterations": a.iterations, "rho": a.rho, "mu": a.mu, "threads": a.threads,
           "torch": torch.__version__, "pdadmm": sm.get("version"), "cpu": cpu_model(), "device": a.device,
           "gpu": torch.cuda.get_device_name(0) if a.device == "cuda" else None,
           "reference_s_per_iter_median": ref_med,
           "reference_fista_its_mean": sum(c["fista_its"] for c in counts) / len(counts),
           "reference_backtracks": sum(c["p_backtracks"] + c["W_backtracks"] for c in counts),
           "pdadmm_s_per_iter_median": our_med, "pdadmm_fista_its_mean": sm["fista_its_mean"],
           "pdadmm_backtracks": sm["backtracks"], "speedup": ref_med / our_med}
    print("%s %s, %d layers x %d, N = %d, d = %d, %d threads, %d iterations, on %s:"
          % (a.algorithm, a.dataset, a.layers, a.hidden, N, d, a.threads, a.iterations, res["gpu"] or "the CPU"))
    print("  reference (PyTorch %s transcription): %.4f s/iteration (median; FISTA steps %.1f per iteration)"
          % (torch.__version__, ref_med, res["reference_fista_its_mean"]))
    print("  pdadmm (admm.preset reference):        %.4f s/iteration (median; FISTA steps %.1f per iteration)"
          % (our_med, sm["fista_its_mean"]))
    print("  speedup: %.2fx" % res["speedup"])
    if a.json:
        write_json(a.json, res)


if __name__ == "__main__":
    run_main(main)
