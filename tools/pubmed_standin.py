#!/usr/bin/env python3
"""Writes a data folder with a STAND-IN ind.pubmed.allx, for running PubMed's configs where the real
file is missing (../shared/data lacks it): smoke runs and timings on PubMed's real graph, labels,
split and shapes. Never for accuracy: the validation nodes and every unlabelled node get features
that are not theirs.

Usage: tools/pubmed_standin.py [--data DIR] [--out DIR]
  --data  the real data folder (default $PDADMM_DATA, else ../shared/data beside the repository)
  --out   the folder to write (default pubmed_standin); it gets planetoid/ with links to the seven
          real PubMed files of --data and the stand-in allx, and STANDIN.md saying so
Then: build/pdadmm train -c configs/pubmed.json --data OUT.

allx holds the features of nodes 0..18716 (all but the test nodes). The stand-in's 18717 rows (ally's
row count) are: rows 0..59, the training nodes, ind.pubmed.x's own rows (real); rows 60..18716 the
rows of ind.pubmed.tx (real TF-IDF rows of the test nodes) repeated in order. The test nodes keep
their real features (tx). The pickle has the Planetoid files' layout (protocol 2, a
scipy.sparse.csr csr_matrix of float32 values and int32 indices), written with the standard library.
"""
import array
import os
import pickletools
import struct
import sys

from tool_common import ArgumentParser, fail, output_folder, run_main

PARTS = ["x", "y", "tx", "ty", "ally", "graph", "test.index"]


def read_csr(path):
    """(rows, cols), indptr, indices, data of a Planetoid CSR pickle (x or tx)."""
    with open(path, "rb") as f:
        ops = list(pickletools.genops(f.read()))
    # Each array's bytes follow its NEWFALSE (Fortran order False) in the ndarray's BUILD state.
    payloads = [ops[j + 1][1] for j, (op, _, _) in enumerate(ops) if op.name == "NEWFALSE"]
    at = [j for j, (_, arg, _) in enumerate(ops) if arg == "_shape"]
    if len(payloads) != 3 or not at:
        fail(f"{path}: not a Planetoid CSR pickle (expected a csr_matrix with three arrays)")
    shape = [arg for op, arg, _ in ops[at[0] + 1:at[0] + 5] if op.name.startswith("BININT")][:2]
    indptr, indices, data = array.array("i"), array.array("i"), array.array("f")
    for arr, raw in zip((indptr, indices, data), payloads):
        arr.frombytes(raw.encode("latin1"))  # Python 2 str payloads, read back as bytes
    if len(shape) != 2 or len(indptr) != shape[0] + 1 or not len(indices) == len(data) == indptr[-1]:
        fail(f"{path}: its CSR arrays disagree with its shape")
    return shape, indptr, indices, data


def ally_rows(path):
    """Rows of ind.pubmed.ally (a numpy array pickle): the first int of its shape tuple."""
    with open(path, "rb") as f:
        ops = list(pickletools.genops(f.read()))
    for j, (op, _, _) in enumerate(ops):
        if op.name == "MARK" and j + 1 < len(ops) and ops[j + 1][0].name.startswith("BININT"):
            return ops[j + 2][1]  # MARK, version (1), rows, cols, TUPLE2
    fail(f"{path}: no shape found")


def opcode_int(v):
    if 0 <= v < 256:
        return b"K" + bytes([v])
    if 0 <= v < 65536:
        return b"M" + struct.pack("<H", v)
    return b"J" + struct.pack("<i", v)


def short_str(s):
    return b"U" + bytes([len(s)]) + s


def array_pickle(count, dtype, payload, head=b"h\x07h\x08", memo=b""):
    """numpy.core.multiarray._reconstruct(ndarray, (0,), 'b') with its BUILD state: 1-d, count, dtype."""
    return (head + b"K\x00\x85" + short_str(b"b") + b"\x87R" + memo + b"(K\x01" + opcode_int(count) + b"\x85" + dtype +
            b"\x89T" + struct.pack("<I", len(payload)) + payload + b"tb")


