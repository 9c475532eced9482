#!/usr/bin/env python3
"""Build the VADER parity corpus and record the reference scores.

Writes one TSV file (see FORMAT below) with >= 10,000 varied texts and, for
each, what vaderSentiment 3.3.2's SentimentIntensityAnalyzer().polarity_scores
returns. The crate `vader` must reproduce every row exactly
(crates/vader/tests/parity.rs).

The corpus is deterministic: it uses its own seeded generator (splitmix64,
not `random`, whose algorithms may change between Python versions), draws
non-ASCII characters only from fixed lists of characters assigned long
before Unicode 14 (so the interpreter's Unicode database does not matter),
and iterates over sorted or file-ordered data only.

FORMAT: UTF-8, '\n'-terminated lines. Lines starting with '#' are comments.
Each row: category TAB neg TAB neu TAB pos TAB compound TAB text, where the
scores are Python reprs (shortest round-trip; '-0.0' exists) and the text is
escaped: '\\\\' '\\t' '\\n' '\\r', and '\\u{HEX}' for other control,
separator and invisible characters (see ESCAPED).

Run it through scripts/vader/regenerate or scripts/vader/check-fixtures,
which create the pinned virtualenv.
"""

import argparse
import hashlib
import os
import sys

SEED = 0x5E471F10

# sha256 of the reference's files (from the 3.3.2 wheel's RECORD).
REFERENCE_SHA256 = {
    "vaderSentiment.py": "25cd814d23000b41c0e242d99960832c6620b3f1b844469173404500ce63206b",
    "vader_lexicon.txt": "1ec9c6e9ee19aade328f8beb393a6afa71a5bb3acf7d3cc22d4ef568df374bf5",
    "emoji_utf8_lexicon.txt": "b8d54223ae1ce22a3e12c1f745316b71678c328eb5f5d3063a842f37cfbe2823",
}


# --------------------------------------------------------------------------
# Deterministic randomness
# --------------------------------------------------------------------------

class Rng:
    """splitmix64: tiny, fully specified, identical on every Python."""

    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.u64() % n

    def chance(self, p):
        return self.u64() < p * 2.0 ** 64

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def between(self, lo, hi):
        return lo + self.below(hi - lo + 1)

    def shuffle(self, seq):
        for i in range(len(seq) - 1, 0, -1):
            j = self.below(i + 1)
            seq[i], seq[j] = seq[j], seq[i]


# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

FILLERS = (
    "the a an this that it its movie film book phone service food hotel staff plot story app update "
    "team game match car price battery screen room trip show album song team's ending dialog acting "
    "was is are were be been seems felt looks sounds and with of to in on for at by from my our their "
    "your his her we they i you he she today yesterday tonight really honestly overall again still "
    "just only also even then now here there what which who when where why how because since until "
    "while after before about over under between into through during without within thing stuff "
    "people guy place time day night week year everyone everything something nothing anyone lot bit"
).split()

COMMON_POS = (
    "good great love loved excellent happy nice amazing awesome best fun wonderful perfect beautiful "
    "brilliant enjoy enjoyed fantastic like liked glad helpful win won cool sweet smart funny kind "
    "pleasant superb lovely delightful impressive recommend thanks thank yay lol haha :) :D <3 ok fine"
).split()

COMMON_NEG = (
    "bad terrible awful hate hated worst sad boring poor horrible angry annoying disappointing "
    "disappointed ugly stupid useless broken fail failed failure problem wrong lose lost hurt pain "
    "sucks sux crap trash mess worse scary afraid cry died death kill lame meh :( :'( fuck damn"
).split()

EMOTICONS = (
    ":) :( :-) :-( ;) ;-) :D :-D :P :p :-P xD XD xd :/ :-/ :| :'( :') <3 </3 ^_^ -_- o.O O.o "
    ":o :O =) =( =D (: ): :3 8) B) :* :-* >:( D: d: :] :[ :} :{ %) %-) ;D =-D"
).split()

