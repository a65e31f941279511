#!/usr/bin/env python3
"""How often a typed typo of the labelled queries lands on another real 字号.

Usage: scripts/typo-lands-on-real-brand.py QUERIES.csv ENTRIES.csv [BRANDS.txt]

For each typed typo (homophone, similar pinyin, look-alike, transposition)
of `credgate gen-queries`, it finds the listed 字号 inside the listed name
(the longest brand-corpus 字号 covering the edit), applies the query's edit
to it and looks the result up in the corpus. Prints, per kind, how many
typos it could resolve and how many of them are another real 字号
(BENCHMARKS.md, "Issue 9 at 10M: what a name alone can still tell").
BRANDS.txt defaults to ../shared/data/brand-names.txt.
"""
import csv
import sys

KINDS = ("homophone_typo", "similar_pinyin_typo", "lookalike_typo", "transposition")


def main() -> None:
    queries_path, entries_path = sys.argv[1], sys.argv[2]
    brands_path = sys.argv[3] if len(sys.argv) > 3 else "../shared/data/brand-names.txt"
    with open(brands_path, encoding="utf-8") as f:
        brands = {line.strip() for line in f if line.strip() and not line.startswith("#")}
    with open(queries_path, encoding="utf-8") as f:
        queries = [r for r in csv.DictReader(f) if r["kind"] in KINDS]
    listed = {r["expected_entry_id"]: None for r in queries}
    with open(entries_path, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["entry_id"] in listed:
                listed[r["entry_id"]] = r["name"]
    print("kind\tresolved\treal\tshare\tbrand of two\treal among them")
    for kind in KINDS:
        resolved = real = two = real_two = 0
        for q in (q for q in queries if q["kind"] == kind):
            name, typed = listed[q["expected_entry_id"]], q["name"]
            if name is None or len(name) != len(typed):
                continue
            diff = [i for i, (a, b) in enumerate(zip(name, typed)) if a != b]
            if not diff:
                continue
            span = next(
                (
                    (start, width)
                    for width in range(6, 1, -1)
                    for start in range(len(name) - width + 1)
                    if start <= diff[0]
                    and diff[-1] < start + width
                    and name[start : start + width] in brands
                ),
                None,
            )
            if span is None:
                continue
            start, width = span
            is_real = typed[start : start + width] in brands
            resolved += 1
            real += is_real
            if width == 2:
                two += 1
                real_two += is_real
        share = real / resolved if resolved else 0.0
        print(f"{kind}\t{resolved}\t{real}\t{share:.3f}\t{two}\t{real_two}")


if __name__ == "__main__":
    main()
