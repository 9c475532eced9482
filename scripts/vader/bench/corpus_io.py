"""Reading the fixture corpus and making long texts, shared by the bench scripts."""


def unescape(s):
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = s[i + 1]
        if n == "u":
            j = s.index("}", i)
            out.append(chr(int(s[i + 3:j], 16)))
            i = j + 1
            continue
        out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}[n])
        i += 2
    return "".join(out)


def read_texts(path):
    with open(path, encoding="utf-8", newline="\n") as f:
        return [unescape(l.rstrip("\n").split("\t", 5)[5]) for l in f if not l.startswith("#")]


# A review-like sentence with boosters, negations, "but", caps and an emoji;
# long texts repeat it (the same words for every implementation).
SENTENCE = ("The plot was really good and the acting was not bad , but the ending was kind of "
            "disappointing and VERY slow :( although the music is great 😀 !")


def long_text(words):
    base = SENTENCE.split(" ")
    return " ".join(base[i % len(base)] for i in range(words))