SPECIAL_WORDS = (
    "no not never nor or so this without doubt least at very kind of sort just enough but the shit bomb "
    "bad ass bus stop yeah right kiss death to die for beating heart badass uh-uh uhuh nope none nothing"
).split()

IDIOMS = [
    "the shit", "the bomb", "bad ass", "badass", "bus stop", "yeah right", "kiss of death",
    "to die for", "beating heart", "cut the mustard", "hand to mouth", "back handed", "blow smoke",
    "upper hand", "break a leg", "cooking with gas", "in the black", "in the red", "on the ball",
    "under the weather",
]

MODIFIERS = [
    "kind of", "sort of", "just enough", "kinda", "sorta", "kind-of", "sort-of", "kindof", "sortof",
    "at least", "very least", "the least", "least", "never so", "never this", "without doubt",
    "without a doubt", "without any doubt", "so", "this", "no", "not", "never", "nor", "or", "isn't",
    "don't", "DON'T", "won't", "can't", "aint", "cannot", "hardly", "barely", "rarely", "seldom",
    "despite", "neither", "nothing", "nowhere", "without",
]

# Non-ASCII material: fixed lists, all assigned long before Unicode 14.
NON_ASCII_WORDS = [
    "café", "naïve", "façade", "résumé", "Straße", "STRASSE", "ÇA", "ÉNORME", "Ελλάδα", "ΣΟΦΟΣ",
    "σοφός", "москва", "МОСКВА", "Привет", "日本語", "東京", "한국어", "עברית", "العربية", "हिन्दी",
    "ไทย", "ǅemal", "ǄEMAL", "ǈ", "ᾈ", "ﬁne", "Ｇｏｏｄ", "ＧＯＯＤ", "ſad", "İyi", "İSTANBUL",
    "\u212aind", "\u212aISS", "\u212a", "ok\u212a", "Ⓐⓑ", "ⒶⒷ", "ªA", "ʰi", "Ωmega", "µ", "ÿ", "Ÿ",
    "ŉ", "ǰ", "ß", "ẞ", "Ǳ", "ǲ", "ǳ", "Ꙋ", "ꙋ", "ᏸ", "Ᏸ", "ı", "ﬀ", "ΐ", "good\u0301", "ba\u0301d",
    "gööd", "GÖÖD", "bäd", "BÄD", "love\u200d", "😀\u200dgood", "n’t", "don’t", "isn’t", "DON’T",
]

NON_ASCII_PUNCT = [
    "“", "”", "‘", "’", "…", "—", "–", "¡", "¿", "«", "»", "・", "、", "。", "！", "？", "‼", "⁉",
    "§", "¶", "†", "•", "°", "€", "£", "¥", "©", "®", "™", "½", "×", "÷", "±", "≠", "∞", "→", "★", "☆",
    "♥", "♡", "☺", "☹", "✓", "✗",
]

# Separators: Python whitespace, and look-alikes that are not whitespace.
SPACES = [" ", " ", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "\x0b", "\x0c"]
ODD_SPACES = [
    "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u1680", "\u2000", "\u2001", "\u2002",
    "\u2003", "\u2004", "\u2005", "\u2006", "\u2007", "\u2008", "\u2009", "\u200a", "\u2028",
    "\u2029", "\u202f", "\u205f", "\u3000",
]
NOT_SPACES = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u180e", "\x00", "\x07", "\x7f", "\x1b"]

EMOJI_SEQUENCES = [
    "❤️", "❤", "♥️", "👍🏽", "👍🏿", "👋🏻", "🙏🏼", "👨\u200d👩\u200d👧\u200d👦", "👩\u200d💻",
    "🏳️\u200d🌈", "🇫🇷", "🇺🇸", "🇯🇵", "1️⃣", "#️⃣", "*️⃣", "☺️", "☹️", "✌️", "✌🏾", "😀😀", "😂😂😂",
    "💔", "🔥🔥", "💯", "🙃", "🤬", "😭", "😡", "🥰", "🤣", "👏👏", "🎉", "🔛", "🆙", "🈁", "🕛",
    "👚", "🏽", "🏻", "\ufe0f", "\u200d", "🧑🏽\u200d🚀", "🤷\u200d♂️", "🤦🏻\u200d♀️",
]

