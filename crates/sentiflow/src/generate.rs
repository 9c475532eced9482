//! Seeded, realistic fake sentences: product reviews, tweets and news lines with
//! a roughly balanced mix of positive, negative and neutral tone, or Faker-style
//! lorem text.
//!
//! The generator is built for throughput: templates are compiled once, names
//! (companies, cities, people, user handles) are drawn once per generator from
//! the `fake` crate into small pools, and each sentence is written into a
//! caller-owned `String`, so the steady state allocates nothing.
//!
//! Ids are `seed * 10^10 + index` (`ids::sentence_id`): the same seed gives
//! the same sentences and ids, and another seed gives ids that never collide
//! with it.

use fake::Fake;
use fake::faker::address::en::CityName;
use fake::faker::company::en::CompanyName;
use fake::faker::internet::en::Username;
use fake::faker::name::en::FirstName;
use fake::locales::{Data, EN};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::ids::sentence_id;

/// What kind of text to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// Reviews, tweets and news lines with positive, negative and neutral tone.
    Review,
    /// Faker-style lorem ipsum sentences (sentiment is almost always neutral).
    Lorem,
}

/// The tone a generated sentence aims for; VADER has the final word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tone {
    Positive,
    Negative,
    Neutral,
}

/// A seeded sentence generator. Not `Sync`: give each thread its own.
pub struct SentenceGenerator {
    rng: Pcg64Mcg,
    style: Style,
    seed: u64,
    next_index: u64,
    templates: Vec<Template>,
    pools: NamePools,
}

impl SentenceGenerator {
    /// A generator whose output depends only on `seed` and `style`.
    pub fn new(seed: u64, style: Style) -> Self {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let pools = NamePools::draw(&mut rng);
        let templates = TEMPLATES.iter().map(|t| Template::compile(t)).collect();
        Self {
            rng,
            style,
            seed,
            next_index: 0,
            templates,
            pools,
        }
    }

    /// Clears `out`, writes the next sentence into it and returns its id.
    ///
    /// `None` once the seed has no ids left (after 10^10 sentences): the
    /// next id would belong to another seed.
    pub fn next_into(&mut self, out: &mut String) -> Option<i64> {
        let id = sentence_id(self.seed, self.next_index)?;
        out.clear();
        match self.style {
            Style::Review => self.write_review(out),
            Style::Lorem => self.write_lorem(out),
        }
        self.next_index += 1;
        Some(id)
    }

    /// The next sentence and its id, as an owned string; `None` once the
    /// seed has no ids left.
    pub fn next_sentence(&mut self) -> Option<(i64, String)> {
        let mut out = String::with_capacity(96);
        let id = self.next_into(&mut out)?;
        Some((id, out))
    }

    /// The seed this generator draws from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn write_review(&mut self, out: &mut String) {
        let tone = match self.rng.random_range(0..3u8) {
            0 => Tone::Positive,
            1 => Tone::Negative,
            _ => Tone::Neutral,
        };
        let template = &self.templates[self.rng.random_range(0..self.templates.len())];
        for part in &template.parts {
            match *part {
                Part::Text(text) => out.push_str(text),
                Part::Slot(slot) => write_slot(slot, tone, &mut self.rng, &self.pools, out),
            }
        }
        if template.capitalize {
            capitalize_first(out);
        }
    }

    /// Faker's lorem shape: 4 to 9 words from its word list, capitalised, ending with a period.
    fn write_lorem(&mut self, out: &mut String) {
        let words = EN::LOREM_WORD;
        let count = self.rng.random_range(4..10);
        for i in 0..count {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(words[self.rng.random_range(0..words.len())]);
        }
        out.push('.');
        capitalize_first(out);
    }
}

impl Iterator for SentenceGenerator {
    type Item = (i64, String);

    fn next(&mut self) -> Option<Self::Item> {
        self.next_sentence()
    }
}

/// Names drawn once from `fake`, so that sentences mention people and places
/// without allocating per sentence.
struct NamePools {
    companies: Vec<String>,
    cities: Vec<String>,
    people: Vec<String>,
    handles: Vec<String>,
}

impl NamePools {
    const SIZE: usize = 64;

