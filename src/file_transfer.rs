//! Moving a [`FileBox`]'s bytes: reading them ([`FileBox::to_bytes`], [`FileBox::to_file`]) and
//! preparing them for the wire (inline, or uploaded in chunks). Every transfer is bounded: a
//! size cap, and deadlines that a stalled peer runs into instead of hanging the bot.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;
use tokio_stream::StreamExt;

use crate::error::{Error, Result};
use crate::file_box::{base64_engine, FileBox, FileBoxSource};
use crate::file_policy::FileTransfers;
use crate::generated::wechaty::puppet as pb;
use crate::http::{self, AddressPolicy, Dial, WebUrl};
use crate::transport::Transport;
use crate::wechaty::Wechaty;

/// Size of the pieces a file is uploaded in: well under the 4 MiB message limit.
pub(crate) const UPLOAD_CHUNK: usize = 1024 * 1024;

impl FileBox {
    /// The file's bytes: decoded (base64), read (local file), fetched (URL, over HTTP(S) with
    /// the public web roots) or downloaded from the service (UUID, `Download`). At most
    /// [`FileTransfers::max_size`]. A QR-code box has no bytes of its own: render its content.
    ///
    /// A URL that came from the service is fetched only from a public address (see
    /// [`WechatyBuilder::allow_private_file_urls`](crate::WechatyBuilder::allow_private_file_urls)).
    pub async fn to_bytes(&self, bot: &Wechaty) -> Result<Vec<u8>> {
        let mut chunks = self.chunks(bot).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = chunks.next().await? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// Writes the file to `path` and returns its size, at most [`FileTransfers::max_size`].
    /// The bytes go to a temporary file next to `path`, renamed to `path` once complete: a cut
    /// transfer leaves no partial file under that name (nor, once the call returns or is
    /// dropped, anywhere). URL, UUID and local-file boxes are streamed piece by piece, never
    /// held whole in memory.
    pub async fn to_file(&self, bot: &Wechaty, path: impl AsRef<Path>) -> Result<u64> {
        let path = path.as_ref();
        let mut chunks = self.chunks(bot).await?;
        let mut partial = PartialFile::create(path).await?;
        while let Some(chunk) = chunks.next().await? {
            partial.write(&chunk).await?;
        }
        partial.persist().await
    }

    /// The box's bytes as they come, with the size cap checked on the way.
    async fn chunks(&self, bot: &Wechaty) -> Result<Chunks<'_>> {
        let policy = bot.file_policy();
        let limits = policy.transfers;
        let source = match &self.source {
            FileBoxSource::Bytes(bytes) => Source::Once(Some(bytes.clone())),
            FileBoxSource::Base64(data) => {
                let data = data.trim();
                // Decoding can only shrink it by a quarter: refuse before allocating.
                if (data.len() / 4 * 3) as u64 > limits.max_size {
                    return Err(self.too_big(limits.max_size));
                }
                let bytes = base64_engine()
                    .decode(data)
                    .map_err(|error| Error::invalid_data_caused("base64 file", error))?;
                Source::Once(Some(bytes.into()))
            }
            FileBoxSource::File(path) => {
                let file = tokio::fs::File::open(path)
                    .await
                    .map_err(|error| Error::file("read", path, error))?;
                Source::File {
                    reader: tokio_util::io::ReaderStream::with_capacity(file, UPLOAD_CHUNK),
                    path,
                }
            }
            FileBoxSource::Url { url, headers } => {
                let dial = Dial {
                    policy: if self.is_from_service() && !policy.allow_private_urls {
                        AddressPolicy::PublicOnly
                    } else {
                        AddressPolicy::Any
                    },
                    connect: limits.connect_timeout,
                    handshake: limits.handshake_timeout,
                    response: limits.response_timeout,
                };
                let parsed = WebUrl::parse(url).ok_or_else(|| {
                    Error::invalid_data("file URL", format!("{url:?} is not an http(s) URL"))
                })?;
                let (status, body) = http::open(&parsed, &http::forwardable(headers), dial)
                    .await
                    .map_err(|failure| self.fetch_failed(failure.message, failure.source))?;
                if !status.is_success() {
                    return Err(self.fetch_failed(format!("the server answered {status}"), None));
                }
                Source::Url(body)
            }
            FileBoxSource::Uuid(uuid) => {
                let transport = bot.transport()?;
                let request = pb::DownloadRequest { id: uuid.clone() };
                let started = tokio::time::Instant::now();
                let opened =
                    tokio::time::timeout(limits.idle_timeout, transport.puppet().download(request))
                        .await
                        .map_err(|_| {
                            stalled(&transport, "the answer to Download", limits.idle_timeout)
                        })?;
                let opened = match opened {
                    Ok(response) => Ok(response.into_inner()),
                    Err(status) => Err(transport.error("Download", status).await),
                };
                transport.record("Download", started.elapsed(), opened.as_ref().err());
                Source::Download {
                    stream: opened?,
                    transport,
                }
            }
            FileBoxSource::QrCode(_) => {
                return Err(Error::InvalidArgument(format!(
                    "{} is a QR code: it has content to render, not bytes to fetch",
                    self.name
                )))
            }
        };
        Ok(Chunks {
            file: self,
            source,
            limits,
            read: 0,
        })
    }