URLS = [
    "http://t.co/abc123", "https://example.com/review?id=42&x=good", "www.site.org/bad",
    "https://news.example.net/2024/01/02/markets-rally.html", "http://bit.ly/2xYz!",
]

HEADLINE_SUBJECTS = [
    "Markets", "Shares", "Officials", "Lawmakers", "Scientists", "Residents", "Investors", "Police",
    "The central bank", "Tech giant", "Local council", "Union leaders", "Health experts", "Voters",
]
HEADLINE_VERBS = [
    "rally after", "slump amid", "warn of", "celebrate", "protest", "praise", "criticize", "deny",
    "welcome", "reject", "fear", "hail", "condemn", "support", "question", "mourn",
]
HEADLINE_OBJECTS = [
    "strong earnings", "weak demand", "new tariffs", "record heat", "peace deal", "data breach",
    "budget cuts", "vaccine rollout", "court ruling", "election results", "deadly storm",
    "surprise win", "job losses", "rate hike", "trade agreement", "corruption scandal",
]


def load_reference():
    import vaderSentiment
    import vaderSentiment.vaderSentiment as vs

    base = os.path.dirname(vaderSentiment.__file__)
    for name, want in REFERENCE_SHA256.items():
        with open(os.path.join(base, name), "rb") as f:
            got = hashlib.sha256(f.read()).hexdigest()
        if got != want:
            sys.exit(f"make_corpus: {name} of the installed vaderSentiment is not 3.3.2's (sha256 {got})")
    return vs, base


