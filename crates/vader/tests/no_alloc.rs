//! The hot path does not allocate: once an analyzer's buffers have grown to
//! the longest text, scoring allocates nothing (not per token, not per text).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_warm_analyzer_allocates_nothing() {
    let fixtures = include_str!("fixtures/vader_corpus.tsv");
    let texts: Vec<&str> = fixtures
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.splitn(6, '\t').nth(5).unwrap())
        .collect();
    let long = "good but bad, not great 😀 and VERY nice but no! ".repeat(2_000);
    let mut analyzer = vader::SentimentIntensityAnalyzer::new();
    // Warm up: the buffers grow to the longest text.
    analyzer.polarity_scores(&long);
    for t in &texts {
        analyzer.polarity_scores(t);
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut checksum = 0.0;
    for t in &texts {
        checksum += analyzer.polarity_scores(t).compound;
    }
    checksum += analyzer.polarity_scores(&long).compound;
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert!(checksum.is_finite());
    assert_eq!(
        after - before,
        0,
        "scoring {} texts allocated {} times",
        texts.len() + 1,
        after - before
    );
}