    fn too_big(&self, max_size: u64) -> Error {
        Error::invalid_data(
            "file",
            format!(
                "{} is larger than {max_size} bytes (raise `FileTransfers::max_size` to read it)",
                self.name
            ),
        )
    }

    fn fetch_failed(&self, message: String, source: Option<crate::error::Cause>) -> Error {
        Error::FetchFile {
            name: self.name.clone(),
            message,
            source,
        }
    }

    /// What goes on the wire: URL, UUID, QR-code and base64 boxes as they are; local files and
    /// bytes inline (base64) up to `inline_limit` bytes, else uploaded in chunks (`Upload`) and
    /// sent as a UUID box.
    pub(crate) async fn prepare(&self, bot: &Wechaty, inline_limit: usize) -> Result<FileBox> {
        let inline = |bytes: &[u8]| {
            let mut inline = self.clone();
            inline.size = Some(bytes.len() as u64);
            inline.source = FileBoxSource::Base64(base64_engine().encode(bytes));
            inline
        };
        let idle_timeout = bot.file_policy().transfers.idle_timeout;
        let (size, uuid) = match &self.source {
            FileBoxSource::Bytes(bytes) if bytes.len() <= inline_limit => return Ok(inline(bytes)),
            FileBoxSource::Bytes(bytes) => {
                let pieces: Vec<std::io::Result<Bytes>> = (0..bytes.len())
                    .step_by(UPLOAD_CHUNK)
                    .map(|start| Ok(bytes.slice(start..bytes.len().min(start + UPLOAD_CHUNK))))
                    .collect();
                let chunks = tokio_stream::iter(pieces);
                let uuid = upload(bot, chunks, Path::new(&self.name), idle_timeout).await?;
                (bytes.len() as u64, uuid)
            }
            FileBoxSource::File(path) => {
                let cannot_read = |error: std::io::Error| Error::file("read", path, error);
                let file = tokio::fs::File::open(path).await.map_err(cannot_read)?;
                let size = file.metadata().await.map_err(cannot_read)?.len();
                if size <= inline_limit as u64 {
                    return Ok(inline(&tokio::fs::read(path).await.map_err(cannot_read)?));
                }
                let chunks = tokio_util::io::ReaderStream::with_capacity(file, UPLOAD_CHUNK);
                (size, upload(bot, chunks, path, idle_timeout).await?)
            }
            _ => return Ok(self.clone()),
        };
        let mut uploaded = self.clone();
        uploaded.size = Some(size);
        uploaded.source = FileBoxSource::Uuid(uuid);
        Ok(uploaded)
    }
}

/// Where the pieces of a box come from.
enum Source<'a> {
    /// All at once (bytes in memory, decoded base64).
    Once(Option<Bytes>),
    File {
        reader: tokio_util::io::ReaderStream<tokio::fs::File>,
        path: &'a Path,
    },
    Url(hyper::body::Incoming),
    Download {
        stream: tonic::Streaming<pb::DownloadResponse>,
        transport: Transport,
    },
}

/// A box's bytes piece by piece: at most `limits.max_size` of them, each piece within
/// `limits.idle_timeout` of the one before.
struct Chunks<'a> {
    file: &'a FileBox,
    source: Source<'a>,
    limits: FileTransfers,
    read: u64,
}

impl Chunks<'_> {
    /// The next piece, `None` at the end.
    async fn next(&mut self) -> Result<Option<Bytes>> {
        let idle_timeout = self.limits.idle_timeout;
        let chunk = match &mut self.source {
            Source::Once(bytes) => bytes.take(),
            Source::File { reader, path } => match reader.next().await {
                Some(Ok(chunk)) => Some(chunk),
                Some(Err(error)) => return Err(Error::file("read", *path, error)),
                None => None,
            },
            Source::Url(body) => loop {
                let frame = tokio::time::timeout(idle_timeout, body.frame())
                    .await
                    .map_err(|_| {
                        self.file.fetch_failed(
                            format!(
                                "no data for {idle_timeout:?} (raise `FileTransfers::idle_timeout` \
                                 for a slow host)"
                            ),
                            None,
                        )
                    })?;
                let Some(frame) = frame else { break None };
                let frame = frame.map_err(|error| {
                    self.file
                        .fetch_failed(error.to_string(), Some(Box::new(error)))
                })?;
                if let Ok(data) = frame.into_data() {
                    break Some(data);
                } // else trailers: read on
            },
            Source::Download { stream, transport } => {
                let next = tokio::time::timeout(idle_timeout, stream.message())
                    .await
                    .map_err(|_| stalled(transport, "the next piece of Download", idle_timeout))?;
                match next {
                    Ok(chunk) => chunk.map(|chunk| chunk.chunk),
                    Err(status) => return Err(transport.error("Download", status).await),
                }
            }
        };
        if let Some(chunk) = &chunk {
            self.read += chunk.len() as u64;
            if self.read > self.limits.max_size {
                return Err(self.file.too_big(self.limits.max_size));
            }
        }
        Ok(chunk)
    }
}

