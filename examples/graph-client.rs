//! The reference of the `graph` case of `bench/run.sh`: the least a program must do to send
//! the same messages through Graph's `sendMail` (MIME form) with the same concurrency as
//! t2t-notify (4 requests per mailbox) and the same HTTP client (reqwest). It reads the `.eml`
//! files of a folder, gets one token with the client-credentials grant, then posts each
//! message base64-encoded and expects `202 Accepted`. No ledger, no retries, no checks.
//!
//! ```text
//! GRAPH_CLIENT_SECRET=x graph-client http://127.0.0.1:PORT TENANT SENDER FOLDER [CONCURRENCY]
//! ```

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, tenant, sender, folder, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: graph-client BASE_URL TENANT SENDER FOLDER [CONCURRENCY]");
    };
    let concurrency: usize = rest.first().map_or(Ok(4), |c| c.parse())?;
    let messages = Arc::new(read_messages(&PathBuf::from(folder))?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let sent = runtime.block_on(async {
        let http = reqwest::Client::new();
        let token = token(&http, base, tenant).await?;
        let url = format!("{base}/v1.0/users/{sender}/sendMail");
        let next = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..concurrency {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            let (messages, next) = (Arc::clone(&messages), Arc::clone(&next));
            workers.push(tokio::spawn(async move {
                let mut sent = 0usize;
                while let Some(m) = messages.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let status = http
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "text/plain")
                        .body(STANDARD.encode(m))
                        .send()
                        .await?
                        .status();
                    anyhow::ensure!(status.as_u16() == 202, "sendMail answered {status}");
                    sent += 1;
                }
                anyhow::Ok(sent)
            }));
        }
        let mut sent = 0;
        for w in workers {
            sent += w.await??;
        }
        anyhow::Ok(sent)
    })?;
    println!("sent {sent} messages");
    Ok(())
}

/// Every `.eml` file of the folder, in name order.
fn read_messages(folder: &PathBuf) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).map_err(Into::into))
        .collect()
}

async fn token(http: &reqwest::Client, base: &str, tenant: &str) -> anyhow::Result<String> {
    let secret = std::env::var("GRAPH_CLIENT_SECRET").unwrap_or_default();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "graph-client"),
        ("client_secret", secret.as_str()),
        ("scope", &format!("{base}/.default")),
    ];
    let reply: serde_json::Value = http
        .post(format!("{base}/{tenant}/oauth2/v2.0/token"))
        .form(&form)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    reply["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("the token endpoint gave no access_token"))
}
