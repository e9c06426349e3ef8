//! File transfers as a hostile or broken peer meets them: URL boxes from the service that point
//! into the bot's own network, headers a box must not set, hosts that stall or cut a body, the
//! size cap, and `Upload`/`Download` cut or stalled mid-transfer. A cut transfer is a clear
//! error and leaves no file behind.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::proxy::Proxy;
use common::WAIT;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::timeout;
use wechaty_client::mock::{MockAttachment, MockServer, MockWorld};
use wechaty_client::{Error, FileBox, FileBoxSource, FileTransfers, MessageType, Wechaty};

const TOKEN: &str = "insecure_files";

/// How a [`FileHost`] answers.
#[derive(Clone, Copy)]
enum Answer {
    /// The whole body.
    Whole,
    /// Status, headers and half the body, then silence.
    StallMidBody,
    /// Status, headers and half the body, then the connection closes.
    CutMidBody,
}

/// A one-file HTTP/1.1 host on loopback that writes down the requests it gets.
struct FileHost {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FileHost {
    async fn start(body: Vec<u8>, answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/files/report.bin", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let body = body.clone();
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    seen.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&head).into_owned());
                    let header = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: application/octet-stream\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(header.as_bytes()).await;
                    match answer {
                        Answer::Whole => {
                            let _ = stream.write_all(&body).await;
                        }
                        Answer::StallMidBody => {
                            let _ = stream.write_all(&body[..body.len() / 2]).await;
                            let _ = stream.flush().await;
                            std::future::pending::<()>().await;
                        }
                        Answer::CutMidBody => {
                            let _ = stream.write_all(&body[..body.len() / 2]).await;
                        }
                    }
                });
            }
        });
        Self { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A directory of its own for one test, empty, removed when the test ends (passed or not).
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("wechaty-files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// A message from the service carrying `file`.
fn message_with(server: &MockServer, file: FileBox) -> wechaty_client::MessageId {
    server.world().receive(
        "ann",
        Some("r1@chatroom"),
        MessageType::Attachment,
        "",
        Some(MockAttachment::File(file)),
    )
}

/// A bot on `server` with the SDK's defaults: no `allow_private_file_urls`.
async fn default_bot(server: &MockServer) -> Wechaty {
    Wechaty::builder()
        .endpoint(server.endpoint())
        .token(TOKEN)
        .no_tls(true)
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_url_from_the_service_into_the_local_network_is_refused_unless_allowed() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    let host = FileHost::start(b"secret admin page".to_vec(), Answer::Whole).await;
    let mut file = FileBox::from_url(&host.url);
    if let FileBoxSource::Url { headers, .. } = &mut file.source {
        headers.insert("Cookie".into(), "session=1".into());
        headers.insert("Host".into(), "169.254.169.254".into());
        headers.insert("Transfer-Encoding".into(), "chunked".into());
    }
    let id = message_with(&server, file);

    let bot = default_bot(&server).await;
    let from_service = bot.message(id.clone()).to_file_box().await.unwrap();
    let error = from_service.to_bytes(&bot).await.unwrap_err();
    assert!(matches!(error, Error::FetchFile { .. }), "{error:?}");
    assert!(
        error.to_string().contains("allow_private_file_urls"),
        "says how to allow it: {error}"
    );
    assert!(host.requests().is_empty(), "the host was never contacted");

    // The same URL made by the program itself is its own choice.
    let own = FileBox::from_url(&host.url);
    assert_eq!(own.to_bytes(&bot).await.unwrap(), b"secret admin page");

    // Allowed (the mock's builder does): fetched, with the file host's headers only.
    let allowed = server.bot_builder().build().await.unwrap();
    let from_service = allowed.message(id).to_file_box().await.unwrap();
    assert_eq!(
        from_service.to_bytes(&allowed).await.unwrap(),
        b"secret admin page"
    );
    let request = host.requests().pop().unwrap().to_ascii_lowercase();
    assert!(request.contains("cookie: session=1"), "{request}");
    assert!(!request.contains("169.254.169.254"), "{request}");
    assert!(!request.contains("transfer-encoding"), "{request}");
}

#[tokio::test]
async fn a_url_body_that_stalls_or_is_cut_is_an_error_and_leaves_no_file() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    let quick = FileTransfers {
        idle_timeout: Duration::from_millis(300),
        ..FileTransfers::default()
    };
    let bot = server
        .bot_builder()
        .file_transfers(quick)
        .build()
        .await
        .unwrap();
    let dir = scratch("url");
    let target = dir.join("report.bin");

    let stalling = FileHost::start(vec![7u8; 64 * 1024], Answer::StallMidBody).await;
    let error = timeout(
        WAIT,
        FileBox::from_url(&stalling.url).to_file(&bot, &target),
    )
    .await
    .expect("the idle timeout ends it")
    .unwrap_err();
    assert!(matches!(error, Error::FetchFile { .. }), "{error:?}");
    assert!(error.to_string().contains("idle_timeout"), "{error}");
    assert!(
        entries(&dir).is_empty(),
        "no file left: {:?}",
        entries(&dir)
    );

    let cut = FileHost::start(vec![7u8; 64 * 1024], Answer::CutMidBody).await;
    let error = timeout(WAIT, FileBox::from_url(&cut.url).to_file(&bot, &target))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(error, Error::FetchFile { .. }), "{error:?}");
    assert!(
        entries(&dir).is_empty(),
        "no file left: {:?}",
        entries(&dir)
    );

    let whole = FileHost::start(vec![7u8; 64 * 1024], Answer::Whole).await;
    let written = FileBox::from_url(&whole.url)
        .to_file(&bot, &target)
        .await
        .unwrap();
    assert_eq!(written, 64 * 1024);
    assert_eq!(entries(&dir), vec!["report.bin"]);
}