def csr_pickle(rows, cols, indptr, indices, data):
    """The bytes cPickle wrote for the Planetoid files' scipy.sparse.csr_matrix (protocol 2)."""
    endian = short_str(b"<") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    i4 = b"cnumpy\ndtype\nq\x0a" + short_str(b"i4") + b"K\x00K\x01\x87Rq\x0b(K\x03" + endian
    f4 = b"h\x0a" + short_str(b"f4") + b"K\x00K\x01\x87Rq\x12(K\x03" + endian
    return (b"\x80\x02cscipy.sparse.csr\ncsr_matrix\nq\x01)\x81q\x02}q\x03(" + short_str(b"format") + b"q\x04" +
            short_str(b"csr") + short_str(b"_shape") + b"q\x05" + opcode_int(rows) + opcode_int(cols) + b"\x86" +
            short_str(b"indptr") + b"q\x06" +
            array_pickle(len(indptr), i4, indptr.tobytes(),
                         b"cnumpy.core.multiarray\n_reconstruct\nq\x07cnumpy\nndarray\nq\x08", b"q\x09") +
            short_str(b"_cs_matrix__has_sorted_indices") + b"q\x0c\x88" +
            short_str(b"indices") + b"q\x0d" + array_pickle(len(indices), b"h\x0b", indices.tobytes(), memo=b"q\x0e") +
            short_str(b"maxprint") + b"q\x0fK\x32" +
            short_str(b"data") + b"q\x10" + array_pickle(len(data), f4, data.tobytes(), memo=b"q\x11") + b"ub.")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = ArgumentParser(prog="tools/pubmed_standin.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.environ.get("PDADMM_DATA") or os.path.join(here, "..", "..", "shared", "data"))
    ap.add_argument("--out", default="pubmed_standin")
    a = ap.parse_args()
    src = os.path.join(a.data, "planetoid")
    for part in PARTS:
        if not os.path.isfile(os.path.join(src, "ind.pubmed." + part)):
            fail(f"--data {a.data}: planetoid/ind.pubmed.{part} not found")
    if os.path.exists(os.path.join(src, "ind.pubmed.allx")):
        fail(f"--data {a.data}: planetoid/ind.pubmed.allx is there: train on it, not on a stand-in")
    if os.path.abspath(a.out) == os.path.abspath(a.data):
        fail("--out must not be the --data folder")
    (xr, xc), xp, xi, xd = read_csr(os.path.join(src, "ind.pubmed.x"))
    (tr, tc), tp, ti, td = read_csr(os.path.join(src, "ind.pubmed.tx"))
    rows = ally_rows(os.path.join(src, "ind.pubmed.ally"))
    if xc != tc or not xr < rows:
        fail(f"--data {a.data}: x ({xr} x {xc}), tx ({tr} x {tc}) and ally ({rows} rows) do not fit together")
    indptr, indices, data = array.array("i", [0]), array.array("i"), array.array("f")
    for r in range(rows):
        p, i, d, k = (xp, xi, xd, r) if r < xr else (tp, ti, td, (r - xr) % tr)
        indices.extend(i[p[k]:p[k + 1]])
        data.extend(d[p[k]:p[k + 1]])
        indptr.append(len(indices))
    out = os.path.join(a.out, "planetoid")
    # Only this tool's own links and stand-in are replaced: a data folder's real files never are.
    ours = os.path.isfile(os.path.join(a.out, "STANDIN.md"))
    for part in PARTS + ["allx"]:
        f = os.path.join(out, "ind.pubmed." + part)
        if os.path.lexists(f) and not os.path.islink(f) and not (part == "allx" and ours):
            fail(f"--out {a.out}: {f} exists and is not this tool's (a real data folder?): choose another --out")
    output_folder(out, "--out")
    for part in PARTS:
        link = os.path.join(out, "ind.pubmed." + part)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.abspath(os.path.join(src, "ind.pubmed." + part)), link)
    target = os.path.join(out, "ind.pubmed.allx")
    with open(target + ".tmp", "wb") as f:
        f.write(csr_pickle(rows, xc, indptr, indices, data))
    os.replace(target + ".tmp", target)
    with open(os.path.join(a.out, "STANDIN.md"), "w") as f:
        f.write("planetoid/ind.pubmed.allx here is a STAND-IN written by tools/pubmed_standin.py: rows 0..%d are "
                "ind.pubmed.x's, the rest repeat ind.pubmed.tx's. Accuracy measured on this folder means nothing; "
                "the other PubMed files are links to %s.\n" % (xr - 1, os.path.abspath(src)))
    print(f"wrote {target}: a STAND-IN ({rows} x {xc}, {len(indices)} stored values; rows 0..{xr - 1} from x, "
          f"the rest from tx), for smoke runs and timings only, never for accuracy")
    print(f"e.g. build/pdadmm train -c configs/pubmed.json --data {a.out}")


if __name__ == "__main__":
    run_main(main)
