#!/usr/bin/env python3
"""Summarise how two VADER fixture files differ (used by check-fixtures)."""
import sys

SHOW = 15


def rows(path):
    header, body = [], []
    with open(path, encoding="utf-8", newline="\n") as f:
        for line in f:
            line = line.rstrip("\n")
            (header if line.startswith("#") else body).append(line)
    return header, body


def main():
    old_path, new_path = sys.argv[1], sys.argv[2]
    old_h, old = rows(old_path)
    new_h, new = rows(new_path)
    print(f"fixtures differ: committed {len(old)} rows, regenerated {len(new)} rows")
    for a, b in zip(old_h, new_h):
        if a != b:
            print(f"  header: committed {a!r}\n          now       {b!r}")
    by_text_old = {r.split("\t", 5)[-1]: r for r in old}
    by_text_new = {r.split("\t", 5)[-1]: r for r in new}
    only_old = [t for t in by_text_old if t not in by_text_new]
    only_new = [t for t in by_text_new if t not in by_text_old]
    changed = [t for t in by_text_new if t in by_text_old and by_text_old[t] != by_text_new[t]]
    print(f"  texts only in committed: {len(only_old)}; only in regenerated: {len(only_new)}; "
          f"same text, different scores or category: {len(changed)}")
    if not only_old and not only_new and not changed and old != new:
        print("  same rows in a different order")
    for t in changed[:SHOW]:
        print(f"  changed: {t[:100]}\n    committed {by_text_old[t].split(chr(9))[:5]}\n    now       {by_text_new[t].split(chr(9))[:5]}")
    for t in only_old[:SHOW]:
        print(f"  removed: {t[:100]}")
    for t in only_new[:SHOW]:
        print(f"  added:   {t[:100]}")


if __name__ == "__main__":
    main()
