//! VADER sentiment scores, exactly as the Python package `vaderSentiment`
//! 3.3.2 computes them, and much faster.
//!
//! [`polarity_scores`] returns the same `neg`/`neu`/`pos`/`compound` as
//! `SentimentIntensityAnalyzer().polarity_scores(text)` for every input,
//! including the reference's quirks (each reproduced on purpose, with a
//! comment naming the reference function it comes from). The lexicons of the
//! 3.3.2 package are embedded at compile time (`data/`, MIT licence).
//!
//! # Stages
//!
//! 1. **Emoji** (`tokens.rs`): each code point of the emoji lexicon is
//!    replaced by its description (a space before it unless the previous
//!    character was U+0020, none after); texts without one are not copied.
//! 2. **Tokens** (`tokens.rs`): split on Python whitespace (`str.split()`,
//!    which includes `\x1c`-`\x1f` but not U+200B), strip ASCII punctuation
//!    from both ends unless that leaves 2 code points or fewer; each token is
//!    lower-cased and looked up once, in a static perfect-hash table holding
//!    the lexicon, the boosters, the negations and the words the rules name.
//! 3. **Valence per lexicon token** (`analyzer.rs`, `sentiment_valence`):
//!    lexicon valence, "no", ALL-CAPS emphasis, boosters/dampeners and
//!    negations up to 3 tokens back, idioms, "least". Other tokens score 0.
//! 4. **"but"** (`_but_check`): valences before the first "but" are halved and
//!    those after it multiplied by 1.5, with the reference's first-equal-value
//!    quirk.
//! 5. **Scores** (`score_valence`): sum plus `!`/`?` emphasis, normalised to
//!    the compound; the neg/neu/pos proportions; Python's `round`
//!    (`round.rs`: exact binary value, ties to even).
//!
//! Every stage is linear in the text length (the reference is quadratic; the
//! "but" quirk is O(n log n) on texts with more than 48 sentiment words) and
//! [`SentimentIntensityAnalyzer`] reuses its buffers, so the hot path does not
//! allocate once they are warm (`tests/no_alloc.rs`).
//!
//! # Interpreter-dependent corners of the reference
//!
//! - The reference sums valences with Python's `sum()`: a plain left-to-right
//!   sum up to CPython 3.11, a compensated one from 3.12. This crate sums like
//!   3.11 (the fixtures record that). The two differ only when valences
//!   nearly cancel: 3 texts of the 37,068 of the parity corpus.
//! - `str.isupper()` depends on the interpreter's Unicode database. This crate
//!   uses Rust's (Unicode 16 or later), which agrees with CPython 3.11's
//!   (Unicode 14) on every assigned character but six rare ones whose case
//!   changed since: U+0295, U+10FC, U+A7F2-U+A7F4, U+AB69.

#![warn(missing_docs)]

mod analyzer;
mod hash;
mod lexicon;
mod round;
mod text;
mod tokens;

use std::cell::RefCell;

pub use analyzer::SentimentIntensityAnalyzer;

/// Short name for [`SentimentIntensityAnalyzer`].
pub type Analyzer = SentimentIntensityAnalyzer;

/// The four VADER scores of a text, rounded like the reference: `neg`, `neu`
/// and `pos` (proportions, 3 decimals) and `compound` (normalised sum in
/// [-1, 1], 4 decimals). `compound` can be `-0.0`, as in the reference.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Scores {
    /// Proportion of negative sentiment.
    pub neg: f64,
    /// Proportion of neutral tokens.
    pub neu: f64,
    /// Proportion of positive sentiment.
    pub pos: f64,
    /// Normalised, weighted composite score in [-1, 1].
    pub compound: f64,
}

/// The usual three-way reading of a compound score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Label {
    /// `compound >= 0.05`.
    Positive,
    /// `compound <= -0.05`.
    Negative,
    /// Anything in between.
    Neutral,
}

impl Label {
    /// `"positive"`, `"negative"` or `"neutral"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Positive => "positive",
            Label::Negative => "negative",
            Label::Neutral => "neutral",
        }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The label of a compound score: positive at 0.05 and above, negative at
/// -0.05 and below, neutral in between (VADER's recommended thresholds).
pub fn label(compound: f64) -> Label {
    if compound >= 0.05 {
        Label::Positive
    } else if compound <= -0.05 {
        Label::Negative
    } else {
        Label::Neutral
    }
}

thread_local! {
    static ANALYZER: RefCell<SentimentIntensityAnalyzer> = RefCell::new(SentimentIntensityAnalyzer::new());
}

/// Scores `text` exactly like vaderSentiment 3.3.2's
/// `SentimentIntensityAnalyzer().polarity_scores(text)`, using a
/// thread-local [`SentimentIntensityAnalyzer`].
///
/// ```
/// let s = vader::polarity_scores("The book was good.");
/// assert_eq!((s.neg, s.neu, s.pos, s.compound), (0.0, 0.508, 0.492, 0.4404));
/// assert_eq!(vader::label(s.compound), vader::Label::Positive);
/// ```
pub fn polarity_scores(text: &str) -> Scores {
    ANALYZER.with(|a| match a.try_borrow_mut() {
        Ok(mut a) => a.polarity_scores(text),
        // Re-entered (only possible from a panic hook or similar): use a fresh one.
        Err(_) => SentimentIntensityAnalyzer::new().polarity_scores(text),
    })
}
