//! What a bot allows its file transfers: the deadlines and size cap ([`FileTransfers`]), and
//! whether a URL from the service may point into the bot's own network. Plain settings, apart
//! from the transfers themselves (`file_transfer.rs`), so that the bot handle can keep them
//! without importing what uses the handle.

use std::time::Duration;

use crate::file_box::MAX_FILE_BOX_BYTES;

/// The bounds of file transfers: deadlines for each step and the largest file read.
///
/// ```
/// use std::time::Duration;
/// use wechaty_client::FileTransfers;
/// let patient = FileTransfers { idle_timeout: Duration::from_secs(120), ..FileTransfers::default() };
/// assert_eq!(patient.max_size, 256 * 1024 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileTransfers {
    /// URL boxes: resolving the host and opening the TCP connection (default 10 s).
    pub connect_timeout: Duration,
    /// URL boxes: the TLS handshake (default 10 s).
    pub handshake_timeout: Duration,
    /// URL boxes: from the request to the answer's status and headers (default 30 s).
    pub response_timeout: Duration,
    /// Longest pause in a transfer under way: between two pieces of a URL body or a
    /// `Download`, or in an `Upload` the service stopped taking (default 30 s). A slow but
    /// moving transfer never runs into it, however big the file.
    pub idle_timeout: Duration,
    /// Largest file [`FileBox::to_bytes`](crate::FileBox::to_bytes) and
    /// [`FileBox::to_file`](crate::FileBox::to_file) read, of any kind of box (default
    /// [`MAX_FILE_BOX_BYTES`], 256 MiB). `to_bytes` holds it in memory; `to_file` never holds
    /// more than a piece.
    pub max_size: u64,
}

impl Default for FileTransfers {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
            max_size: MAX_FILE_BOX_BYTES as u64,
        }
    }
}

/// What a bot allows its file transfers: the bounds, and whether a URL from the service may
/// point into the bot's own network.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FilePolicy {
    pub(crate) transfers: FileTransfers,
    pub(crate) allow_private_urls: bool,
}
