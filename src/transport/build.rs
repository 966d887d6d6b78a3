//! Builds the transport that `[transport] kind` (and, for SMTP, `auth`) names.

use std::sync::Arc;

use crate::config::{Config, ConfigError, SmtpAuth, TransportKind};
use crate::transport::file::FileTransport;
use crate::transport::graph::GraphTransport;
use crate::transport::smtp::xoauth2;
use crate::transport::smtp::{SmtpConfigError, SmtpSettings, SmtpTransport};
use crate::transport::Transport;

/// Why no transport could be built: always a problem in `[transport]` (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Smtp(#[from] SmtpConfigError),
    /// The OAuth keys of Graph or XOAUTH2.
    #[error(transparent)]
    OAuth(#[from] ConfigError),
}

/// The transport for this config, and warnings the admin should see. Connects to nothing yet.
pub fn from_config(config: &Config) -> Result<(Arc<dyn Transport>, Vec<String>), BuildError> {
    let t = &config.transport;
    let connections = config.pacing.concurrency.max(1) as usize;
    let transport: Arc<dyn Transport> = match (t.kind, t.auth) {
        (TransportKind::File, _) => Arc::new(FileTransport::new(&t.dir, connections)),
        (TransportKind::Smtp, SmtpAuth::Xoauth2) => {
            Arc::new(xoauth2::from_config(config, connections)?)
        }
        (TransportKind::Smtp, _) => Arc::new(SmtpTransport::with_connections(
            SmtpSettings::from_config(t)?,
            connections,
        )?),
        (TransportKind::Graph, _) => {
            let (graph, warnings) = GraphTransport::from_config(config)?;
            return Ok((Arc::new(graph), warnings));
        }
    };
    Ok((transport, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::render::tests::config_with_transport as config;

    #[test]
    fn each_kind_builds_its_transport() {
        let file_config = config("kind = \"file\"");
        let (file, _) = from_config(&file_config).unwrap();
        let outbox = file_config.path.parent().unwrap().join("outbox");
        assert_eq!(file.describe(), format!("file:{}", outbox.display()));
        let (smtp, _) = from_config(&config(
            "kind = \"smtp\"\nhost = \"127.0.0.1\"\nport = 2525\nsecurity = \"none\"",
        ))
        .unwrap();
        assert_eq!(smtp.describe(), "smtp://127.0.0.1:2525");
        let oauth = "kind = \"smtp\"\nhost = \"smtp.office365.com\"\nauth = \"xoauth2\"\nusername = \"it@fabrikam.com\"\ntenant_id = \"3c9d1e7a-5b2f-4a68-9e0d-7f4b2c8a6d15\"\nclient_id = \"0b7c2f6e-1d3a-4e5b-9c8d-7a6f5e4d3c2b\"\nclient_secret_env = \"PATH\"";
        let (xoauth2, _) = from_config(&config(oauth)).unwrap();
        assert_eq!(xoauth2.describe(), "smtp+starttls://smtp.office365.com:587");
    }

    #[test]
    fn each_transport_carries_as_many_messages_as_concurrency_allows() {
        let concurrency = |transport: &str, n: u32| {
            let mut config = config(transport);
            config.pacing.concurrency = n;
            from_config(&config).unwrap().0.max_in_flight()
        };
        assert_eq!(concurrency("kind = \"file\"", 7), 7);
        let smtp = "kind = \"smtp\"\nhost = \"127.0.0.1\"\nsecurity = \"none\"";
        assert_eq!(concurrency(smtp, 10), 10);
        std::env::set_var("T2T_TEST_BUILD_GRAPH_SECRET", "v");
        let graph = "kind = \"graph\"\nsender = \"it@fabrikam.com\"\ntenant_id = \"3c9d1e7a-5b2f-4a68-9e0d-7f4b2c8a6d15\"\nclient_id = \"0b7c2f6e-1d3a-4e5b-9c8d-7a6f5e4d3c2b\"\nclient_secret_env = \"T2T_TEST_BUILD_GRAPH_SECRET\"";
        assert_eq!(
            concurrency(graph, 10),
            4,
            "Graph takes 4 requests per mailbox"
        );
        assert_eq!(concurrency(graph, 2), 2);
    }

    #[test]
    fn bad_settings_name_the_key() {
        let err = from_config(&config("kind = \"smtp\"")).err().unwrap();
        assert!(err.to_string().contains("needs host"), "{err}");
        let err = from_config(&config(
            "kind = \"smtp\"\nhost = \"mail.fabrikam.com\"\nsecurity = \"none\"",
        ))
        .err()
        .unwrap();
        assert!(err.to_string().contains("security = \"none\""), "{err}");
        let err = from_config(&config("kind = \"graph\"")).err().unwrap();
        assert!(err.to_string().contains("[transport]"), "{err}");
    }
}
