//! Builds the transport that `[transport] kind` names.

use std::sync::Arc;

use crate::config::{Config, TransportKind};
use crate::transport::file::FileTransport;
use crate::transport::smtp::{SmtpConfigError, SmtpSettings, SmtpTransport};
use crate::transport::Transport;

/// Why no transport could be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Smtp(#[from] SmtpConfigError),
    #[error("[transport] kind = \"graph\" is not available in this build; use kind = \"smtp\" or \"file\"")]
    GraphUnavailable,
}

/// The transport for this config. Connects to nothing yet.
pub fn from_config(config: &Config) -> Result<Arc<dyn Transport>, BuildError> {
    let t = &config.transport;
    Ok(match t.kind {
        TransportKind::File => Arc::new(FileTransport::new(&t.dir)),
        TransportKind::Smtp => Arc::new(SmtpTransport::new(SmtpSettings::from_config(t)?)?),
        TransportKind::Graph => return Err(BuildError::GraphUnavailable),
    })
}