#[tokio::test]
async fn a_host_that_never_answers_runs_into_the_response_timeout() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    // Accepts, reads nothing, answers nothing.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x.bin", listener.local_addr().unwrap());
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let quick = FileTransfers {
        response_timeout: Duration::from_millis(300),
        ..FileTransfers::default()
    };
    let bot = server
        .bot_builder()
        .file_transfers(quick)
        .build()
        .await
        .unwrap();
    let error = timeout(WAIT, FileBox::from_url(url).to_bytes(&bot))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("waiting for the answer took longer than"),
        "{error}"
    );
}

#[tokio::test]
async fn every_kind_of_box_is_held_to_the_size_cap() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    let small = FileTransfers {
        max_size: 1000,
        ..FileTransfers::default()
    };
    let bot = server
        .bot_builder()
        .file_transfers(small)
        .inline_file_limit(10)
        .build()
        .await
        .unwrap();
    let dir = scratch("cap");
    let local = dir.join("local.bin");
    std::fs::write(&local, vec![1u8; 5000]).unwrap();
    let host = FileHost::start(vec![2u8; 5000], Answer::Whole).await;
    // An upload of 5000 bytes, sent by id: the service's copy comes back as a UUID box.
    let sent = bot
        .room("r1@chatroom")
        .say(FileBox::from_bytes("big.bin", vec![3u8; 5000]))
        .await
        .unwrap()
        .unwrap();
    let uploaded = sent.to_file_box().await.unwrap();
    assert!(
        matches!(uploaded.source, FileBoxSource::Uuid(_)),
        "{uploaded:?}"
    );

    let target = dir.join("out.bin");
    for file in [
        FileBox::from_bytes("b.bin", vec![0u8; 5000]),
        FileBox::from_base64("b64.bin", "A".repeat(8000)),
        FileBox::from_file(&local),
        FileBox::from_url(&host.url),
        uploaded,
    ] {
        let error = file.to_file(&bot, &target).await.unwrap_err();
        assert!(error.to_string().contains("max_size"), "{file:?}: {error}");
        let error = file.to_bytes(&bot).await.unwrap_err();
        assert!(error.to_string().contains("max_size"), "{file:?}: {error}");
    }
    assert_eq!(
        entries(&dir),
        vec!["local.bin"],
        "no output, no partial file"
    );
    let fits = FileBox::from_bytes("ok.bin", vec![9u8; 1000]);
    assert_eq!(fits.to_file(&bot, &target).await.unwrap(), 1000);
}

