#!/usr/bin/env python3
"""Build fortunes_topics/data.csv from Debian's `fortunes` package (1:1.99.1-7.3).

Usage:
    apt-get download fortunes=1:1.99.1-7.3        # fortunes_1%3a1.99.1-7.3_all.deb
    python3 build.py path/to/fortunes_1%3a1.99.1-7.3_all.deb

The .deb is unpacked with `dpkg-deb -x` into a temporary folder; the category
files are read from usr/share/games/fortunes/<category>.

One document = one fortune (the text between two lines holding only `%`).
Label = the name of the category file. Eight subject-matter categories are kept
(see CLASSES); files named after a source (cookie, zippy, knghtbrd, startrek,
humorists, ...), a form (definitions, songs-poems, platitudes, disclaimer,
riddles, ...) or a catch-all (people, miscellaneous, wisdom) are left out, as is
`linux` (a sub-topic of `computers`).
"""
import csv
import io
import os
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter

# the eight largest subject-matter category files (each >= 150 fortunes)
CLASSES = ["computers", "politics", "work", "science", "men-women", "art", "drugs", "law"]
SEED = 20261206
CAP = 6000
OUT_DIR = os.path.dirname(os.path.abspath(__file__))


def strip_overstrike(t):
    # nroff-style overstriking: "_\bx" (underline) and "x\bx" (bold) -> "x"
    while True:
        n = re.sub(r"[^\x08\n]\x08", "", t)
        if n == t:
            break
        t = n
    return t.replace("\x08", "")


def fix_mojibake(t):
    # a few fortunes hold UTF-8 that was decoded as Latin-1 and re-encoded (once or
    # twice); undo that while the text round-trips cleanly
    while re.search(r"[\x80-\xff]", t):
        try:
            n = t.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            break
        if n == t:
            break
        t = n
    return t


def clean(t):
    t = fix_mojibake(strip_overstrike(t))
    t = re.sub(r"[\x00-\x1f\x7f]", " ", t)  # tabs, newlines, other controls -> space
    return " ".join(t.split())


def read_category(path):
    raw = open(path, encoding="utf-8").read()
    parts = re.split(r"^%[ \t]*$", raw, flags=re.M)
    return [clean(p) for p in parts]


EXPECTED_MD5 = "9ccec1f59f75c794dceaa157f931ea3f"  # fortunes_1%3a1.99.1-7.3_all.deb, as SOURCE.md records
EXPECTED_ROWS = 4462


def main():
    deb = sys.argv[1]
    import hashlib
    with open(deb, "rb") as f:
        md5 = hashlib.md5(f.read()).hexdigest()
    if md5 != EXPECTED_MD5:
        # Another package version gives another corpus; the study's figures are for this one.
        sys.exit(f"{deb}: md5 {md5}, expected {EXPECTED_MD5} (Debian fortunes 1:1.99.1-7.3). Fetch that version: apt-get download fortunes=1:1.99.1-7.3")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
        base = os.path.join(tmp, "usr", "share", "games", "fortunes")
        raw = {c: read_category(os.path.join(base, c)) for c in CLASSES}

    stats = {}
    pairs = []
    for c in CLASSES:
        docs = raw[c]
        nonempty = [d for d in docs if d]
        stats[c] = {"split": len(docs), "nonempty": len(nonempty)}
        pairs.extend((c, d) for d in nonempty)

    # exact duplicates: keep one copy of a text seen with one label only;
    # drop every copy of a text that occurs under two or more labels
    labels_of = {}
    for c, d in pairs:
        labels_of.setdefault(d, set()).add(c)
    conflict = {d for d, ls in labels_of.items() if len(ls) > 1}
    seen = set()
    rows = []
    dup_same = 0
    dropped_conflict = 0
    for c, d in pairs:
        if d in conflict:
            dropped_conflict += 1
            continue
        if d in seen:
            dup_same += 1
            continue
        seen.add(d)
        rows.append((c, d))

    rng = random.Random(SEED)
    if len(rows) > CAP:  # stratified subsample (not needed for this build)
        by = {}
        for r in rows:
            by.setdefault(r[0], []).append(r)
        keep = []
        for c, rs in by.items():
            k = round(CAP * len(rs) / len(rows))
            keep.extend(rng.sample(rs, k))
        rows = keep
    rng.shuffle(rows)

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(["Label", "Text"])
    for c, d in rows:
        w.writerow([c, d])
    with open(os.path.join(OUT_DIR, "data.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())

    if len(rows) != EXPECTED_ROWS:
        sys.exit(f"built {len(rows)} rows, expected {EXPECTED_ROWS}: the conversion no longer reproduces the study's corpus")
    cnt = Counter(c for c, _ in rows)
    nw = [len(d.split()) for _, d in rows]
    print("per file (split pieces / non-empty):", stats)
    print("same-label duplicates dropped:", dup_same, " cross-label copies dropped:", dropped_conflict,
          "(texts:", len(conflict), ")")
    print("rows:", len(rows), dict(sorted(cnt.items(), key=lambda x: -x[1])))
    print("mean words/doc: %.1f  median: %d  max: %d" % (sum(nw) / len(nw), sorted(nw)[len(nw) // 2], max(nw)))


if __name__ == "__main__":
    main()
