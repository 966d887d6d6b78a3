//! Posts the admin summary to `[notify].webhook_url`: plain JSON that a Teams or Power Automate
//! workflow webhook, or any HTTP endpoint, accepts. Retries on 5xx and connection errors with
//! backoff; a webhook failure is reported to the caller but never changes what was sent.
//!
//! Workflow URLs carry their secret (a `sig=` query, or a token in the path), so errors and
//! logs name the endpoint by [`redact`]ed URL only: scheme, host and port.

use std::time::Duration;

/// Why the summary could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook {url}: the endpoint answered {status} after {attempts} attempts: {body}")]
    Status {
        url: String,
        status: u16,
        attempts: u32,
        body: String,
    },
    #[error("webhook {url}: {source} (after {attempts} attempts)")]
    Request {
        url: String,
        attempts: u32,
        source: reqwest::Error,
    },
    #[error("webhook URL {0} must be https (http is allowed only for a loopback address)")]
    Insecure(String),
}

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub first_delay: Duration,
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            first_delay: Duration::from_secs(2),
            timeout: Duration::from_secs(30),
        }
    }
}

/// The URL without what may be secret: `https://host:port/…` (no user, path or query).
pub fn redact(url: &str) -> String {
    let Ok(u) = url::Url::parse(url) else {
        return "(not a URL)".to_string();
    };
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{}{port}/…", u.scheme(), u.host_str().unwrap_or("?"))
}

/// Checks that a webhook URL is https, or http to a loopback host.
pub fn check_url(url: &str) -> Result<(), WebhookError> {
    let parsed = url::Url::parse(url).map_err(|_| WebhookError::Insecure(redact(url)))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(WebhookError::Insecure(redact(url))),
    }
}

/// POSTs `summary` as JSON to `url`, retrying 5xx, 429 and connection failures.
pub async fn post(
    url: &str,
    summary: &serde_json::Value,
    retry: Retry,
) -> Result<u16, WebhookError> {
    check_url(url)?;
    let shown = redact(url);
    let client = reqwest::Client::builder()
        .timeout(retry.timeout)
        .build()
        .map_err(|source| WebhookError::Request {
            url: shown.clone(),
            attempts: 0,
            source,
        })?;
    let mut delay = retry.first_delay;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let last = attempt >= retry.attempts;
        match client.post(url).json(summary).send().await {
            Ok(resp) if resp.status().is_success() => return Ok(resp.status().as_u16()),
            Ok(resp) => {
                let status = resp.status();
                let retryable = status.is_server_error() || status.as_u16() == 429;
                if !retryable || last {
                    let body = resp.text().await.unwrap_or_default();
                    let body: String = body.chars().take(300).collect();
                    return Err(WebhookError::Status {
                        url: shown,
                        status: status.as_u16(),
                        attempts: attempt,
                        body,
                    });
                }
                tracing::warn!(url = %shown, status = status.as_u16(), attempt, "webhook failed, retrying");
            }
            Err(source) => {
                let source = source.without_url();
                if last {
                    return Err(WebhookError::Request {
                        url: shown,
                        attempts: attempt,
                        source,
                    });
                }
                tracing::warn!(url = %shown, error = %source, attempt, "webhook failed, retrying");
            }
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(check_url("https://prod-00.westeurope.logic.azure.com/workflows/x").is_ok());
        assert!(check_url("http://127.0.0.1:8080/hook").is_ok());
        assert!(check_url("http://localhost:8080/hook").is_ok());
        assert!(check_url("http://[::1]:8080/hook").is_ok());
        assert!(check_url("http://hooks.example.com/x").is_err());
        assert!(check_url("ftp://127.0.0.1/x").is_err());
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn errors_and_logs_never_show_the_secret_part_of_the_url() {
        let url = "https://prod-07.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=S3cr3t";
        assert_eq!(redact(url), "https://prod-07.westeurope.logic.azure.com/…");
        assert_eq!(
            redact("https://user:pw@hooks.example.com:8443/services/T0/B0/XYZ"),
            "https://hooks.example.com:8443/…"
        );
        let insecure = check_url("http://hooks.example.com/services/T0/B0/XYZ?sig=S3cr3t")
            .unwrap_err()
            .to_string();
        assert!(
            !insecure.contains("S3cr3t") && !insecure.contains("XYZ"),
            "{insecure}"
        );
    }
}
