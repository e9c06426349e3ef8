//! A 50 MiB file through `Upload` and `Download`, byte-identical, with bounded buffering: the
//! test counts live heap bytes (its own global allocator) and checks that the peak during the
//! round trip stays far below the file's size.

mod common;

use std::io::Write;

use common::heap;
use wechaty_client::mock::{MockPuppetService, MockWorld};
use wechaty_client::{FileBox, FileBoxSource};

#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;

const SIZE: usize = 50 * 1024 * 1024;
/// Generous: a few 1 MiB chunks in flight, HTTP/2 windows, the runtime. Far below 50 MiB.
const MAX_EXTRA_HEAP: usize = 16 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mib_file_round_trips_with_bounded_buffering() {
    let dir = std::env::temp_dir().join(format!("wechaty-big-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("big.bin");
    let target = dir.join("back.bin");
    {
        // Written in pieces, never held whole: a cheap pseudo-random pattern.
        let mut file = std::io::BufWriter::new(std::fs::File::create(&source).unwrap());
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut block = vec![0u8; 64 * 1024];
        for _ in 0..SIZE / block.len() {
            for byte in block.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *byte = x as u8;
            }
            file.write_all(&block).unwrap();
        }
    }

    let server = MockPuppetService::builder()
        .world(MockWorld::demo())
        .heartbeat_interval(None)
        .serve()
        .await
        .unwrap();
    let bot = server.bot_builder().build().await.unwrap();

    let baseline = heap::live();
    heap::reset_peak();
    let sent = bot
        .room("r1@chatroom")
        .say(FileBox::from_file(&source))
        .await
        .unwrap()
        .expect("the mock reports ids");
    let file = sent.to_file_box().await.unwrap();
    assert!(matches!(file.source, FileBoxSource::Uuid(_)), "{file:?}");
    assert_eq!(file.size, Some(SIZE as u64));
    let written = file.to_file(&bot, &target).await.unwrap();
    let peak = heap::peak() - baseline;

    assert_eq!(written, SIZE as u64);
    assert_eq!(server.world().calls("Upload"), 1);
    assert_eq!(server.world().calls("Download"), 1);
    assert!(
        peak < MAX_EXTRA_HEAP,
        "the round trip held {peak} bytes at once (limit {MAX_EXTRA_HEAP})"
    );
    eprintln!("peak extra heap during the 50 MiB round trip: {peak} bytes");
    // Byte-identical, compared in pieces.
    let same = files_equal(&source, &target);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(same, "the downloaded file differs");
}

fn files_equal(a: &std::path::Path, b: &std::path::Path) -> bool {
    use std::io::Read;
    let (mut a, mut b) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = a.read(&mut x).unwrap();
        let mut filled = 0;
        while filled < n {
            let m = b.read(&mut y[filled..n]).unwrap();
            if m == 0 {
                return false;
            }
            filled += m;
        }
        if n == 0 {
            return b.read(&mut y).unwrap() == 0;
        }
        if x[..n] != y[..n] {
            return false;
        }
    }
}