/// A transfer with the service stalled: the connection may be half-open, so later calls go over
/// a fresh one.
fn stalled(transport: &Transport, what: &str, timeout: Duration) -> Error {
    transport.renew();
    Error::Timeout {
        what: format!(
            "{what} (the service stalled; raise `FileTransfers::idle_timeout` if it is just slow)"
        ),
        timeout,
    }
}

/// A file being written under a temporary name next to its target; removed unless
/// [`persist`](Self::persist)ed, so a failed or cancelled write leaves nothing behind.
struct PartialFile {
    target: PathBuf,
    temporary: PathBuf,
    file: Option<tokio::fs::File>,
    written: u64,
}

impl PartialFile {
    async fn create(target: &Path) -> Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = target.file_name().ok_or_else(|| {
            Error::InvalidArgument(format!("{} is not a file name", target.display()))
        })?;
        let mut temporary_name = std::ffi::OsString::from(".");
        temporary_name.push(name);
        temporary_name.push(format!(
            ".{}-{}.part",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let temporary = target.with_file_name(temporary_name);
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
            .await
            // Named after the target: the temporary name would only puzzle.
            .map_err(|error| Error::file("write", target, error))?;
        Ok(Self {
            target: target.to_path_buf(),
            temporary,
            file: Some(file),
            written: 0,
        })
    }

    async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        if let Some(file) = &mut self.file {
            file.write_all(chunk)
                .await
                .map_err(|error| Error::file("write", &self.temporary, error))?;
        }
        self.written += chunk.len() as u64;
        Ok(())
    }

    /// Moves the complete file to its target name; returns its size.
    async fn persist(mut self) -> Result<u64> {
        if let Some(mut file) = self.file.take() {
            file.flush()
                .await
                .map_err(|error| Error::file("write", &self.temporary, error))?;
        }
        tokio::fs::rename(&self.temporary, &self.target)
            .await
            .map_err(|error| Error::file("write", &self.target, error))?;
        self.temporary.clear();
        Ok(self.written)
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.temporary.as_os_str().is_empty() {
            // Closed first, so that removing works everywhere.
            drop(self.file.take());
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

/// Streams `chunks` to the service with `Upload`; returns the id it stored them under. No
/// deadline on the whole (a big file takes as long as it takes), but the service must take a
/// piece, or answer after the last, within `idle_timeout`.
async fn upload<S>(
    bot: &Wechaty,
    chunks: S,
    source_path: &Path,
    idle_timeout: Duration,
) -> Result<String>
where
    S: tokio_stream::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
{
    let transport = bot.transport()?;
    let read_error: Arc<Mutex<Option<std::io::Error>>> = Arc::default();
    let slot = Arc::clone(&read_error);
    let progress = Arc::new(tokio::sync::Notify::new());
    let taken = Arc::clone(&progress);
    let requests = chunks.map_while(move |chunk| {
        taken.notify_one();
        match chunk {
            Ok(chunk) => Some(pb::UploadRequest { chunk }),
            Err(error) => {
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
                None
            }
        }
    });
    let started = tokio::time::Instant::now();
    let id = upload_chunks(
        &transport,
        requests,
        &progress,
        idle_timeout,
        &read_error,
        source_path,
    )
    .await;
    transport.record("Upload", started.elapsed(), id.as_ref().err());
    id
}

async fn upload_chunks(
    transport: &Transport,
    requests: impl tokio_stream::Stream<Item = pb::UploadRequest> + Send + 'static,
    progress: &tokio::sync::Notify,
    idle_timeout: Duration,
    read_error: &Mutex<Option<std::io::Error>>,
    source_path: &Path,
) -> Result<String> {
    let mut client = transport.puppet();
    let call = client.upload(requests);
    tokio::pin!(call);
    let response = loop {
        tokio::select! {
            response = &mut call => break response,
            () = progress.notified() => {}
            () = tokio::time::sleep(idle_timeout) => {
                let what = "the service to take the next piece of Upload";
                return Err(stalled(transport, what, idle_timeout));
            }
        }
    };
    if let Some(error) = read_error.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(Error::file("read", source_path, error));
    }
    let id = match response {
        Ok(response) => response.into_inner().id,
        Err(status) => return Err(transport.error("Upload", status).await),
    };
    if id.is_empty() {
        return Err(Error::invalid_data(
            "Upload answer",
            "the service returned no id",
        ));
    }
    Ok(id)
}
