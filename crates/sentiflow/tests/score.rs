use std::io::Write;
use std::process::Stdio;

use crate::util::*;

/// Runs `sentiflow score <args>` with `input` on stdin.
fn score(args: &[&str], input: &str) -> std::process::Output {
    let mut child = sentiflow()
        .arg("score")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn arguments_are_scored_in_order_like_vader() {
    let out = output(sentiflow().args([
        "score",
        "VADER is smart, handsome, and funny!",
        "The plot was not good.",
    ]));
    assert_success(&out);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    for (line, text) in lines.iter().zip([
        "VADER is smart, handsome, and funny!",
        "The plot was not good.",
    ]) {
        let expected = vader::polarity_scores(text);
        assert_eq!(line["compound"], expected.compound);
        assert_eq!(line["neg"], expected.neg);
        assert_eq!(line["neu"], expected.neu);
        assert_eq!(line["pos"], expected.pos);
        assert!(line.get("id").is_none());
    }
    assert_eq!(lines[0]["label"], "positive");
    assert_eq!(lines[1]["label"], "negative");
    // The keys come in vaderSentiment's order.
    assert!(stdout(&out).starts_with("{\"neg\":"), "{}", stdout(&out));
}

#[test]
fn each_stdin_line_is_one_text() {
    let out = score(&[], "great\nterrible\n\nthe table is blue\n");
    assert_success(&out);
    let labels: Vec<_> = json_lines(&out)
        .iter()
        .map(|l| l["label"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(labels, ["positive", "negative", "neutral", "neutral"]);
}

#[test]
fn malformed_jsonl_line_is_reported_with_its_number_and_the_rest_is_scored() {
    let input = "{\"id\": 7, \"sentence\": \"I love it\"}\n{\"id\": 8, \"sentence\": \n{\"id\": \"x\", \"sentence\": \"I hate it\"}\n[1, 2]\n";
    let out = score(&["--jsonl"], input);
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(
        lines.iter().map(|l| l["id"].clone()).collect::<Vec<_>>(),
        [serde_json::json!(7), serde_json::json!("x")]
    );
    let err = stderr(&out);
    assert!(err.contains("line 2:"), "{err}");
    assert!(err.contains("line 4:"), "{err}");
    assert!(err.contains("2 input line(s) could not be scored"), "{err}");
}

#[test]
fn jsonl_and_text_arguments_together_are_a_usage_error() {
    let out = output(sentiflow().args(["score", "--jsonl", "some text"]));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim_end().lines().count(),
        1,
        "{}",
        stderr(&out)
    );
}
