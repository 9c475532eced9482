#!/usr/bin/env python3
"""Turns the raw lines of the bench-vader runs into a table with ratios."""
import sys

corpus = {}   # impl -> best texts/s
long = {}     # (impl, words) -> seconds per text
agree = None
instructions = {}  # impl -> instructions per text
for line in sys.stdin:
    f = line.split()
    if len(f) == 3 and f[1] == "instructions":
        instructions[f[0]] = int(f[2])
    if len(f) >= 4 and f[1] == "corpus":
        rate = int(f[2]) / float(f[3])
        corpus[f[0]] = max(corpus.get(f[0], 0.0), rate)
    elif len(f) >= 5 and f[1] == "long":
        long[(f[0], int(f[2]))] = float(f[4]) / int(f[3])
    elif f and f[0] == "agree":
        agree = (int(f[1]), int(f[2]))

names = {"python": "vaderSentiment 3.3.2 (Python reference)", "vader_sentiment": "vader_sentiment 0.1.1 (crates.io)",
         "ours": "vader (this repository)"}
ours = corpus.get("ours")
if instructions:
    print()
    print("| implementation | instructions per text | ours uses |")
    print("|---|---:|---:|")
    for k in ["python", "vader_sentiment", "ours"]:
        if k in instructions:
            ratio = "-" if k == "ours" else f"{instructions[k] / instructions['ours']:.0f}x fewer"
            print(f"| {names[k]} | {instructions[k]:,} | {ratio} |")
if not corpus:
    sys.exit(0)
print()
print("| implementation | texts/s | ours is |")
print("|---|---:|---:|")
for k in ["python", "vader_sentiment", "ours"]:
    if k in corpus:
        ratio = "-" if k == "ours" else f"{ours / corpus[k]:.0f}x faster"
        print(f"| {names[k]} | {corpus[k]:,.0f} | {ratio} |")
if long:
    words = sorted({w for _, w in long})
    print()
    print("| words per text | " + " | ".join(names[k].split(" (")[0] for k in ["python", "vader_sentiment", "ours"]) + " | ours vs Python |")
    print("|---:|---:|---:|---:|---:|")
    for w in words:
        cells = []
        for k in ["python", "vader_sentiment", "ours"]:
            s = long.get((k, w))
            cells.append("-" if s is None else (f"{s * 1e3:.3f} ms" if s >= 1e-4 else f"{s * 1e6:.2f} µs"))
        r = long.get(("python", w)), long.get(("ours", w))
        ratio = f"{r[0] / r[1]:,.0f}x" if all(r) else "-"
        print(f"| {w:,} | " + " | ".join(cells) + f" | {ratio} |")
if agree:
    print()
    print(f"vader_sentiment 0.1.1 gives the reference's scores on {agree[0]:,} of {agree[1]:,} texts "
          f"({100 * agree[0] / agree[1]:.1f}%); ours on all of them (crates/vader/tests/parity.rs).")
