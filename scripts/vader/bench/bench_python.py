#!/usr/bin/env python3
"""Times the reference, vaderSentiment 3.3.2, single-threaded (used by scripts/bench-vader).

Usage: bench_python.py CORPUS.tsv [--seconds S] [--long WORDS,...]
Prints one line per measurement: `python corpus TEXTS SECONDS` and
`python long WORDS REPEATS SECONDS`.

Or: bench_python.py CORPUS.tsv --rounds N [--every K]: scores every K-th
text N times and prints nothing (scripts/bench-vader runs it under
cachegrind to count instructions per text).
"""
import argparse
import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from corpus_io import long_text, read_texts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--long", default="")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--every", type=int, default=1)
    args = ap.parse_args()
    texts = read_texts(args.corpus)[:: args.every]
    a = SentimentIntensityAnalyzer()
    if args.rounds is not None:
        a.polarity_scores("warm up")
        for _ in range(args.rounds):
            for t in texts:
                a.polarity_scores(t)
        return
    n = 0
    start = time.perf_counter()
    while True:
        for t in texts:
            a.polarity_scores(t)
        n += len(texts)
        elapsed = time.perf_counter() - start
        if elapsed >= args.seconds:
            break
    print(f"python corpus {n} {elapsed:.6f}", flush=True)
    for words in [int(w) for w in args.long.split(",") if w]:
        text = long_text(words)
        reps = 0
        start = time.perf_counter()
        while True:
            a.polarity_scores(text)
            reps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= 1.0 or reps >= 1000:
                break
        print(f"python long {words} {reps} {elapsed:.6f}", flush=True)


if __name__ == "__main__":
    main()
