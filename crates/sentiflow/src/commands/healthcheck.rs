//! `sentiflow healthcheck`: exit 0 when a sentiflow server's health endpoint
//! answers 200, else 1 with one line. Docker's `HEALTHCHECK` runs it, so the
//! image needs no curl.

use crate::cli::HealthcheckArgs;
use crate::web::client;

pub fn run(args: HealthcheckArgs) -> anyhow::Result<()> {
    let url = &args.url;
    let answer = client::get(url, args.timeout)
        .map_err(|error| anyhow::anyhow!("unhealthy: {error:#} ({url})"))?;
    if answer.status != 200 {
        let said = answer.body.lines().next().unwrap_or("").trim();
        anyhow::bail!(
            "unhealthy: {url} answered {}{}",
            answer.status,
            if said.is_empty() {
                String::new()
            } else {
                format!(": {said}")
            }
        );
    }
    println!("healthy: {url} answered 200");
    Ok(())
}
