//! `sentiflow score`: VADER scores as JSON lines, from arguments or stdin.

use std::io::{BufRead, BufWriter, Write};

use serde::{Deserialize, Serialize};

use crate::cli::ScoreArgs;

/// One output line; the field order follows vaderSentiment's dict.
#[derive(Serialize)]
struct ScoreLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a serde_json::Value>,
    neg: f64,
    neu: f64,
    pos: f64,
    compound: f64,
    label: &'static str,
}

/// One `--jsonl` input line.
#[derive(Deserialize)]
struct InputLine {
    id: serde_json::Value,
    sentence: String,
}

/// Lines that could not be scored; reported on stderr as they happen.
#[derive(Debug, thiserror::Error)]
#[error("{failed} input line(s) could not be scored (see the messages above)")]
pub struct ScoreFailures {
    pub failed: usize,
}

pub fn run(args: ScoreArgs) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if !args.texts.is_empty() {
        for text in &args.texts {
            write_scores(&mut out, None, text)?;
        }
        out.flush()?;
        return Ok(());
    }
    let failed = score_lines(std::io::stdin().lock(), &mut out, args.jsonl)?;
    out.flush()?;
    if failed > 0 {
        return Err(ScoreFailures { failed }.into());
    }
    Ok(())
}

/// Scores every line of `input`; returns how many lines failed.
fn score_lines(
    mut input: impl BufRead,
    out: &mut impl Write,
    jsonl: bool,
) -> anyhow::Result<usize> {
    let mut line = Vec::new();
    let mut number = 0usize;
    let mut failed = 0usize;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        let bytes = line.strip_suffix(b"\n").unwrap_or(&line);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let Ok(text) = std::str::from_utf8(bytes) else {
            eprintln!("line {number}: not valid UTF-8, skipped");
            failed += 1;
            continue;
        };
        if !jsonl {
            write_scores(out, None, text)?;
            continue;
        }
        if text.trim().is_empty() {
            continue; // Blank lines separate nothing in JSON lines.
        }
        match serde_json::from_str::<InputLine>(text) {
            Ok(input) => write_scores(out, Some(&input.id), &input.sentence)?,
            Err(error) => {
                eprintln!(
                    "line {number}: expected a JSON object with \"id\" and \"sentence\": {error}"
                );
                failed += 1;
            }
        }
    }
    Ok(failed)
}

fn write_scores(
    out: &mut impl Write,
    id: Option<&serde_json::Value>,
    text: &str,
) -> anyhow::Result<()> {
    let scores = vader::polarity_scores(text);
    let line = ScoreLine {
        id,
        neg: scores.neg,
        neu: scores.neu,
        pos: scores.pos,
        compound: scores.compound,
        label: vader::label(scores.compound).as_str(),
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(input: &str, jsonl: bool) -> (Vec<serde_json::Value>, usize) {
        let mut out = Vec::new();
        let failed = score_lines(input.as_bytes(), &mut out, jsonl).unwrap();
        let lines = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        (lines, failed)
    }

    #[test]
    fn malformed_jsonl_line_is_counted_and_the_rest_is_scored() {
        let (lines, failed) = score(
            "{\"id\": 1, \"sentence\": \"good\"}\nnot json\n{\"id\": \"b\", \"sentence\": \"bad\"}\n",
            true,
        );
        assert_eq!(failed, 1);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["id"], 1);
        assert_eq!(lines[1]["id"], "b");
        assert_eq!(lines[0]["label"], "positive");
        assert_eq!(lines[1]["label"], "negative");
    }

    #[test]
    fn jsonl_without_sentence_is_an_error() {
        let (lines, failed) = score("{\"id\": 1}\n", true);
        assert_eq!((lines.len(), failed), (0, 1));
    }

    #[test]
    fn plain_lines_keep_their_order_and_have_no_id() {
        let (lines, failed) = score("I love it\r\nI hate it\n\n", false);
        assert_eq!(failed, 0);
        assert_eq!(lines.len(), 3);
        assert!(lines[0].get("id").is_none());
        assert_eq!(lines[0]["label"], "positive");
        assert_eq!(lines[1]["label"], "negative");
        assert_eq!(lines[2]["compound"], 0.0);
    }

    #[test]
    fn invalid_utf8_line_is_reported_not_fatal() {
        let mut out = Vec::new();
        let failed = score_lines(&b"good\n\xff\xfe\nbad\n"[..], &mut out, false).unwrap();
        assert_eq!(failed, 1);
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }
}