/// A bot on `server` through `proxy`, with quick file deadlines.
async fn proxied_bot(server: &MockServer, proxy: &Proxy) -> Wechaty {
    let _ = server;
    Wechaty::builder()
        .endpoint(&proxy.endpoint)
        .token(TOKEN)
        .no_tls(true)
        .allow_private_file_urls(true)
        .inline_file_limit(1024)
        .file_transfers(FileTransfers {
            idle_timeout: Duration::from_millis(500),
            ..FileTransfers::default()
        })
        .build()
        .await
        .unwrap()
}

/// Waits until `proxy` forwarded more than `bytes` in the direction `pick` chooses. Three
/// times the usual wait: CI runs this file's 24 MiB transfers side by side on two cores.
async fn until_forwarded(proxy: &Proxy, bytes: u64, pick: fn((u64, u64)) -> u64) {
    timeout(WAIT * 3, async {
        while pick(proxy.forwarded()) <= bytes {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "the transfer did not get under way: {:?} bytes forwarded (to the service, to the client), waiting for more than {bytes}",
            proxy.forwarded()
        )
    });
}

const BIG: usize = 24 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_cut_or_stalled_mid_transfer_is_an_error_and_leaves_no_file() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    let proxy = Proxy::start(server.endpoint()).await;
    let bot = proxied_bot(&server, &proxy).await;
    let dir = scratch("download");
    let target = dir.join("big.bin");
    let sent = bot
        .room("r1@chatroom")
        .say(FileBox::from_bytes("big.bin", vec![5u8; BIG]))
        .await
        .unwrap()
        .unwrap();
    let file = sent.to_file_box().await.unwrap();

    for stall in [false, true] {
        let (_, before) = proxy.forwarded();
        let mut download = {
            let (bot, file, target) = (bot.clone(), file.clone(), target.clone());
            tokio::spawn(async move { file.to_file(&bot, &target).await })
        };
        // A download that ends before it is under way says how (CI once saw this wait out).
        tokio::select! {
            () = until_forwarded(&proxy, before + 4 * 1024 * 1024, |(_, to_client)| to_client) => {}
            ended = &mut download => panic!("the download ended before 4 MiB went through: {ended:?}"),
        }
        if stall {
            proxy.black_hole_existing();
        } else {
            proxy.cut_existing();
        }
        let error = timeout(WAIT, download)
            .await
            .expect("the transfer ends")
            .unwrap()
            .unwrap_err();
        if stall {
            assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
            assert!(error.to_string().contains("idle_timeout"), "{error}");
        } else {
            assert!(error.to_string().contains("Download"), "{error}");
        }
        assert!(
            entries(&dir).is_empty(),
            "no file left: {:?}",
            entries(&dir)
        );
    }
    // Over a fresh connection the same download completes.
    assert_eq!(file.to_file(&bot, &target).await.unwrap(), BIG as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_or_stalled_mid_transfer_is_a_clear_error() {
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    let proxy = Proxy::start(server.endpoint()).await;
    let bot = proxied_bot(&server, &proxy).await;
    for stall in [false, true] {
        let (before, _) = proxy.forwarded();
        let mut upload = {
            let bot = bot.clone();
            tokio::spawn(async move {
                let big = FileBox::from_bytes("big.bin", vec![6u8; BIG]);
                bot.room("r1@chatroom").say(big).await
            })
        };
        // An upload that ends before it is under way says how (one CI run saw this wait out).
        tokio::select! {
            () = until_forwarded(&proxy, before + 4 * 1024 * 1024, |(to_service, _)| to_service) => {}
            ended = &mut upload => panic!("the upload (stall: {stall}) ended before 4 MiB went through: {ended:?}"),
        }
        if stall {
            proxy.black_hole_existing();
        } else {
            proxy.cut_existing();
        }
        let error = timeout(WAIT, upload)
            .await
            .expect("the transfer ends")
            .unwrap()
            .unwrap_err();
        if stall {
            assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
            assert!(error.to_string().contains("Upload"), "{error}");
        } else {
            // The connection broke under the call: the transport error, with its advice.
            assert!(matches!(error, Error::Transport { .. }), "{error:?}");
        }
    }
    // Over a fresh connection the same upload completes.
    let big = FileBox::from_bytes("big.bin", vec![6u8; BIG]);
    bot.room("r1@chatroom").say(big).await.unwrap();
}