    fn draw(rng: &mut Pcg64Mcg) -> Self {
        let mut draw =
            |f: &dyn Fn(&mut Pcg64Mcg) -> String| (0..Self::SIZE).map(|_| f(rng)).collect();
        Self {
            companies: draw(&|r| CompanyName().fake_with_rng(r)),
            cities: draw(&|r| CityName().fake_with_rng(r)),
            people: draw(&|r| FirstName().fake_with_rng(r)),
            handles: draw(&|r| Username().fake_with_rng(r)),
        }
    }
}

fn pick<'a>(rng: &mut Pcg64Mcg, words: &'a [&'a str]) -> &'a str {
    words[rng.random_range(0..words.len())]
}

fn pick_owned<'a>(rng: &mut Pcg64Mcg, words: &'a [String]) -> &'a str {
    &words[rng.random_range(0..words.len())]
}

/// Upper-cases the first letter when it is ASCII (templates only start with ASCII).
fn capitalize_first(out: &mut str) {
    if let Some(first) = out.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
}

/// A template is literal text with `{slot}` holes, compiled once.
struct Template {
    parts: Vec<Part>,
    capitalize: bool,
}

#[derive(Clone, Copy)]
enum Part {
    Text(&'static str),
    Slot(Slot),
}

/// Every hole a template can have. Tone-dependent slots pick from the list of
/// the sentence's tone.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Opener,
    Product,
    Adjective,
    /// A negated adjective of the opposite tone: "not bad" for positive.
    NegatedAdjective,
    /// An adjective in capitals, as people shout on social media.
    ShoutedAdjective,
    Intensifier,
    Verb,
    Emoji,
    End,
    Company,
    City,
    Person,
    Handle,
    Hashtag,
    Event,
    Movement,
    Percent,
    Weekday,
    Reaction,
    Contrast,
}

impl Slot {
    fn parse(name: &str) -> Slot {
        match name {
            "opener" => Slot::Opener,
            "product" => Slot::Product,
            "adj" => Slot::Adjective,
            "not_adj" => Slot::NegatedAdjective,
            "ADJ" => Slot::ShoutedAdjective,
            "intens" => Slot::Intensifier,
            "verb" => Slot::Verb,
            "emoji" => Slot::Emoji,
            "end" => Slot::End,
            "company" => Slot::Company,
            "city" => Slot::City,
            "person" => Slot::Person,
            "handle" => Slot::Handle,
            "tag" => Slot::Hashtag,
            "event" => Slot::Event,
            "move" => Slot::Movement,
            "pct" => Slot::Percent,
            "weekday" => Slot::Weekday,
            "reaction" => Slot::Reaction,
            "contrast" => Slot::Contrast,
            other => panic!("unknown template slot {{{other}}}"),
        }
    }
}

impl Template {
    /// Compiles a template; a leading `^` means "capitalise the result".
    fn compile(source: &'static str) -> Template {
        let (capitalize, mut rest) = match source.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, source),
        };
        let mut parts = Vec::new();
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(&rest[..open]));
            }
            let close = open + rest[open..].find('}').expect("unclosed template slot");
            parts.push(Part::Slot(Slot::parse(&rest[open + 1..close])));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest));
        }
        Template { parts, capitalize }
    }
}

/// The sentence shapes: reviews, tweets and news lines.
const TEMPLATES: &[&str] = &[
    // Reviews.
    "^{opener}the {product} is {intens}{adj}{end}",
    "^{opener}the {product} is {not_adj}{end}",
    "^I {verb} this {product}{end}",
    "^{opener}I {verb} the {product}, it is {intens}{adj}{end}",
    "^the {product} was {adj} but the {product} is {intens}{adj}{end}",
    "^{reaction} five stars for the {product}{end}",
    "^{opener}{contrast} the {product} is {adj}{end}",
    "^bought this for {person} and the {product} is {intens}{adj}{end}",
    // Tweets.
    "@{handle} the {product} is {ADJ} {emoji}",
    "just tried the new {product} from {company} and it's {intens}{adj} {emoji} #{tag}",
    "can't say the {product} is {adj}... {reaction} #{tag}",
    "{reaction} the {product} at {company} is {not_adj} {emoji}",
    "@{handle} @{handle} {verb} the {product}!!! {emoji}{emoji}",
    "honestly the {product} is {intens}{adj} lol {emoji}",
    // News lines.
    "^{company} shares {move} {pct}% after {event}.",
    "^officials in {city} described the {event} as {adj}.",
    "^{company} reported {event} on {weekday}, and analysts called it {adj}.",
    "^residents of {city} say the new {product} is {not_adj}.",
    "^{person} of {company} said the {product} was {intens}{adj}.",
];