class Builder:
    def __init__(self, vs, base, seed=SEED, scale=1):
        self.rng = Rng(seed)
        self.scale = scale
        self.vs = vs
        self.analyzer = vs.SentimentIntensityAnalyzer()
        self.rows = []
        self.seen = set()
        with open(os.path.join(base, "vader_lexicon.txt"), encoding="utf-8") as f:
            self.lex_lines = [l.strip().split("\t")[0] for l in f.read().rstrip("\n").split("\n") if l]
        with open(os.path.join(base, "emoji_utf8_lexicon.txt"), encoding="utf-8") as f:
            self.emoji_lines = [l.strip().split("\t") for l in f.read().rstrip("\n").split("\n")]
        lex = self.analyzer.lexicon
        words = sorted(k for k in lex if k.isalpha() and k.isascii())
        self.pos_words = [w for w in words if lex[w] > 0]
        self.neg_words = [w for w in words if lex[w] < 0]
        self.lex_keys = sorted(lex)
        self.boosters = sorted(k for k, v in vs.BOOSTER_DICT.items() if v > 0)
        self.dampeners = sorted(k for k, v in vs.BOOSTER_DICT.items() if v < 0)
        self.negations = list(vs.NEGATE)
        self.single_emoji = [k for k, _ in self.emoji_lines if len(k) == 1]
        self.all_emoji = [k for k, _ in self.emoji_lines]

    # -- helpers -----------------------------------------------------------

    def add(self, category, text):
        if text in self.seen:
            return
        self.seen.add(text)
        self.rows.append((category, text))

    def senti(self, common=0.7):
        r = self.rng
        if r.chance(common):
            return r.choice(COMMON_POS if r.chance(0.55) else COMMON_NEG)
        return r.choice(self.pos_words if r.chance(0.5) else self.neg_words)

    def caps(self, w, p=0.12):
        r = self.rng
        if r.chance(p):
            return w.upper()
        if r.chance(p / 2):
            return w.capitalize()
        return w

    def modifier(self):
        r = self.rng
        k = r.below(6)
        if k == 0:
            return r.choice(self.boosters)
        if k == 1:
            return r.choice(self.dampeners)
        if k == 2:
            return r.choice(self.negations)
        if k == 3:
            return r.choice(MODIFIERS)
        if k == 4:
            return r.choice(FILLERS)
        return r.choice(SPECIAL_WORDS)

    def punct(self):
        r = self.rng
        k = r.below(10)
        if k < 4:
            return "."
        if k < 6:
            return "!" * r.between(1, 6)
        if k < 8:
            return "?" * r.between(1, 5)
        if k == 8:
            return r.choice(["?!", "!?", "!!??", "?!?!", "...", "…", "!!!!!!!!", "??!!?"])
        return ""

    def join(self, tokens, odd=0.0):
        r = self.rng
        out = []
        for i, t in enumerate(tokens):
            if i:
                if odd and r.chance(odd):
                    out.append(r.choice(ODD_SPACES + NOT_SPACES))
                else:
                    out.append(" ")
            out.append(t)
        return "".join(out)

    def clause(self):
        """A short clause with 0-3 modifiers before a sentiment word."""
        r = self.rng
        toks = []
        if r.chance(0.6):
            toks += [r.choice(["the", "this", "my", "our", "that"]), r.choice(FILLERS)]
            toks.append(r.choice(["was", "is", "are", "were", "seems", "felt", "looks"]))
        for _ in range(r.below(4)):
            toks += self.modifier().split()
        toks.append(self.caps(self.senti()))
        if r.chance(0.3):
            toks += [r.choice(FILLERS) for _ in range(r.below(3))]
        return toks

    def sentence(self):
        r = self.rng
        toks = self.clause()
        if r.chance(0.35):
            toks.append(r.choice(["but", "but", "BUT", "But", "and", "yet", "though", "although"]))
            toks += self.clause()
        toks[-1] += self.punct()
        return toks

    # -- categories ----------------------------------------------------------

    def lexicon_entries(self):
        """Every line of vader_lexicon.txt (duplicates, upper-case and spaced keys too)."""
        r = self.rng
        templates = [
            "{k}", "{k}", "{k}!", "{k}?", "it was {k}", "this is so {k}", "{K} today", "not {k}",
            "very {k} movie", "{k} but the ending", "i feel {k} :)", "@bob {k} lol", "{k}!!! really",
            "never {k}", "kind of {k}", "the {k}", "{k}, {k}", "no {k}", "at least {k}", "{k}...",
            "WOW {K}", "so this {k} thing", "it's {k}", "(({k}))", "\"{k}\"", "{k}.",
        ]
        for k in self.lex_lines:
            t = r.choice(templates)
            self.add("lexicon", t.replace("{k}", k).replace("{K}", k.upper()))
            self.add("lexicon-bare", k)

    def emoji_entries(self):
        """Every key of emoji_utf8_lexicon.txt, sequences included."""
        r = self.rng
        templates = [
            "{e}", "{e}{e}", "good {e}", "{e} bad", "love it{e}", "{e}good", "so sad {e} !", "x {e} y",
            "{e} {e}", "\t{e}", "not {e}", "very {e}!", "{e}!!", "the {e} is here", "@amy {e} #tbt",
        ]
        for k in self.all_emoji:
            self.add("emoji", r.choice(templates).replace("{e}", k))
            self.add("emoji-bare", k)

    def reviews(self, n):
        r = self.rng
        openers = ["", "", "Honestly,", "Update:", "Pros:", "Cons:", "Verdict:", "TL;DR", "Edit -", "5/5", "1/10"]
        for _ in range(n):
            toks = []
            o = r.choice(openers)
            if o:
                toks.append(o)
            for _ in range(r.between(1, 4)):
                toks += self.sentence()
            if r.chance(0.1):
                toks.append(r.choice(EMOTICONS))
            self.add("review", self.join(toks))

    def tweets(self, n):
        r = self.rng
        for _ in range(n):
            toks = []
            if r.chance(0.5):
                toks.append("@" + r.choice(["bob", "Amy_22", "NEWS", "jack", "x"]) + str(r.below(100)))
            toks += self.sentence()
            for _ in range(r.below(3)):
                k = r.below(7)
                if k == 0:
                    toks.append("#" + r.choice(["fail", "love", "mondays", "blessed", "GOOD", "sad"]))
                elif k == 1:
                    toks.append(r.choice(URLS))
                elif k == 2:
                    toks.append(r.choice(EMOTICONS))
                elif k == 3:
                    toks.append(r.choice(self.single_emoji))
                elif k == 4:
                    toks.append(r.choice(EMOJI_SEQUENCES))
                elif k == 5:
                    toks.append(r.choice(["lol", "LOL", "lmao", "omg", "OMG", "smh", "rofl", "wtf", "ugh"]))
                else:
                    toks.append(r.choice(["RT", "via", "cc", "#", "@", "&amp;"]))
            text = self.join(toks)
            if r.chance(0.2):
                # Emoji glued to words: "great😀", "😀great".
                e = r.choice(self.single_emoji)
                text = text + e if r.chance(0.5) else e + text
            self.add("tweet", text)

    def news(self, n):
        r = self.rng
        for _ in range(n):
            toks = [r.choice(HEADLINE_SUBJECTS), r.choice(HEADLINE_VERBS), r.choice(HEADLINE_OBJECTS)]
            if r.chance(0.5):
                toks += [r.choice(["as", "while", "after", "despite", "but"]), r.choice(HEADLINE_SUBJECTS).lower()]
                toks.append(r.choice(HEADLINE_VERBS))
                toks.append(r.choice(HEADLINE_OBJECTS))
            if r.chance(0.3):
                toks.append("-")
                toks.append(r.choice(["Reuters", "AP", "BBC News", "(AFP)", "report"]))
            text = " ".join(toks)
            if r.chance(0.3):
                text = text.upper()
            if r.chance(0.2):
                text += r.choice(["?", "!", ":", " …", "."])
            self.add("news", text)

    def rules(self):
        """Systematic grids for each rule of sentiment_valence and friends."""
        r = self.rng
        targets = ["good", "bad", "GOOD", "BAD", "love", "hate", "nice", "awful", "kind", "doubt", "no"]
        # Negation / booster / special words at distance 1-3, with fillers between.
        for m in sorted(set(self.negations + self.boosters + self.dampeners + MODIFIERS + SPECIAL_WORDS)):
            for d in range(1, 4):
                for t in targets[:4] + [r.choice(targets[4:])]:
                    fill = [r.choice(["the", "it", "a", "was", "movie", "x"]) for _ in range(d - 1)]
                    toks = ["it", "is"] + m.split() + fill + [t]
                    self.add("rules-distance", " ".join(toks))
                    if r.chance(0.3):
                        self.add("rules-distance", " ".join(w.upper() if w == m else w for w in toks))
        # Pairs of modifiers before a sentiment word (covers never so/this, without doubt, ...).
        mods = sorted(set(MODIFIERS + SPECIAL_WORDS))
        for a in mods:
            for b in mods:
                if r.chance(0.25):
                    self.add("rules-pairs", f"{a} {b} {r.choice(targets)}{self.punct()}")
        # "no" and "or"/"nor".
        for t in ["no", "no no", "no no no", "no good", "no or good", "no nor bad", "no x or good",
                  "no x nor bad", "no, no, good", "NO good", "No good", "good no", "no doubt",
                  "no problem", "no love", "no x y good", "there is no way this is bad",
                  "no no no no no", "NO NO NO", "no ok", "yes no", "no yes"]:
            self.add("rules-no", t)
            self.add("rules-no", t + "!!")
        for t in ["this is NO good", "NO GOOD at all", "no NO good", "It is NO fun", "NO x nor BAD",
                  "no x NOR good", "No x Or bad", "no x or y good", "no or nor good", "nor no good",
                  "not NO good", "NO NO good", "never NO bad", "NO, good", "no NICE"]:
            self.add("rules-no", t)
        # Contractions: "n't" anywhere in the lower-cased token negates.
        for neg in ["ISN'T", "DoN'T", "wouldN'T", "ain'T", "y'all'n't", "mustn't've", "N'T", "n't",
                    "shouldn't've", "isn't!", "(don't)", "don't's", "can'tgood", "isn’t", "DON’T"]:
            for t in ["good", "bad", "very good", "the good", "a b good", "VERY BAD"]:
                self.add("rules-nt", f"{neg} {t}")
        # ALL-CAPS emphasis on a zero valence ("no" before a lexicon word), and caps boosters.
        for t in ["NO good", "it is NO good at all", "so NO good", "VERY good", "very GOOD",
                  "VERY bad", "KINDA good", "KINDA bad", "really NO fun", "NO NO fun"]:
            self.add("rules-caps", t)
            self.add("rules-caps", t + "!")
        # "but" with values that collide after rescaling (the index() quirk of _but_check).
        lex = self.analyzer.lexicon
        simple = sorted((w for w in self.pos_words + self.neg_words if len(w) > 2), key=lambda w: (lex[w], w))
        by_value = {}
        for w in simple:
            by_value.setdefault(lex[w], []).append(w)
        pairs = []
        for v, ws in sorted(by_value.items()):
            for k in (0.5, 1.5, 0.25, 2.25):
                if v * k in by_value:
                    pairs.append((r.choice(ws), r.choice(by_value[v * k]), k))
        for a, b, k in pairs:
            if k in (0.5, 0.25):
                self.add("rules-but-quirk", f"{a} {b} but ok")
                self.add("rules-but-quirk", f"{a} x {b} {a} but {b}")
            else:
                self.add("rules-but-quirk", f"ok but {a} {b}")
                self.add("rules-but-quirk", f"{b} but {a} {b} {a}")
            self.add("rules-but-quirk", f"{a} {a} {b} but {a} {b} {b}!")
        # "least".
        for pre in ["", "at", "very", "the", "AT", "Very", "is"]:
            for t in ["good", "bad", "nice", "least good", "least"]:
                self.add("rules-least", " ".join(x for x in [pre, "least", t] if x))
                self.add("rules-least", " ".join(x for x in ["it", "was", pre, "least", t] if x))
        # "but": several, equal values (the index() quirk), caps.
        for _ in range(600):
            toks = []
            for _ in range(r.between(1, 6)):
                k = r.below(4)
                if k == 0:
                    toks.append(r.choice(["good", "great", "bad", "nice"]))
                elif k == 1:
                    toks.append(r.choice(["but", "BUT", "But", "but,"]))
                elif k == 2:
                    toks.append(r.choice(FILLERS))
                else:
                    toks.append(self.senti(0.9))
            self.add("rules-but", " ".join(toks) + self.punct())
        for t in ["good good but good", "good but good good", "great good but good great",
                  "good bad but bad good", "nice nice nice but nice nice", "good but",
                  "but good", "but", "good very good but good", "good, but good!",
                  "good great but not good great good"]:
            self.add("rules-but", t)
        # Idioms at every position 0..4 with fillers, and around lexicon words.
        for idiom in IDIOMS:
            for pos in range(5):
                pre = ["x"] * pos
                for tail in ["", " good", " bad", " x good"]:
                    self.add("rules-idioms", " ".join(pre + [idiom]) + tail)
            self.add("rules-idioms", "it is " + idiom.upper())
        # "kind of" and friends.
        for pre in ["", "it was", "x y", "x y z"]:
            for m in ["kind of", "sort of", "just enough", "kind", "kind of of", "KIND OF", "kind-of"]:
                for t in ["good", "bad", "of good", "kind"]:
                    self.add("rules-kindof", " ".join(x for x in [pre, m, t] if x))
        # ALL-CAPS mixes.
        for _ in range(800):
            toks = self.sentence()
            k = r.below(4)
            if k == 0:
                toks = [t.upper() for t in toks]
            elif k == 1:
                toks = [t.upper() if r.chance(0.5) else t for t in toks]
            elif k == 2:
                toks = [r.choice(["VERY", "SO", "REALLY", "EXTREMELY", "KINDA"])] + toks
            else:
                toks = [t.capitalize() for t in toks]
            self.add("caps", " ".join(toks))

    def punctuation(self):
        r = self.rng
        base = ["good", "bad", "ok", "the movie", "good bad", "not bad", "good but bad", ""]
        for b in base:
            for e in range(0, 7):
                for q in range(0, 6):
                    tail = "!" * e + "?" * q
                    self.add("punct", (b + " " + tail).strip() if b else tail)
                    if e and q:
                        self.add("punct", b + " " + "".join(r.choice("!?") for _ in range(e + q)))
        for t in ["", " ", "  ", "\t", "\n", "\r\n", "\x1c", "\x1f", "\u200b", "\ufeff", "\u3000",
                  "!", "?", "!!", "??", "...", ".", ",", ":", ";", "-", "--", "'", "\"", "()", "[]",
                  "?!", "!?", "!!!!!!!!!!", "??????", "*", "@", "#", "&", "%", "…", "—", "¡¿",
                  ":)", ":(", ":-)", ";)", ":D", ":P", "<3", "xD", ")", "(", "))", "!!!???",
                  ". . .", "! ! !", "? ? ?", ":) :)", "#$%&", "'''", "a", "A", "I", "x", "ok",
                  "OK", "no", "NO", "but", "BUT", "kind", "KIND", "least", "not", "never"]:
            self.add("edge", t)
        # Zero-sum sentences with emphasis (the amplifier is skipped when the sum is 0).
        for _ in range(300):
            a = self.senti(0.5)
            b = self.senti(0.5)
            c = self.senti(0.5)
            self.add("sum", f"{a} {b} {c}{'!' * r.below(5)}{'?' * r.below(5)}")
            self.add("sum", f"{a} but {b}{'!' * r.between(1, 4)}")

    def unicode_texts(self, n):
        r = self.rng
        for _ in range(n):
            toks = self.sentence()
            for _ in range(r.between(1, 4)):
                k = r.below(5)
                pos = r.below(len(toks) + 1)
                if k == 0:
                    toks.insert(pos, r.choice(NON_ASCII_WORDS))
                elif k == 1:
                    p = r.choice(NON_ASCII_PUNCT)
                    i = r.below(len(toks))
                    toks[i] = p + toks[i] if r.chance(0.5) else toks[i] + p
                elif k == 2:
                    toks.insert(pos, r.choice(EMOJI_SEQUENCES))
                elif k == 3:
                    i = r.below(len(toks))
                    toks[i] = toks[i] + r.choice(NOT_SPACES) + r.choice(FILLERS + COMMON_POS)
                else:
                    toks.insert(pos, r.choice(self.single_emoji))
            self.add("unicode", self.join(toks, odd=0.3))
        for w in NON_ASCII_WORDS:
            self.add("unicode-words", w)
            self.add("unicode-words", f"{w} good {w.upper()}")
            self.add("unicode-words", f"not {w} great!")
        for s in ODD_SPACES + NOT_SPACES:
            self.add("whitespace", f"good{s}bad")
            self.add("whitespace", f"{s}not{s}good{s}")
            self.add("whitespace", f"very{s}{s}nice😀{s}!")

    def long_texts(self, n):
        r = self.rng
        for i in range(n):
            toks = []
            target = r.between(300, 900)
            while len(toks) < target:
                toks += self.sentence()
                if r.chance(0.05):
                    toks.append(r.choice(EMOJI_SEQUENCES + EMOTICONS))
            self.add("long", self.join(toks, odd=0.02 if i % 3 == 0 else 0.0))

    def fuzz(self, n):
        """Token soup over everything the rules look at."""
        r = self.rng
        pools = [
            FILLERS, COMMON_POS, COMMON_NEG, EMOTICONS, SPECIAL_WORDS, MODIFIERS, self.boosters,
            self.dampeners, self.negations, self.lex_keys, NON_ASCII_WORDS, NON_ASCII_PUNCT,
            EMOJI_SEQUENCES, self.single_emoji, ["but", "BUT", "!", "?", "!!", "??", ",", "..."],
        ]
        for _ in range(n):
            toks = []
            for _ in range(r.between(1, 14)):
                t = r.choice(r.choice(pools))
                if r.chance(0.1):
                    t = t.upper()
                if r.chance(0.1):
                    t = r.choice(["", "\"", "(", "'", "*", "#", "@"]) + t + r.choice(["", ".", ",", "!", "?", ")", "'", "!?", "..."])
                toks.append(t)
            self.add("fuzz", self.join(toks, odd=0.05))

    def char_soup(self, n):
        """Character-level noise: punctuation runs, glued words, odd spaces, emoji."""
        r = self.rng
        ascii_printable = [chr(c) for c in range(0x21, 0x7F)]
        pieces = [ascii_printable, ["good", "bad", "not", "n't", "no", "but", "very", "kind", "of", "lol", "GOOD"],
                  [" ", " ", " ", "  "], ODD_SPACES + NOT_SPACES, NON_ASCII_PUNCT, ["é", "ß", "Ω", "Ж", "中", "\u212a", "İ", "ǅ"],
                  self.single_emoji[:200], EMOJI_SEQUENCES, ["!", "?", "'", "-", ":", ")", "("]]
        for _ in range(n):
            self.add("chars", "".join(r.choice(r.choice(pieces)) for _ in range(r.between(1, 40))))

    def build(self):
        k = self.scale
        self.lexicon_entries()
        self.emoji_entries()
        self.rules()
        self.punctuation()
        self.reviews(3000 * k)
        self.tweets(2500 * k)
        self.news(800 * k)
        self.unicode_texts(1200 * k)
        self.long_texts(120 * k)
        self.fuzz(3000 * k)
        self.char_soup(2000 * k)

    def scored(self):
        a = self.analyzer
        for category, text in self.rows:
            s = a.polarity_scores(text)
            yield category, s["neg"], s["neu"], s["pos"], s["compound"], text


