"""Compare two ``found_pairs.json`` files (e.g. before and after a change to pairing).

    python benchmarks/compare_found_pairs.py OLD/found_pairs.json NEW/found_pairs.json

Prints the number of links in each, whether the partners and the scores are the same, and
the links that differ. The evidence named for a link can differ between two runs of the
same code: Python's string hashing changes the order in which words are summed, and a tie
between kinds of evidence then falls either way (run both with the same PYTHONHASHSEED to
compare it too). Exits 1 when partners or scores differ.
"""

from __future__ import annotations

import json
import sys


def main(old_path: str, new_path: str) -> int:
    old, new = (json.load(open(p, encoding="utf-8"))["links"] for p in (old_path, new_path))
    print(f"links: {len(old)} and {len(new)} ({len(old) // 2} and {len(new) // 2} pairs)")
    partners = {k: v[0] for k, v in old.items()} == {k: v[0] for k, v in new.items()}
    scores = {k: v[:2] for k, v in old.items()} == {k: v[:2] for k, v in new.items()}
    differ = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    print(f"same partners: {partners}; same scores: {scores}; "
          f"entries differing at all (evidence included): {len(differ)}")
    for k in differ[:10]:
        print(f"  {k}: {old.get(k)} -> {new.get(k)}")
    return 0 if partners and scores else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
