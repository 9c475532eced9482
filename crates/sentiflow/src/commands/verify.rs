//! `sentiflow verify`: is every sentence produced with a seed and count stored, once?

use crate::cli::{ConsistencyArg, VerifyArgs};
use crate::ids::sentence_id;
use crate::progress::thousands;
use crate::sinks::cassandra;

pub async fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let options = super::cassandra_options(&args.cassandra, ConsistencyArg::One, 1);
    let ids = cassandra::stored_ids(&options).await?;
    let first = sentence_id(args.seed, 0).expect("the seed's range is checked by the command line");
    let end = first + args.count as i64;
    // One bit per expected id: ids of this seed are dense from `first`.
    let mut seen = vec![false; args.count as usize];
    let mut others = 0u64;
    for id in &ids {
        if (first..end).contains(id) {
            seen[(id - first) as usize] = true;
        } else {
            others += 1;
        }
    }
    let missing: Vec<i64> = seen
        .iter()
        .enumerate()
        .filter(|(_, present)| !**present)
        .map(|(index, _)| first + index as i64)
        .collect();
    let table = format!("{}.{}", args.cassandra.keyspace, args.cassandra.table);
    if args.json {
        let summary = serde_json::json!({
            "table": table,
            "expected": args.count,
            "present": args.count - missing.len() as u64,
            "missing": missing.len(),
            "first_missing": missing.iter().take(20).collect::<Vec<_>>(),
            "other_rows": others,
        });
        println!("{summary}");
    } else {
        println!(
            "sentiflow verify: {} of {} ids of seed {} present in {table} ({} other rows)",
            thousands(args.count - missing.len() as u64),
            thousands(args.count),
            args.seed,
            thousands(others)
        );
    }
    if !missing.is_empty() {
        anyhow::bail!(
            "{} ids are missing, first: {:?}",
            missing.len(),
            &missing[..missing.len().min(10)]
        );
    }
    Ok(())
}