ESCAPED = set(range(0x00, 0x20)) | set(range(0x7F, 0xA1)) | {
    0x1680, 0x180E, 0x2028, 0x2029, 0x202F, 0x205F, 0x2060, 0x3000, 0xFEFF,
} | set(range(0x2000, 0x2010))


def escape(text):
    out = []
    for c in text:
        o = ord(c)
        if c == "\\":
            out.append("\\\\")
        elif c == "\t":
            out.append("\\t")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif o in ESCAPED:
            out.append("\\u{%x}" % o)
        else:
            out.append(c)
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output TSV file")
    ap.add_argument("--seed", type=lambda v: int(v, 0), default=SEED,
                    help="another seed gives another corpus (for extra differential runs; "
                         "the committed fixtures use the default)")
    ap.add_argument("--scale", type=int, default=1, help="multiply the generated categories by this")
    args = ap.parse_args()

    vs, base = load_reference()
    if sys.version_info >= (3, 12):
        # CPython 3.12 made sum() of floats compensated (Neumaier); the
        # fixtures record the reference as CPython <= 3.11 runs it, a plain
        # left-to-right sum. score_valence is the only caller of sum().
        def plain_sum(values, start=0):
            total = start
            for v in values:
                total = total + v
            return total

        vs.sum = plain_sum

    b = Builder(vs, base, args.seed, args.scale)
    b.build()
    counts = {}
    for c, _ in b.rows:
        counts[c] = counts.get(c, 0) + 1
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write("# VADER parity corpus: vaderSentiment 3.3.2 SentimentIntensityAnalyzer().polarity_scores\n")
        f.write("# generated by scripts/vader/regenerate (scripts/vader/make_corpus.py); do not edit\n")
        f.write(f"# seed {args.seed:#x}; {len(b.rows)} rows; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + "\n")
        f.write("# category\tneg\tneu\tpos\tcompound\ttext (escaped)\n")
        for category, neg, neu, pos, compound, text in b.scored():
            f.write(f"{category}\t{neg!r}\t{neu!r}\t{pos!r}\t{compound!r}\t{escape(text)}\n")
    os.replace(tmp, args.out)
    print(f"make_corpus: {len(b.rows)} texts -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
