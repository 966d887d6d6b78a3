//! The `file` transport: writes each message as an `.eml` file (owner-only, 0600) into
//! `[transport].dir`, for tests and for handing the messages to another system. Nothing leaves
//! the machine. A file is written under a temporary name and renamed, so a reader never sees
//! half a message.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::transport::{Accepted, BoxFuture, Envelope, FailureClass, SendError, Transport};

/// Writes messages into one folder.
#[derive(Debug, Clone)]
pub struct FileTransport {
    dir: PathBuf,
    max_in_flight: usize,
}

impl FileTransport {
    /// A transport writing into `dir` (created on first use), up to `max_in_flight` files at
    /// once.
    pub fn new(dir: impl Into<PathBuf>, max_in_flight: usize) -> FileTransport {
        FileTransport {
            dir: dir.into(),
            max_in_flight: max_in_flight.max(1),
        }
    }

    /// The file a message with this Message-ID is written to.
    pub fn path_for(&self, message: &[u8]) -> PathBuf {
        self.dir.join(format!("{}.eml", file_stem(message)))
    }
}

/// A safe file name from the message's `Message-ID` header (or its hash when it has none).
fn file_stem(message: &[u8]) -> String {
    let id = header_value(message, "message-id").unwrap_or_default();
    let stem: String = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | '+') {
                c
            } else {
                '_'
            }
        })
        .take(150)
        .collect();
    if stem.is_empty() || stem.starts_with('.') {
        use sha2::Digest;
        hex::encode(&sha2::Sha256::digest(message)[..16])
    } else {
        stem
    }
}

/// The first value of header `name` (case-insensitive) in the message's header block.
fn header_value(message: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(message);
    let header = text.split("\r\n\r\n").next().unwrap_or_default();
    header.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

fn write_private(dir: &Path, path: &Path, message: &[u8]) -> std::io::Result<()> {
    crate::platform::create_private_dir_all(dir)?;
    let tmp = path.with_extension("eml.tmp");
    let mut file = crate::platform::open_private(
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true),
        &tmp,
    )?;
    file.write_all(message)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

impl Transport for FileTransport {
    fn send<'a>(
        &'a self,
        _envelope: &'a Envelope,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Accepted, SendError>> {
        let dir = self.dir.clone();
        let path = self.path_for(message);
        let bytes = message.to_vec();
        Box::pin(async move {
            let target = path.clone();
            let written =
                tokio::task::spawn_blocking(move || write_private(&dir, &target, &bytes)).await;
            match written {
                Ok(Ok(())) => Ok(Accepted {
                    reply: format!("written to {}", path.display()),
                }),
                Ok(Err(e)) => Err(SendError::new(
                    FailureClass::Fatal,
                    format!(
                        "cannot write {}: {e}; check [transport] dir and its permissions",
                        path.display()
                    ),
                )),
                Err(e) => Err(SendError::new(
                    FailureClass::Fatal,
                    format!("the file writer stopped: {e}"),
                )),
            }
        })
    }

    fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    fn describe(&self) -> String {
        format!("file:{}", self.dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope {
        Envelope {
            from: "it@fabrikam.com".into(),
            to: vec!["ana@fabrikam.com".into()],
        }
    }

    #[tokio::test]
    async fn writes_one_private_file_named_after_the_message_id() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("outbox");
        let t = FileTransport::new(&out, 1);
        let msg = b"Message-ID: <abc.123@t2t-notify>\r\nSubject: hi\r\n\r\nbody\r\n";
        let accepted = t.send(&envelope(), msg).await.unwrap();
        let path = out.join("abc.123@t2t-notify.eml");
        assert!(
            accepted.reply.contains("abc.123@t2t-notify.eml"),
            "{}",
            accepted.reply
        );
        assert_eq!(std::fs::read(&path).unwrap(), msg);
        assert!(crate::platform::is_owner_only(&path));
        assert!(crate::platform::is_owner_only(&out));
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn odd_or_missing_message_ids_still_give_safe_names() {
        let t = FileTransport::new("/x", 1);
        let sneaky = t.path_for(b"Message-Id: <../../etc/passwd>\r\n\r\n");
        assert_eq!(sneaky.parent(), Some(Path::new("/x")));
        assert!(!sneaky
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with('.'));
        let plain = t.path_for(b"Message-Id: <a/b c@d>\r\n\r\n");
        assert_eq!(plain, PathBuf::from("/x/a_b_c@d.eml"));
        let none = t.path_for(b"Subject: x\r\n\r\n");
        assert_eq!(none.file_name().unwrap().len(), 32 + 4);
    }

    #[tokio::test]
    async fn an_unwritable_folder_is_fatal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), "").unwrap();
        let t = FileTransport::new(dir.path().join("file").join("sub"), 1);
        let err = t
            .send(&envelope(), b"Message-ID: <a@b>\r\n\r\n")
            .await
            .unwrap_err();
        assert_eq!(err.class, FailureClass::Fatal);
        assert!(err.reply.contains("[transport] dir"), "{}", err.reply);
    }
}