fn write_slot(slot: Slot, tone: Tone, rng: &mut Pcg64Mcg, pools: &NamePools, out: &mut String) {
    use Tone::*;
    let by_tone = |pos: &'static [&'static str],
                   neg: &'static [&'static str],
                   neu: &'static [&'static str]| match tone {
        Positive => pos,
        Negative => neg,
        Neutral => neu,
    };
    match slot {
        Slot::Opener => out.push_str(pick(rng, OPENERS)),
        Slot::Product => out.push_str(pick(rng, PRODUCTS)),
        Slot::Adjective => {
            out.push_str(pick(rng, by_tone(POSITIVE_ADJ, NEGATIVE_ADJ, NEUTRAL_ADJ)))
        }
        Slot::NegatedAdjective => {
            // "not bad" reads positive and "not great" negative, which VADER agrees with.
            let words = by_tone(NEGATIVE_ADJ, POSITIVE_ADJ, NEUTRAL_ADJ);
            if tone != Neutral {
                out.push_str(pick(rng, NEGATIONS));
            }
            out.push_str(pick(rng, words));
        }
        Slot::ShoutedAdjective => {
            let start = out.len();
            out.push_str(pick(rng, by_tone(POSITIVE_ADJ, NEGATIVE_ADJ, NEUTRAL_ADJ)));
            out[start..].make_ascii_uppercase();
        }
        Slot::Intensifier => out.push_str(pick(rng, INTENSIFIERS)),
        Slot::Verb => out.push_str(pick(
            rng,
            by_tone(POSITIVE_VERBS, NEGATIVE_VERBS, NEUTRAL_VERBS),
        )),
        Slot::Emoji => out.push_str(pick(
            rng,
            by_tone(POSITIVE_EMOJI, NEGATIVE_EMOJI, NEUTRAL_EMOJI),
        )),
        Slot::End => out.push_str(pick(
            rng,
            by_tone(POSITIVE_ENDS, NEGATIVE_ENDS, NEUTRAL_ENDS),
        )),
        Slot::Company => out.push_str(pick_owned(rng, &pools.companies)),
        Slot::City => out.push_str(pick_owned(rng, &pools.cities)),
        Slot::Person => out.push_str(pick_owned(rng, &pools.people)),
        Slot::Handle => out.push_str(pick_owned(rng, &pools.handles)),
        Slot::Hashtag => out.push_str(pick(
            rng,
            by_tone(POSITIVE_TAGS, NEGATIVE_TAGS, NEUTRAL_TAGS),
        )),
        Slot::Event => out.push_str(pick(
            rng,
            by_tone(POSITIVE_EVENTS, NEGATIVE_EVENTS, NEUTRAL_EVENTS),
        )),
        Slot::Movement => out.push_str(pick(rng, by_tone(RISES, FALLS, FLAT))),
        Slot::Percent => {
            let tenths: u32 = rng.random_range(1..250);
            push_decimal(out, tenths);
        }
        Slot::Weekday => out.push_str(pick(rng, WEEKDAYS)),
        Slot::Reaction => out.push_str(pick(
            rng,
            by_tone(POSITIVE_REACTIONS, NEGATIVE_REACTIONS, NEUTRAL_REACTIONS),
        )),
        Slot::Contrast => out.push_str(pick(rng, CONTRASTS)),
    }
}

/// Writes `tenths / 10` with one decimal ("12.5") without going through `fmt`.
fn push_decimal(out: &mut String, tenths: u32) {
    let whole = tenths / 10;
    if whole >= 10 {
        out.push(char::from(b'0' + (whole / 10) as u8));
    }
    out.push(char::from(b'0' + (whole % 10) as u8));
    out.push('.');
    out.push(char::from(b'0' + (tenths % 10) as u8));
}

