#!/usr/bin/env python3
"""Seed corpora for tools/fuzz.sh (standard library only): DATA OUT writes OUT/pickle, OUT/npy,
OUT/planetoid and OUT/config (configs/*.json, and each sweep of configs/sweeps as fuzz_config's input:
its base config followed by "--set" lines). Real files are used where small enough (<= 64 KiB, libFuzzer's -max_len); small
synthetic inputs that load completely (a full .npz with stored and deflated members, a dense
attr_matrix one, whole Planetoid sets joined by SEP, a user's edge list, features and labels joined by
"@@@\n" in OUT/files) let the fuzzer start past every check."""
import io
import json
import os
import struct
import sys
import zipfile
import zlib

SEP = b"\xffPART\xff"  # tools/fuzz/fuzz_planetoid.cpp's separator
MAX = 65536


# ---- .npy / .npz ----
def npy(descr, shape, payload):
    dims = "(%d,)" % shape[0] if len(shape) == 1 else "(" + ", ".join(str(d) for d in shape) + ")"
    head = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, dims)
    head += " " * (63 - (10 + len(head)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode() + payload


def i4(v): return struct.pack("<%di" % len(v), *v)
def i8(v): return struct.pack("<%dq" % len(v), *v)
def f4(v): return struct.pack("<%df" % len(v), *v)


def csr_rows(rows):
    indptr, indices, data = [0], [], []
    for row in rows:
        for c, x in row:
            indices.append(c)
            data.append(x)
        indptr.append(len(indices))
    return indptr, indices, data


def bench_members(n, d, classes, dense):
    adj = [[((i * 7 + k) % n, 1.0) for k in (1, 3) if (i * 7 + k) % n != i] for i in range(n)]
    adj[1].append((1, 1.0))                  # a self-loop, dropped
    adj[2] += [(5, 1.0), (5, 1.0)]          # a duplicate, merged
    attr = [[((i + k) % d, float(1 + (i + k) % 3)) for k in (2, 0)] for i in range(n)]  # unsorted, counts
    labels = [i % classes for i in range(n)]
    labels[n - 1] = -1                       # unlabelled
    p, ix, dv = csr_rows(adj)
    m = {"adj_data": npy("<f4", [len(dv)], f4(dv)), "adj_indices": npy("<i4", [len(ix)], i4(ix)),
         "adj_indptr": npy("<i4", [n + 1], i4(p)), "adj_shape": npy("<i8", [2], i8([n, n])),
         "labels": npy("<i8", [n], i8(labels))}
    if dense:
        mat = [0.0] * (n * d)
        for i, row in enumerate(attr):
            for c, x in row:
                mat[i * d + c] = x
        m["attr_matrix"] = npy("<f4", [n, d], f4(mat))
    else:
        p, ix, dv = csr_rows(attr)
        m.update({"attr_data": npy("<f4", [len(dv)], f4(dv)), "attr_indices": npy("<i4", [len(ix)], i4(ix)),
                  "attr_indptr": npy("<i4", [n + 1], i4(p)), "attr_shape": npy("<i8", [2], i8([n, d]))})
    return m


def write_npz(path, members, deflate_every):
    with zipfile.ZipFile(path, "w") as z:
        for k, (name, data) in enumerate(sorted(members.items())):
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if deflate_every and k % deflate_every == 0 else zipfile.ZIP_STORED
            z.writestr(info, data)


# ---- protocol-2 pickles as cPickle wrote the Planetoid files ----
def pint(v):
    if 0 <= v < 256: return b"K" + bytes([v])
    if 0 <= v < 65536: return b"M" + struct.pack("<H", v)
    return b"J" + struct.pack("<i", v)


def pstr(b):
    return (b"U" + bytes([len(b)]) if len(b) < 256 else b"T" + struct.pack("<I", len(b))) + b


def pndarray(shape, code, payload):
    s = b"cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02" + pint(0) + b"\x85" + pstr(b"b") + b"\x87R"
    s += b"(" + pint(1) + b"(" + b"".join(pint(d) for d in shape) + b"t"
    s += b"cnumpy\ndtype\n" + pstr(code) + pint(0) + pint(1) + b"\x87R"
    s += b"(" + pint(3) + pstr(b"<") + b"NNN" + b"J\xff\xff\xff\xffJ\xff\xff\xff\xff" + pint(0) + b"tb"
    return s + b"\x89" + pstr(payload) + b"tb"


def pcsr(rows, d):
    p, ix, dv = csr_rows(rows)
    s = b"\x80\x02cscipy.sparse.csr\ncsr_matrix\nq\x01)\x81}(" + pstr(b"format") + pstr(b"csr")
    s += pstr(b"_shape") + pint(len(rows)) + pint(d) + b"\x86"
    s += pstr(b"indptr") + pndarray([len(p)], b"i4", i4(p)) + pstr(b"indices") + pndarray([len(ix)], b"i4", i4(ix))
    s += pstr(b"data") + pndarray([len(dv)], b"f4", f4(dv))
    s += pstr(b"_cs_matrix__has_sorted_indices") + b"\x88" + pstr(b"maxprint") + pint(50) + b"ub."
    return s


def ponehot(labels, classes):
    flat = []
    for y in labels:
        flat += [1 if c == y else 0 for c in range(classes)]
    return b"\x80\x02" + pndarray([len(labels), classes], b"i4", i4(flat)) + b"."


def pgraph(lists):
    s = b"\x80\x02ccollections\ndefaultdict\nq\x01c__builtin__\nlist\nq\x02\x85R("
    for i, nb in enumerate(lists):
        s += pint(i) + b"]"
        if len(nb) == 1: s += pint(nb[0]) + b"a"
        elif nb: s += b"(" + b"".join(pint(j) for j in nb) + b"e"
    return s + b"u."


def planetoid(classes, d, train, test_ids, n, tfidf):
    """len(y) = train, allx = train + 500 + 4 rows, tx rows for test_ids (file order), n graph nodes."""
    nall = train + 504
    val = (lambda r: 0.25 + 0.5 * (r % 3)) if tfidf else (lambda r: 1.0)
    feat = lambda r: [((r * 3 + 1) % d, val(r)), (r % d, val(r + 1))]  # unsorted within the row
    allx = [feat(r) for r in range(nall)]
    ally = [r % classes for r in range(nall)]
    tx = [feat(v) for v in test_ids]
    ty = [v % classes for v in test_ids]
    lists = [[(i + 1) % n] if i % 50 else [(i + 1) % n, (i + 1) % n, i] for i in range(n)]  # duplicates, self-loops
    for v in range(min(test_ids), max(test_ids) + 1):
        if v not in test_ids:  # CiteSeer's isolated test-range ids: no features, no edges
            lists[v] = []
            lists[v - 1] = []
    return SEP.join([pcsr(allx[:train], d), ponehot(ally[:train], classes), pcsr(tx, d), ponehot(ty, classes),
                     pcsr(allx, d), ponehot(ally, classes), pgraph(lists),
                     b"".join(b"%d\n" % v for v in test_ids)])


# ---- configs (fuzz_config: a config's text, then "\n--set key=value" lines) ----
def config_seeds(out):
    configs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "configs")
    for name in sorted(os.listdir(configs)):
        if name.endswith(".json"):
            with open(os.path.join(configs, name), "rb") as f, open(os.path.join(out, name), "wb") as g:
                g.write(f.read())
    sweeps = os.path.join(configs, "sweeps")
    for name in sorted(os.listdir(sweeps)):
        with open(os.path.join(sweeps, name)) as f:
            spec = json.load(f)
        with open(os.path.join(sweeps, spec["base"])) as f:
            base = f.read().rstrip("\n")
        sets = dict(spec.get("set", {}))
        runs = [{spec["axis"]["key"]: v} for v in spec["axis"]["values"]] if "axis" in spec else \
            [v.get("set", {}) for v in spec.get("variants", [])]
        for i, run in enumerate(runs or [{}]):
            lines = ["--set %s=%s" % (k, json.dumps(v) if not isinstance(v, str) else v)
                     for k, v in {**sets, **run}.items()]
            with open(os.path.join(out, "sweep_%s.%d" % (name, i)), "w") as f:
                f.write("\n".join([base] + lines))
    # Sizes at their limits (what the first runs' findings were made of), for the mutations to start from.
    limits = ["model.layers=3\n--set model.hidden=2147483647", "partition=[2147483647,2147483647,4]",
              "model.layers=10000\n--set groups=10000", "data.synthetic.nodes=2147483647\n--set data.synthetic.features="
              "2147483647\n--set model.hops=64\n--set data.synthetic.train_per_class=400000000",
              "algorithm=pdadmm-g-q\n--set groups=2\n--set model.hidden=2147483647\n--set admm.grid.levels=65536"]
    for i, sets in enumerate(limits):
        with open(os.path.join(out, "limits.%d" % i), "w") as f:
            f.write("{}\n--set " + sets)


# ---- a user's own files: edge list @@@ features (CSV, .npy or save_npz's .npz) @@@ labels ----
def files_seeds(out):
    n, classes = 30, 3
    edges = "# edges\n" + "".join("%d %d\n" % (u, v) for u in range(n) for v in range(u + 1, n)
                                   if u % classes == v % classes)
    csv = "".join(",".join("1.5" if j == v % classes else "0" for j in range(classes)) + "\n" for v in range(n))
    dense = npy("<f4", [n, classes], f4([1.5 if j == v % classes else 0.0 for v in range(n) for j in range(classes)]))
    labels = "".join("%d\n" % (-1 if v % 7 == 6 else v % classes) for v in range(n))
    # Sparse features as scipy.sparse.save_npz writes them (format a 0-d '|S3'); stored members.
    p, ix, dv = csr_rows([[(v % classes, 1.5)] for v in range(n)])
    buf = io.BytesIO()
    write_npz(buf, {"indices": npy("<i4", [len(ix)], i4(ix)), "indptr": npy("<i4", [n + 1], i4(p)),
                    "format": npy("|S3", [], b"csr"), "shape": npy("<i8", [2], i8([n, classes])),
                    "data": npy("<f4", [len(dv)], f4(dv))}, 0)
    assert b"@@@\n" not in buf.getvalue()
    seeds = {"csv": (edges + "@@@\n" + csv + "@@@\n" + labels).encode(),
             "npy": edges.encode() + b"@@@\n" + dense + b"@@@\n" + labels.encode(),
             "save_npz": edges.encode() + b"@@@\n" + buf.getvalue() + b"@@@\n" + labels.encode(),
             "commas": (edges.replace(" ", ",") + "@@@\n" + csv + "@@@\n" + labels).replace("\n", "\r\n").encode()}
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


def framed(magic, header, payload):
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    return magic + struct.pack("<Q", len(text)) + text + payload


def checked(header, keys):
    part = {k: header[k] for k in keys if k in header}
    return zlib.crc32(json.dumps(part, separators=(",", ":"), sort_keys=True).encode())


def model_seeds(out):
    """Whole model.bin and state.bin files that load (checksums right), as train writes them."""
    shapes = [(3, 4), (2, 3)]
    payload = b"".join(f4([0.5 * (i - 3) for i in range(r * c)]) + f4([0.25] * r) for r, c in shapes)
    h = {"meta": {"config": {"model": {"hops": 1}}, "iterations": 3, "dims": [4, 3, 2]},
         "layers": [{"rows": r, "cols": c} for r, c in shapes], "crc32": zlib.crc32(payload)}
    h["header_crc32"] = checked(h, ["crc32", "layers", "meta"])
    tensors = [("W0", 3, 4), ("u1", 2, 3), ("empty", 0, 5)]
    spay = b"".join(f4([float(i) for i in range(r * c)]) for _, r, c in tensors)
    sh = {"meta": {"iteration": 2, "stage": 0}, "tensors": [{"name": n, "rows": r, "cols": c} for n, r, c in tensors]}
    sh["header_crc32"] = checked(sh, ["meta", "tensors"])
    sh["crc32"] = zlib.crc32(spay)
    seeds = {"model.bin": framed(b"PDADMM01", h, payload), "state.bin": framed(b"PDADMMS1", sh, spay)}
    seeds["model_odd.bin"] = seeds["model.bin"] + b" "  # odd size: the harness recomputes the checksums
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


def main():
    src, out = sys.argv[1], sys.argv[2]
    dirs = {k: os.path.join(out, k) for k in ("pickle", "npy", "planetoid", "config", "files", "model")}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    pdir, ndir = os.path.join(src, "planetoid"), os.path.join(src, "npz")
    if os.path.isdir(pdir):
        for name in sorted(os.listdir(pdir)):
            path = os.path.join(pdir, name)
            if name.startswith("ind.") and not name.endswith("test.index") and os.path.getsize(path) <= MAX:
                with open(path, "rb") as f, open(os.path.join(dirs["pickle"], name), "wb") as g:
                    g.write(f.read())
    else:
        print("seeds.py: no Planetoid files under %s; pickle seeds are synthetic only" % src, file=sys.stderr)
    small = {}
    if os.path.isdir(ndir):
        for name in sorted(os.listdir(ndir)):
            with zipfile.ZipFile(os.path.join(ndir, name)) as z:
                for info in z.infolist():
                    if info.file_size <= MAX:
                        data = z.read(info)
                        small[info.filename] = data
                        with open(os.path.join(dirs["npy"], name + "." + info.filename), "wb") as f:
                            f.write(data)
        with zipfile.ZipFile(os.path.join(dirs["npy"], "small.npz"), "w") as z:
            for i, (k, v) in enumerate(sorted(small.items())[:4]):
                z.writestr(k, v, compress_type=zipfile.ZIP_DEFLATED if i % 2 else zipfile.ZIP_STORED)
    else:
        print("seeds.py: no npz files under %s; npy seeds are synthetic only" % src, file=sys.stderr)
    # Whole data sets that load: stored, mixed stored/deflated, dense features.
    write_npz(os.path.join(dirs["npy"], "bench_stored.npz"), bench_members(40, 6, 3, False), 0)
    write_npz(os.path.join(dirs["npy"], "bench_deflated.npz"), bench_members(40, 6, 3, False), 2)
    write_npz(os.path.join(dirs["npy"], "bench_dense.npz"), bench_members(30, 5, 2, True), 3)
    for name, data in bench_members(12, 4, 2, False).items():
        with open(os.path.join(dirs["npy"], "bench." + name), "wb") as f:
            f.write(data)
    sets = {"citeseer_like": planetoid(3, 12, 6, [514, 510, 513, 511, 515], 516, False),
            "cora_like": planetoid(2, 8, 4, [511, 508, 509, 510], 512, True)}
    for name, data in sets.items():
        assert len(data) <= MAX, (name, len(data))
        with open(os.path.join(dirs["planetoid"], name), "wb") as f:
            f.write(data)
        for k, part in enumerate(data.split(SEP)[:6]):
            if len(part) < 4096:
                with open(os.path.join(dirs["pickle"], "%s.%d" % (name, k)), "wb") as f:
                    f.write(part)
    config_seeds(dirs["config"])
    files_seeds(dirs["files"])
    model_seeds(dirs["model"])


if __name__ == "__main__":
    main()
