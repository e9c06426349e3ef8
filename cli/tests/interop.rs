//! The `wechaty` command against the **official** TypeScript puppet service (the SDK's
//! `tests/interop` harness). Needs Node.js and `npm ci` in `tests/interop`, so it runs only
//! with the `interop` feature:
//!
//! ```sh
//! (cd tests/interop && npm ci) && cargo test -p wechaty-cli --features interop --test interop
//! ```
#![cfg(feature = "interop")]

#[path = "../../tests/common/official.rs"]
mod official;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use official::{Official, TOKEN, WAIT};
use serde_json::{json, Value};

/// The `wechaty` binary aimed at `endpoint` with `token`, ignoring the caller's environment.
fn wechaty(endpoint: &str, token: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wechaty"));
    command.args(["--endpoint", endpoint, "--token", token]);
    for (name, _) in std::env::vars() {
        if name.starts_with("WECHATY_PUPPET_SERVICE_") {
            command.env_remove(name);
        }
    }
    command
}

/// The `wechaty` binary aimed at this (plaintext) server.
fn cli(official: &Official, token: &str) -> Command {
    let mut command = wechaty(&official.endpoint, token);
    command.arg("--no-tls");
    command
}

/// The `wechaty` command against the official server.
#[test]
fn the_cli_talks_to_the_official_server() {
    let official = Official::plaintext();
    let run = |token: &str, args: &[&str]| cli(&official, token).args(args).output().unwrap();
    let version = run(TOKEN, &["--json", "version"]);
    assert!(version.status.success());
    let value: Value = serde_json::from_slice(&version.stdout).unwrap();
    assert!(value["version"].as_str().unwrap().contains('<'));

    let ding = run(TOKEN, &["--json", "ding", "cli"]);
    assert!(
        ding.status.success(),
        "{}",
        String::from_utf8_lossy(&ding.stderr)
    );
    let value: Value = serde_json::from_slice(&ding.stdout).unwrap();
    assert_eq!(value["data"], "cli");

    let wrong = run("insecure_wrong-s3cret", &["version"]);
    assert_eq!(wrong.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("WECHATY_PUPPET_SERVICE_TOKEN"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");

    // TLS with the built-in certificate: the name must be given for a two-underscore token.
    let token = "insecure_team_cli";
    let tls = Official::start(true, token);
    let run_tls = |args: &[&str]| wechaty(&tls.endpoint, token).args(args).output().unwrap();
    assert!(run_tls(&["--tls-server-name", "insecure", "version"])
        .status
        .success());
    let mismatch = run_tls(&["version"]);
    assert_eq!(mismatch.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&mismatch.stderr);
    assert!(stderr.contains("--tls-server-name"), "{stderr}");
    assert!(stderr.contains("\"insecure\""), "{stderr}");
}

/// A `wechaty` child process whose stdout lines arrive on a channel.
fn cli_lines(official: &Official, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = cli(official, TOKEN)
        .arg("--json")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, lines_rx)
}

#[test]
fn cli_events_decode_what_the_official_server_fires() {
    let official = Official::plaintext();
    let (mut child, lines) = cli_lines(&official, &["events", "--count", "8", "--timeout", "30"]);
    let first: Value = serde_json::from_str(&lines.recv_timeout(WAIT).unwrap()).unwrap();
    assert_eq!(first["type"], "heartbeat");
    official.emit(
        "room-join",
        json!({"roomId": "r1@chatroom", "inviteeIdList": ["dan"], "inviterId": "ann", "timestamp": 1_795_626_223_867u64}),
    );
    official.emit(
        "room-leave",
        json!({"roomId": "r1@chatroom", "removeeIdList": ["dan"], "removerId": "ann", "timestamp": 1_795_626_224u64}),
    );
    official.emit(
        "room-topic",
        json!({"roomId": "r1@chatroom", "newTopic": "N", "oldTopic": "Team Room", "changerId": "ann", "timestamp": 1_795_626_225_000u64}),
    );
    official.emit("room-invite", json!({"roomInvitationId": "inv-9"}));
    official.control(
        "POST",
        "/say",
        json!({"from": "ann", "to": "self", "text": "cli"}),
    );
    let mut seen = std::collections::HashMap::new();
    while let Ok(line) = lines.recv_timeout(WAIT) {
        let value: Value = serde_json::from_str(&line).unwrap();
        seen.insert(value["type"].as_str().unwrap().to_owned(), value);
        if [
            "room-join",
            "room-leave",
            "room-topic",
            "room-invite",
            "message",
        ]
        .iter()
        .all(|name| seen.contains_key(*name))
        {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(seen["room-join"]["invitee_ids"], json!(["dan"]));
    assert_eq!(seen["room-join"]["inviter_id"], "ann");
    assert_eq!(seen["room-join"]["timestamp_ms"], 1_795_626_223_867u64);
    // Seconds become milliseconds.
    assert_eq!(seen["room-leave"]["timestamp_ms"], 1_795_626_224_000u64);
    assert_eq!(seen["room-leave"]["removee_ids"], json!(["dan"]));
    assert_eq!(seen["room-topic"]["new_topic"], "N");
    assert_eq!(seen["room-topic"]["old_topic"], "Team Room");
    assert_eq!(seen["room-invite"]["room_invitation_id"], "inv-9");
    assert!(seen["message"]["message_id"].as_str().is_some());
}

#[test]
fn cli_events_for_one_room_keep_only_that_room() {
    let official = Official::plaintext();
    let (mut child, lines) = cli_lines(
        &official,
        &[
            "events",
            "--room",
            // A topic, resolved as `room QUERY` resolves it.
            "Team Room",
            "--count",
            "3",
            "--timeout",
            "30",
        ],
    );
    // Events fired before the stream is open are dropped: keep firing until lines come.
    let mut got = Vec::new();
    for round in 0..100 {
        official.emit(
            "room-join",
            json!({"roomId": "r2@chatroom", "inviteeIdList": ["x"], "timestamp": round}),
        );
        official.emit(
            "room-topic",
            json!({"roomId": "r1@chatroom", "newTopic": format!("t{round}"), "oldTopic": "", "timestamp": round}),
        );
        while let Ok(line) = lines.recv_timeout(Duration::from_millis(300)) {
            got.push(serde_json::from_str::<Value>(&line).unwrap());
        }
        if got.len() >= 3 {
            break;
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success());
    assert_eq!(got.len(), 3);
    for event in &got {
        assert_eq!(event["type"], "room-topic");
        assert_eq!(event["room_id"], "r1@chatroom");
    }
}

#[test]
fn the_cli_room_commands_against_the_official_server() {
    let official = Official::plaintext();
    let run = |args: &[&str]| {
        let output = cli(&official, TOKEN)
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .map(|line| serde_json::from_str::<Value>(line).unwrap())
                .collect::<Vec<_>>(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, rooms, _) = run(&["rooms"]);
    assert_eq!(code, Some(0));
    assert_eq!(rooms.len(), 3);
    let big = rooms
        .iter()
        .find(|room| room["id"] == "r500@chatroom")
        .unwrap();
    assert_eq!(big["member_count"], 500);

    assert_eq!(run(&["room", "Weekend", "topic"]).1[0]["topic"], "Weekend");
    assert_eq!(
        run(&["room", "Weekend", "topic", "Long Weekend"]).0,
        Some(0)
    );
    assert_eq!(
        run(&["room", "r2@chatroom", "topic"]).1[0]["topic"],
        "Long Weekend"
    );

    let started = std::time::Instant::now();
    let (code, members, stderr) = run(&["room", "Big Room", "members"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(members.len(), 500);
    eprintln!(
        "cold members of the 500-member room via the CLI: {:?}",
        started.elapsed()
    );
    assert_eq!(members[1]["room_alias"], "Nick m000");

    let (code, said, _) = run(&["room", "Team Room", "say", "hi", "--mention", "ann"]);
    assert_eq!(code, Some(0));
    assert!(said[0].get("message_id").is_some());
    assert_eq!(
        official.calls("messageSendText").last().unwrap()[1],
        "@Ali (room nick) hi"
    );
    assert_eq!(
        run(&["room", "Team Room", "alias", "ann"]).1[0]["alias"],
        "Ali (room nick)"
    );
    assert_eq!(run(&["room", "Team Room", "has", "dan"]).1[0]["has"], false);
    assert_eq!(run(&["room", "Team Room", "owner"]).1[0]["owner_id"], "ann");
    let (code, _, stderr) = run(&["room", "No Such Room", "owner"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("No Such Room"), "{stderr}");
}

#[test]
fn cli_say_file_link_and_card_against_the_official_server() {
    let official = Official::plaintext();
    let dir = std::env::temp_dir().join(format!("wechaty-interop-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("six.bin");
    std::fs::write(&path, vec![7u8; 6 * 1024 * 1024]).unwrap();
    let run = |args: &[&str]| {
        cli(&official, TOKEN)
            .arg("--json")
            .args(args)
            .output()
            .unwrap()
    };
    let file = run(&["room", "Team Room", "say", "--file", path.to_str().unwrap()]);
    assert!(
        file.status.success(),
        "{}",
        String::from_utf8_lossy(&file.stderr)
    );
    assert_eq!(
        official.calls("messageSendFile").last().unwrap()[1]["type"],
        7
    );
    let link = run(&[
        "room",
        "Team Room",
        "say",
        "--url-link",
        "Docs",
        "https://docs.rs",
    ]);
    assert!(link.status.success());
    assert_eq!(official.calls("messageSendUrl").len(), 1);
    let card = run(&["room", "Team Room", "say", "--contact", "ben"]);
    assert!(card.status.success());
    assert_eq!(official.calls("messageSendContact").len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn doctor_against_the_official_server() {
    let token = "insecure_team_doctor";
    let tls = Official::start(true, token);
    let plain = Official::plaintext();
    let doctor = |endpoint: &str, token: &str, extra: &[&str]| {
        let output = wechaty(endpoint, token)
            .args(extra)
            .arg("doctor")
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (code, report) = doctor(&tls.endpoint, token, &["--tls-server-name", "insecure"]);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains("PASS tls: certificate CN=insecure (X.509 v1) issued by wechaty-root-ca"),
        "{report}"
    );
    assert!(!report.contains("FAIL"), "{report}");

    let (code, report) = doctor(&tls.endpoint, token, &[]);
    assert_eq!(code, Some(1));
    assert!(
        report.contains("FAIL tls")
            && report.contains("WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME=insecure"),
        "{report}"
    );

    let (code, report) = doctor(
        &tls.endpoint,
        "insecure_team_s3cret",
        &["--tls-server-name", "insecure"],
    );
    assert_eq!(code, Some(1));
    assert!(report.contains("FAIL authentication"), "{report}");
    assert!(!report.contains("s3cret"), "{report}");

    let (code, report) = doctor(&plain.endpoint, TOKEN, &[]);
    assert_eq!(code, Some(1));
    assert!(
        report.contains("FAIL tls") && report.contains("--no-tls"),
        "{report}"
    );
}

#[test]
fn cli_message_reads_recalls_and_forwards_on_the_official_server() {
    let official = Official::plaintext();
    let run = |args: &[&str]| {
        cli(&official, TOKEN)
            .arg("--json")
            .args(args)
            .output()
            .unwrap()
    };
    let lines = |output: &std::process::Output| -> Vec<Value> {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    };

    // Cora @-mentions Ann in Team Room: every key of cli.md, as the official server fills it.
    let said = official.control(
        "POST",
        "/say",
        json!({"from": "cora", "room": "r1@chatroom", "mentions": ["ann"], "text": "@Ali (room nick) hi"}),
    );
    let id = said["id"].as_str().unwrap();
    let message = lines(&run(&["message", id]));
    assert_eq!(
        message,
        [json!({
            "id": id,
            "type": "text",
            "talker_id": "cora",
            "listener_id": null,
            "room_id": "r1@chatroom",
            "text": "@Ali (room nick) hi",
            "mention_ids": ["ann"],
            "timestamp_ms": said["timestamp"],
        })]
    );

    // Recall: the bot's own message (said through the control port as the bot), then Cora's.
    let own = official.control(
        "POST",
        "/say",
        json!({"from": "self", "room": "r1@chatroom", "text": "oops"}),
    );
    let own = own["id"].as_str().unwrap();
    assert_eq!(
        lines(&run(&["message", own, "recall"])),
        [json!({"recalled": true})]
    );
    assert_eq!(
        lines(&run(&["message", id, "recall"])),
        [json!({"recalled": false})]
    );
    assert_eq!(official.calls("messageRecall"), [json!([own]), json!([id])]);

    // Forward Cora's message into Weekend.
    let forwarded = lines(&run(&["message", id, "forward", "r2@chatroom"]));
    let copy = forwarded[0]["message_id"].as_str().unwrap();
    assert_eq!(
        official.calls("messageForward"),
        [json!(["r2@chatroom", id])]
    );
    let copy = lines(&run(&["message", copy]));
    assert_eq!(copy[0]["room_id"], "r2@chatroom");
    assert_eq!(copy[0]["talker_id"], "self");

    // An unknown id: exit 1, the server's first line only.
    let missing = run(&["message", "no-such-message"]);
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no-such-message"), "{stderr}");
}