const OPENERS: &[&str] = &[
    "",
    "",
    "",
    "honestly, ",
    "overall, ",
    "so ",
    "well, ",
    "to be fair, ",
    "update: ",
    "after two weeks, ",
];
const CONTRASTS: &[&str] = &[
    "the box was damaged but",
    "it took a while, but",
    "despite the price,",
    "surprisingly,",
];
const NEGATIONS: &[&str] = &["not ", "never ", "not at all ", "hardly "];
const INTENSIFIERS: &[&str] = &[
    "",
    "",
    "",
    "really ",
    "very ",
    "extremely ",
    "incredibly ",
    "absolutely ",
    "so ",
    "kind of ",
    "somewhat ",
    "slightly ",
    "totally ",
    "a bit ",
];
const PRODUCTS: &[&str] = &[
    "battery life",
    "screen",
    "customer service",
    "delivery",
    "sound quality",
    "camera",
    "price",
    "packaging",
    "hotel room",
    "pasta",
    "coffee",
    "app",
    "latest update",
    "keyboard",
    "staff",
    "checkout",
    "design",
    "manual",
    "warranty",
    "fit",
    "charger",
    "headphones",
    "mattress",
    "blender",
    "flight",
    "concert",
    "movie",
    "sequel",
    "soundtrack",
    "restaurant",
];
const POSITIVE_ADJ: &[&str] = &[
    "great",
    "excellent",
    "amazing",
    "fantastic",
    "wonderful",
    "lovely",
    "reliable",
    "impressive",
    "perfect",
    "smooth",
    "delightful",
    "brilliant",
    "superb",
    "pleasant",
    "solid",
    "comfortable",
    "beautiful",
    "awesome",
    "outstanding",
    "fun",
    "good",
    "nice",
    "helpful",
    "worth it",
];
const NEGATIVE_ADJ: &[&str] = &[
    "terrible",
    "awful",
    "disappointing",
    "broken",
    "horrible",
    "useless",
    "poor",
    "ugly",
    "annoying",
    "frustrating",
    "bad",
    "painful",
    "the worst",
    "rude",
    "confusing",
    "boring",
    "dreadful",
    "pathetic",
    "a mess",
    "a joke",
    "hopeless",
    "sad",
];
const NEUTRAL_ADJ: &[&str] = &[
    "average",
    "standard",
    "blue",
    "medium-sized",
    "available",
    "new",
    "large",
    "small",
    "typical",
    "plain",
    "square",
    "heavy",
    "in stock",
    "the same as last year",
    "made of plastic",
    "about what the label says",
    "on time",
];
const POSITIVE_VERBS: &[&str] = &[
    "love",
    "really like",
    "enjoy",
    "would recommend",
    "adore",
    "am happy with",
];
const NEGATIVE_VERBS: &[&str] = &[
    "hate",
    "regret buying",
    "can't stand",
    "am disappointed by",
    "returned",
    "dislike",
];
const NEUTRAL_VERBS: &[&str] = &[
    "bought", "received", "used", "tried", "unpacked", "measured",
];
const POSITIVE_EMOJI: &[&str] = &["😀", "😍", "👍", "🎉", "❤", "😊", "🙌", ":)", ":D"];
const NEGATIVE_EMOJI: &[&str] = &["😡", "😞", "👎", "💔", "😢", "😠", ":(", ":/"];
const NEUTRAL_EMOJI: &[&str] = &["📦", "🤔", "📅", "🛒", "🔋", "📱"];
const POSITIVE_ENDS: &[&str] = &[
    ".",
    ".",
    "!",
    "!!",
    "! 😍",
    ", love it.",
    ", highly recommend!",
];
const NEGATIVE_ENDS: &[&str] = &[".", ".", "!", "...", "?!", ", avoid.", ", what a waste."];
const NEUTRAL_ENDS: &[&str] = &[".", ".", ".", "", " as described.", " for now."];
const POSITIVE_TAGS: &[&str] = &["happy", "winning", "blessed", "bestday", "loveit"];
const NEGATIVE_TAGS: &[&str] = &["fail", "neveragain", "angry", "scam", "worst"];
const NEUTRAL_TAGS: &[&str] = &["news", "monday", "tech", "review", "unboxing"];
const POSITIVE_EVENTS: &[&str] = &[
    "record profits",
    "a successful launch",
    "strong growth",
    "a generous donation",
    "a major win",
    "great reviews",
];
const NEGATIVE_EVENTS: &[&str] = &[
    "a massive data breach",
    "disappointing earnings",
    "a deadly crash",
    "a fraud scandal",
    "mass layoffs",
    "a failed merger",
];
const NEUTRAL_EVENTS: &[&str] = &[
    "a quarterly report",
    "a leadership change",
    "the annual meeting",
    "a scheduled update",
    "a new office",
    "a product recall notice",
];
const RISES: &[&str] = &["rose", "jumped", "climbed", "soared"];
const FALLS: &[&str] = &["fell", "dropped", "plunged", "slid"];
const FLAT: &[&str] = &["moved", "changed", "shifted", "were at"];
const WEEKDAYS: &[&str] = &[
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const POSITIVE_REACTIONS: &[&str] = &["wow,", "yes!", "so happy,", "love it,", "finally,"];
const NEGATIVE_REACTIONS: &[&str] = &["ugh,", "seriously?", "no way,", "sigh,", "wtf,"];
const NEUTRAL_REACTIONS: &[&str] = &["fyi,", "note:", "hmm,", "ok so", "today:"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_sentences_and_ids() {
        let a: Vec<_> = SentenceGenerator::new(7, Style::Review).take(500).collect();
        let b: Vec<_> = SentenceGenerator::new(7, Style::Review).take(500).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn another_seed_gives_other_sentences_and_disjoint_ids() {
        let a: Vec<_> = SentenceGenerator::new(1, Style::Review).take(200).collect();
        let b: Vec<_> = SentenceGenerator::new(2, Style::Review).take(200).collect();
        assert_ne!(
            a.iter().map(|(_, s)| s).collect::<Vec<_>>(),
            b.iter().map(|(_, s)| s).collect::<Vec<_>>()
        );
        let last_a = a.last().unwrap().0;
        assert!(
            last_a < b[0].0,
            "ids of seed 1 must stay below ids of seed 2"
        );
        assert_eq!(a[0].0, crate::ids::IDS_PER_SEED as i64);
    }

    #[test]
    fn sentences_are_nonempty_and_start_without_whitespace() {
        for style in [Style::Review, Style::Lorem] {
            for (_, s) in SentenceGenerator::new(3, style).take(2000) {
                assert!(!s.is_empty());
                assert_eq!(s.trim_start(), s, "leading whitespace in {s:?}");
            }
        }
    }

    #[test]
    fn lorem_sentences_look_like_faker() {
        for (_, s) in SentenceGenerator::new(5, Style::Lorem).take(500) {
            assert!(s.ends_with('.'));
            assert!(s.chars().next().unwrap().is_ascii_uppercase(), "{s:?}");
            let words = s.split(' ').count();
            assert!((4..=9).contains(&words), "{s:?} has {words} words");
        }
    }

    #[test]
    fn generated_sentences_have_a_balanced_mix_of_labels() {
        let mut counts = [0usize; 3];
        let n = 10_000;
        for (_, s) in SentenceGenerator::new(11, Style::Review).take(n) {
            let slot = match vader::label(vader::polarity_scores(&s).compound) {
                vader::Label::Positive => 0,
                vader::Label::Negative => 1,
                vader::Label::Neutral => 2,
            };
            counts[slot] += 1;
        }
        for (i, count) in counts.iter().enumerate() {
            let share = *count as f64 / n as f64;
            assert!(
                (0.2..=0.5).contains(&share),
                "label {i} has share {share:.2}: {counts:?}"
            );
        }
    }

    #[test]
    fn percent_is_written_with_one_decimal() {
        let mut s = String::new();
        push_decimal(&mut s, 7);
        s.push(' ');
        push_decimal(&mut s, 249);
        assert_eq!(s, "0.7 24.9");
    }
}
