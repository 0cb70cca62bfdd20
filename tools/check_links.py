#!/usr/bin/env python3
"""Checks the relative links of README.md and docs/*.md: every linked file exists and every
#anchor names a heading of its page (GitHub's slugs: lower case, punctuation dropped, spaces to
hyphens, -1, -2 … for repeats). Links to http(s) and mailto are not followed.

  tools/check_links.py [ROOT]     (default: the repository holding this script)

Prints one line per broken link (FILE: missing file|anchor TARGET) and exits 1 if there is any.
Standard library only; ctest runs it (Docs.RelativeLinksResolve)."""
import argparse
import glob
import os
import re
import sys

from tool_common import ArgumentParser

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def slug(heading):
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = re.sub(r"[`*]", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


_ANCHORS = {}


def anchors(path):
    cache = _ANCHORS
    if path not in cache:
        seen, out = {}, set()
        with open(path, encoding="utf-8") as f:
            text = FENCE.sub("", f.read())
        for m in HEADING.finditer(text):
            s = slug(m.group(1))
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else f"{s}-{n}")
        cache[path] = out
    return cache[path]


def check(root):
    files = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md")))
    problems = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            text = CODE_SPAN.sub("", FENCE.sub("", fh.read()))
        for m in LINK.finditer(text):
            target = m.group(2)
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            path, _, frag = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
            rel = os.path.relpath(f, root)
            if not os.path.exists(dest):
                problems.append(f"{rel}: missing file {target}")
            elif frag and (not dest.endswith(".md") or frag not in anchors(dest)):
                problems.append(f"{rel}: missing anchor {target}")
    return files, problems


def main():
    # argparse: --help was taken for ROOT ("error: --help holds no README.md").
    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", metavar="ROOT", nargs="?",
                    default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="the repository to check (default: the one holding this script)")
    root = ap.parse_args().root
    if not os.path.isfile(os.path.join(root, "README.md")):
        print(f"error: {root} holds no README.md", file=sys.stderr)
        return 1
    files, problems = check(root)
    for p in problems:
        print(p)
    print(f"{len(problems)} broken link(s) in {len(files)} files")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
