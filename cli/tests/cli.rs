//! The `wechaty` binary: `mock` serves what `version` and `ding` reach; errors and exit codes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_wechaty");
const TOKEN: &str = "insecure_cli-test-s3cret";

/// A `wechaty mock` child process, killed when dropped (also when a test fails).
struct MockProcess {
    child: Child,
    endpoint: String,
}

impl MockProcess {
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// `wechaty mock` with more options (`--logged-out`, `--scenario FILE`).
    fn start_with(options: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["mock", "--port", "0", "--token", TOKEN])
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary runs");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let endpoint = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, endpoint }
    }

    fn run(&self, token: &str, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(["--endpoint", &self.endpoint, "--token", token, "--no-tls"])
            .args(args)
            .env_remove("WECHATY_PUPPET_SERVICE_TOKEN")
            .env_remove("WECHATY_PUPPET_SERVICE_ENDPOINT")
            .output()
            .expect("the binary runs")
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_and_ding_reach_the_mock() {
    let mock = MockProcess::start();
    assert!(mock.endpoint.starts_with("127.0.0.1:"), "{}", mock.endpoint);

    let version = mock.run(TOKEN, &["version"]);
    assert!(version.status.success(), "{}", text(&version.stderr));
    assert!(text(&version.stdout).starts_with("wechaty-client-mock/"));

    let json = mock.run(TOKEN, &["--json", "version"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(value["version"]
        .as_str()
        .unwrap()
        .starts_with("wechaty-client-mock/"));

    let ding = mock.run(TOKEN, &["--json", "ding", "hello"]);
    assert!(ding.status.success(), "{}", text(&ding.stderr));
    let value: serde_json::Value = serde_json::from_slice(&ding.stdout).unwrap();
    assert_eq!(value["data"], "hello");
    assert!(value["round_trip_ms"].as_f64().unwrap() >= 0.0);
}

#[test]
fn a_wrong_token_exits_1_without_showing_it() {
    let mock = MockProcess::start();
    let wrong = "insecure_wrong-s3cret";
    let output = mock.run(wrong, &["version"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("WECHATY_PUPPET_SERVICE_TOKEN"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
    assert!(text(&output.stdout).is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn usage_errors_exit_2_and_settings_errors_name_the_setting() {
    let usage = Command::new(BIN).arg("no-such-command").output().unwrap();
    assert_eq!(usage.status.code(), Some(2));

    // TLS with a token that has no server-name prefix and no --tls-server-name.
    let tls = Command::new(BIN)
        .args([
            "--endpoint",
            "127.0.0.1:1",
            "--token",
            "nounderscore",
            "version",
        ])
        .env_remove("WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT")
        .env_remove("WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME")
        .output()
        .unwrap();
    assert_eq!(tls.status.code(), Some(1));
    let stderr = text(&tls.stderr);
    assert!(stderr.contains("--tls-server-name"), "{stderr}");
    assert!(!stderr.contains("nounderscore"), "{stderr}");
}

#[test]
fn mock_tls_serves_the_stock_certificate_that_default_clients_trust() {
    let mut child = Command::new(BIN)
        .args(["mock", "--tls", "--port", "0", "--token", TOKEN])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let mock = MockProcess {
        child,
        endpoint: line.trim().trim_start_matches("listening on ").to_owned(),
    };
    // TLS on, no CA, server name from the token (`insecure`).
    let output = Command::new(BIN)
        .args(["--endpoint", &mock.endpoint, "--token", TOKEN, "version"])
        .env_remove("WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT")
        .env_remove("WECHATY_PUPPET_SERVICE_TLS_CA_CERT")
        .env_remove("WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    // Plaintext against it fails with a hint about TLS.
    let plaintext = mock.run(TOKEN, &["version"]);
    assert_eq!(plaintext.status.code(), Some(1));
    assert!(
        text(&plaintext.stderr).contains("uses TLS"),
        "{}",
        text(&plaintext.stderr)
    );
}

#[test]
fn events_prints_json_lines_and_fails_when_the_timeout_comes_first() {
    let mock = MockProcess::start();
    // The replay of a fresh stream: heartbeat, login, ready.
    let output = mock.run(
        TOKEN,
        &["--json", "events", "--count", "3", "--timeout", "10"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let types: Vec<String> = text(&output.stdout)
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["type"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(types, ["heartbeat", "login", "ready"]);
    let login: serde_json::Value =
        serde_json::from_str(text(&output.stdout).lines().nth(1).unwrap()).unwrap();
    assert_eq!(login["contact_id"], "bot");

    let short = mock.run(TOKEN, &["events", "--count", "100", "--timeout", "0.5"]);
    assert_eq!(short.status.code(), Some(1));
    assert!(
        text(&short.stderr).contains("--timeout"),
        "{}",
        text(&short.stderr)
    );
    // Human output: one line per event.
    assert!(text(&short.stdout).starts_with("heartbeat data="));
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn rooms_and_room_verbs() {
    let mock = MockProcess::start();
    let run = |args: &[&str]| mock.run(TOKEN, &[&["--json"], args].concat());

    let rooms = json_lines(&run(&["rooms"]));
    assert_eq!(rooms.len(), 2);
    assert_eq!(rooms[0]["id"], "r1@chatroom");
    assert_eq!(rooms[0]["member_count"], 4);
    assert_eq!(rooms[0]["owner_id"], "ann");
    assert_eq!(
        json_lines(&run(&["rooms", "Weekend"]))[0]["id"],
        "r2@chatroom"
    );

    // By exact topic, then by id.
    assert_eq!(
        json_lines(&run(&["room", "Team Room", "topic"]))[0]["topic"],
        "Team Room"
    );
    json_lines(&run(&["room", "r1@chatroom", "topic", "Renamed"]));
    assert_eq!(
        json_lines(&run(&["room", "r1@chatroom", "topic"]))[0]["topic"],
        "Renamed"
    );
    json_lines(&run(&["room", "Renamed", "announce", "Be nice"]));
    assert_eq!(
        json_lines(&run(&["room", "Renamed", "announce"]))[0]["announce"],
        "Be nice"
    );

    let members = json_lines(&run(&["room", "r1@chatroom", "members"]));
    assert_eq!(members.len(), 4);
    assert_eq!(members[1]["id"], "ann");
    assert_eq!(members[1]["room_alias"], "Ali (room nick)");
    assert_eq!(members[1]["contact_alias"], "Ann (alias)");
    assert_eq!(members[2]["room_alias"], serde_json::Value::Null);
    let ann = json_lines(&run(&["room", "r1@chatroom", "members", "Ali (room nick)"]));
    assert_eq!(ann.len(), 1);

    let said = json_lines(&run(&[
        "room",
        "r1@chatroom",
        "say",
        "hi",
        "--mention",
        "ann",
    ]));
    assert!(said[0]["message_id"].is_string());
    assert_eq!(
        json_lines(&run(&["room", "r1@chatroom", "has", "dan"]))[0]["has"],
        false
    );
    json_lines(&run(&["room", "r1@chatroom", "add", "dan"]));
    assert_eq!(
        json_lines(&run(&["room", "r1@chatroom", "has", "dan"]))[0]["has"],
        true
    );
    json_lines(&run(&["room", "r1@chatroom", "remove", "dan"]));
    assert_eq!(
        json_lines(&run(&["room", "r1@chatroom", "alias", "ann"]))[0]["alias"],
        "Ali (room nick)"
    );
    assert_eq!(
        json_lines(&run(&["room", "r1@chatroom", "alias", "ben"]))[0]["alias"],
        serde_json::Value::Null
    );
    assert_eq!(
        json_lines(&run(&["room", "r1@chatroom", "owner"]))[0]["owner_id"],
        "ann"
    );
    assert!(json_lines(&run(&["room", "r1@chatroom", "qr-code"]))[0]["qr_code"].is_string());

    let dir = std::env::temp_dir().join(format!("wechaty-cli-avatar-{}", std::process::id()));
    let saved = json_lines(&run(&[
        "room",
        "r1@chatroom",
        "avatar",
        "--output",
        dir.to_str().unwrap(),
    ]));
    assert!(saved[0]["avatar"].is_string());
    assert!(std::fs::read(&dir).unwrap().starts_with(b"\x89PNG"));
    let _ = std::fs::remove_file(&dir);

    let created = json_lines(&run(&["room-create", "--topic", "Made", "ann", "ben"]));
    let id = created[0]["room_id"].as_str().unwrap().to_owned();
    assert_eq!(
        json_lines(&run(&["room", &id, "topic"]))[0]["topic"],
        "Made"
    );
    json_lines(&run(&["room", &id, "quit"]));

    // A missing room, and a room-create with one contact: exit 1, one line.
    let missing = run(&["room", "No Such Room", "topic"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("No Such Room"));
    let lonely = run(&["room-create", "--topic", "Solo", "ann"]);
    assert_eq!(lonely.status.code(), Some(1));
    assert!(text(&lonely.stderr).contains("at least 2"));
}

#[test]
fn an_ambiguous_topic_lists_the_rooms() {
    let mock = MockProcess::start();
    let run = |args: &[&str]| mock.run(TOKEN, args);
    // Two rooms called "Twin".
    for _ in 0..2 {
        assert!(run(&["room-create", "--topic", "Twin", "ann", "ben"])
            .status
            .success());
    }
    let output = run(&["room", "Twin", "topic"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("2 rooms") && stderr.contains("@chatroom"),
        "{stderr}"
    );
}

#[test]
fn say_files_links_cards_and_read_messages_back() {
    let mock = MockProcess::start();
    let run = |args: &[&str]| mock.run(TOKEN, &[&["--json"], args].concat());
    let dir = std::env::temp_dir().join(format!("wechaty-cli-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("notes.bin");
    let bytes: Vec<u8> = (0..700_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&source, &bytes).unwrap();

    let sent = json_lines(&run(&[
        "room",
        "r1@chatroom",
        "say",
        "--file",
        source.to_str().unwrap(),
    ]));
    let id = sent[0]["message_id"].as_str().unwrap().to_owned();
    let payload = json_lines(&run(&["message", &id]));
    assert_eq!(payload[0]["type"], "attachment");
    assert_eq!(payload[0]["room_id"], "r1@chatroom");
    // The file name is not among cli.md's keys; people see it, and `download` names it.
    assert!(text(&mock.run(TOKEN, &["message", &id]).stdout).contains("file: notes.bin"));
    let target = dir.join("back.bin");
    let saved = json_lines(&run(&[
        "message",
        &id,
        "download",
        "--output",
        target.to_str().unwrap(),
    ]));
    assert_eq!(saved[0]["bytes"], 700_000);
    assert_eq!(saved[0]["name"], "notes.bin");
    assert_eq!(std::fs::read(&target).unwrap(), bytes);

    let link = json_lines(&run(&[
        "room",
        "r1@chatroom",
        "say",
        "--url-link",
        "Docs",
        "https://docs.rs",
        "--description",
        "read",
    ]));
    let link_id = link[0]["message_id"].as_str().unwrap().to_owned();
    assert_eq!(json_lines(&run(&["message", &link_id]))[0]["type"], "url");
    let card = json_lines(&run(&["room", "r1@chatroom", "say", "--contact", "ben"]));
    let card_id = card[0]["message_id"].as_str().unwrap().to_owned();
    assert_eq!(
        json_lines(&run(&["message", &card_id]))[0]["type"],
        "contact"
    );

    // Nothing to say, or two things at once: usage errors.
    assert_eq!(run(&["room", "r1@chatroom", "say"]).status.code(), Some(2));
    assert_eq!(
        run(&["room", "r1@chatroom", "say", "hi", "--contact", "ben"])
            .status
            .code(),
        Some(2)
    );
    let missing = run(&["message", "no-such-message"]);
    assert_eq!(missing.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn doctor_passes_every_step_and_names_the_failing_one() {
    let mock = MockProcess::start();
    let good = mock.run(TOKEN, &["--json", "doctor"]);
    let steps = json_lines(&good);
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "settings",
            "discovery",
            "tcp",
            "tls",
            "authentication",
            "health",
            "event stream",
            "version"
        ]
    );
    assert!(steps.iter().all(|s| s["status"] != "FAIL"), "{steps:?}");

    let wrong = mock.run("insecure_doctor-s3cret", &["doctor"]);
    assert_eq!(wrong.status.code(), Some(1));
    let stdout = text(&wrong.stdout);
    assert!(stdout.contains("FAIL authentication"), "{stdout}");
    assert!(stdout.contains("WECHATY_PUPPET_SERVICE_TOKEN"), "{stdout}");
    assert!(!stdout.contains("s3cret") && !text(&wrong.stderr).contains("s3cret"));
}

#[test]
fn mentions_and_event_rooms_are_found_as_room_and_members_find_them() {
    let mock = MockProcess::start();
    let run = |args: &[&str]| mock.run(TOKEN, &[&["--json"], args].concat());
    let text_of = |said: &[serde_json::Value]| {
        let id = said[0]["message_id"].as_str().unwrap().to_owned();
        json_lines(&run(&["message", &id]))[0]["text"].clone()
    };
    // A name and a room alias work as well as an id; the text shows the room alias.
    for mention in ["ann", "Ann", "Ali (room nick)"] {
        let said = json_lines(&run(&[
            "room",
            "Team Room",
            "say",
            "hi",
            "--mention",
            mention,
        ]));
        assert_eq!(text_of(&said), "@Ali (room nick) hi", "--mention {mention}");
    }
    let nobody = run(&["room", "Team Room", "say", "hi", "--mention", "Nobody"]);
    assert_eq!(nobody.status.code(), Some(1));
    assert!(
        text(&nobody.stderr).contains("no member"),
        "{}",
        text(&nobody.stderr)
    );

    // `events --room` takes a topic too, and shows that room's events only.
    let mut child = Command::new(BIN)
        .args([
            "--endpoint",
            &mock.endpoint,
            "--token",
            TOKEN,
            "--no-tls",
            "--json",
        ])
        .args([
            "events",
            "--room",
            "Weekend",
            "--count",
            "2",
            "--timeout",
            "30",
        ])
        .env_remove("WECHATY_PUPPET_SERVICE_TOKEN")
        .env_remove("WECHATY_PUPPET_SERVICE_ENDPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    // Events fired before the stream is open are dropped: rename both rooms until lines come.
    let mut got = Vec::new();
    for round in 0..50 {
        run(&["room", "Team Room", "announce", &format!("other {round}")]);
        run(&["room", "r1@chatroom", "topic", &format!("Team {round}")]);
        run(&["room", "r2@chatroom", "topic", &format!("Weekend {round}")]);
        while let Ok(line) = lines.recv_timeout(std::time::Duration::from_millis(200)) {
            got.push(serde_json::from_str::<serde_json::Value>(&line).unwrap());
        }
        if got.len() >= 2 {
            break;
        }
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(got.len(), 2, "{got:?}");
    for event in &got {
        assert_eq!(event["type"], "room-topic", "{event}");
        assert_eq!(event["room_id"], "r2@chatroom", "{event}");
    }
}

#[test]
fn the_watchdog_reopens_a_silent_stream() {
    // The demo mock sends its next heartbeat only after 20 s: with a 0.5 s watchdog the stream
    // counts as dead first, and is reopened.
    let mock = MockProcess::start();
    let output = mock.run(
        TOKEN,
        &[
            "--watchdog",
            "0.5",
            "--json",
            "events",
            "--count",
            "4",
            "--timeout",
            "10",
        ],
    );
    let types: Vec<String> = json_lines(&output)
        .iter()
        .map(|event| event["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types, ["heartbeat", "login", "ready", "reconnected"]);
    let usage = mock.run(TOKEN, &["--watchdog", "0", "version"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn the_token_can_come_from_a_file_or_stdin_and_never_from_argv() {
    let mock = MockProcess::start();
    let file = std::env::temp_dir().join(format!("wechaty-cli-token-{}", std::process::id()));
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let base = |args: &[&str]| {
        let mut command = Command::new(BIN);
        command
            .args(["--endpoint", &mock.endpoint, "--no-tls"])
            .args(args)
            .env_remove("WECHATY_PUPPET_SERVICE_TOKEN")
            .env_remove("WECHATY_PUPPET_SERVICE_TOKEN_FILE");
        command
    };
    let from_file = base(&["--token-file", file.to_str().unwrap(), "version"])
        .output()
        .unwrap();
    assert!(from_file.status.success(), "{}", text(&from_file.stderr));
    let from_env = base(&["version"])
        .env("WECHATY_PUPPET_SERVICE_TOKEN_FILE", &file)
        .output()
        .unwrap();
    assert!(from_env.status.success(), "{}", text(&from_env.stderr));
    let mut piped = base(&["--token-file", "-", "version"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    writeln!(piped.stdin.take().unwrap(), "{TOKEN}").unwrap();
    let from_stdin = piped.wait_with_output().unwrap();
    assert!(from_stdin.status.success(), "{}", text(&from_stdin.stderr));
    std::fs::remove_file(&file).unwrap();
    let missing = base(&["--token-file", file.to_str().unwrap(), "version"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("WECHATY_PUPPET_SERVICE_TOKEN_FILE"),
        "{}",
        text(&missing.stderr)
    );
}

#[test]
fn human_output_escapes_what_the_service_sends() {
    let mock = MockProcess::start();
    let hostile = "\u{1b}[2J\u{1b}[31mred\nfake line";
    assert!(mock
        .run(TOKEN, &["room", "r1@chatroom", "topic", hostile])
        .status
        .success());
    let human = mock.run(TOKEN, &["room", "r1@chatroom", "topic"]);
    let shown = text(&human.stdout);
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
    assert_eq!(shown.trim_end_matches('\n').lines().count(), 1, "{shown:?}");
    assert!(shown.contains("\\u{1b}[2J"), "{shown:?}");
    // JSON keeps the text, escaped as JSON escapes it.
    let json = json_lines(&mock.run(TOKEN, &["--json", "room", "r1@chatroom", "topic"]));
    assert_eq!(json[0]["topic"], hostile);
}

#[test]
fn contacts_lists_every_contact_or_those_a_query_names() {
    let mock = MockProcess::start();
    let run = |args: &[&str]| mock.run(TOKEN, &[&["--json"], args].concat());

    let contacts = json_lines(&run(&["contacts"]));
    let ids: Vec<&str> = contacts.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["ann", "ben", "bot", "cora", "dan", "erin"]);
    assert_eq!(
        contacts[0],
        serde_json::json!({
            "id": "ann", "name": "Ann", "alias": "Ann (alias)", "friend": true, "type": "personal"
        })
    );
    assert_eq!(contacts[1]["alias"], serde_json::Value::Null);
    assert_eq!(contacts[5]["friend"], false);

    // By id, exact name or exact alias; nothing matching is an empty list, as for `rooms`.
    for query in ["ann", "Ann", "Ann (alias)"] {
        let found = json_lines(&run(&["contacts", query]));
        assert_eq!(found.len(), 1, "{query}");
        assert_eq!(found[0]["id"], "ann", "{query}");
    }
    let none = run(&["contacts", "an"]);
    assert!(json_lines(&none).is_empty());
    assert_eq!(none.status.code(), Some(0));

    let human = mock.run(TOKEN, &["contacts"]);
    assert!(human.status.success(), "{}", text(&human.stderr));
    let lines: Vec<String> = text(&human.stdout).lines().map(str::to_owned).collect();
    assert_eq!(lines[0], "ann  Ann (Ann (alias))  personal, friend");
    assert_eq!(lines[5], "erin  Erin  personal, not a friend");

    // A name from the service cannot reach the terminal raw.
    let hostile = "\u{1b}[31mred\nfake";
    json_lines(&run(&["contact", "ben", "alias", hostile]));
    let human = text(&mock.run(TOKEN, &["contacts", "ben"]).stdout);
    assert_eq!(
        human,
        "ben  Ben (\\u{1b}[31mred\\u{a}fake)  personal, friend\n"
    );
}

#[test]
fn contact_verbs_read_and_change_one_contact() {
    let mock = MockProcess::start();
    let run = |args: &[&str]| mock.run(TOKEN, &[&["--json"], args].concat());

    let info = json_lines(&run(&["contact", "Ann (alias)", "info"]));
    assert_eq!(info.len(), 1);
    assert_eq!(info[0]["id"], "ann");
    assert_eq!(info[0]["name"], "Ann");
    assert_eq!(info[0]["type"], "personal");
    assert_eq!(info[0]["friend"], true);
    assert_eq!(info[0]["gender"], "unknown");
    assert_eq!(info[0]["handle"], serde_json::Value::Null);
    assert_eq!(info[0]["phones"], serde_json::json!([]));
    let erin = json_lines(&run(&["contact", "Erin", "info"]));
    assert_eq!(erin[0]["phones"], serde_json::json!(["13800000005"]));
    assert_eq!(erin[0]["handle"], "erin_w");
    let human = mock.run(TOKEN, &["contact", "erin", "info"]);
    assert!(human.status.success(), "{}", text(&human.stderr));
    let shown = text(&human.stdout);
    for line in [
        "id: erin",
        "name: Erin",
        "type: personal",
        "friend: no",
        "handle: erin_w",
        "phones: 13800000005",
    ] {
        assert!(shown.lines().any(|shown| shown == line), "{line}: {shown}");
    }
    assert!(
        !shown.contains("alias"),
        "absent values are left out: {shown}"
    );

    // alias: read, set, clear with "".
    assert_eq!(
        json_lines(&run(&["contact", "ann", "alias"]))[0],
        serde_json::json!({ "alias": "Ann (alias)" })
    );
    assert_eq!(
        json_lines(&run(&["contact", "Ann", "alias", "Annie"]))[0]["alias"],
        "Annie"
    );
    assert_eq!(
        json_lines(&run(&["contact", "Annie", "alias"]))[0]["alias"],
        "Annie"
    );
    assert_eq!(
        json_lines(&run(&["contact", "ann", "alias", ""]))[0],
        serde_json::json!({ "alias": null })
    );
    assert_eq!(
        json_lines(&run(&["contact", "ann", "alias"]))[0]["alias"],
        serde_json::Value::Null
    );
    assert_eq!(
        text(&mock.run(TOKEN, &["contact", "ann", "alias"]).stdout),
        "(none)\n"
    );

    // say: a direct message to the contact.
    let said = json_lines(&run(&["contact", "Ben", "say", "hello Ben"]));
    let id = said[0]["message_id"].as_str().unwrap().to_owned();
    let message = json_lines(&run(&["message", &id]));
    assert_eq!(message[0]["text"], "hello Ben");
    assert_eq!(message[0]["listener_id"], "ben");
    assert_eq!(message[0]["room_id"], serde_json::Value::Null);
    assert!(text(&mock.run(TOKEN, &["contact", "ben", "say", "again"]).stdout).starts_with("sent"));

    // tags: the demo's `vip` on ann.
    assert_eq!(
        json_lines(&run(&["contact", "ann", "tags"])),
        [serde_json::json!({ "id": "vip", "name": "vip" })]
    );
    assert!(json_lines(&run(&["contact", "ben", "tags"])).is_empty());
    assert_eq!(
        text(&mock.run(TOKEN, &["contact", "ann", "tags"]).stdout),
        "vip\n"
    );

    let file =
        std::env::temp_dir().join(format!("wechaty-cli-contact-avatar-{}", std::process::id()));
    let saved = json_lines(&run(&[
        "contact",
        "cora",
        "avatar",
        "--output",
        file.to_str().unwrap(),
    ]));
    assert_eq!(saved[0]["avatar"], file.to_str().unwrap());
    assert!(std::fs::read(&file).unwrap().starts_with(b"\x89PNG"));
    let _ = std::fs::remove_file(&file);

    // No match: exit 1, one line naming the query.
    let missing = run(&["contact", "Nobody", "info"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stdout).is_empty());
    let stderr = text(&missing.stderr);
    assert!(
        stderr.contains("\"Nobody\"") && stderr.lines().count() == 1,
        "{stderr}"
    );
    assert_eq!(run(&["contact", "ann", "avatar"]).status.code(), Some(2));
}

#[test]
fn a_contact_query_prefers_the_id_and_lists_ambiguous_matches() {
    let mock = MockProcess::start();
    let run = |args: &[&str]| mock.run(TOKEN, &[&["--json"], args].concat());
    // Ben's alias is "ann": the id `ann` still means Ann.
    json_lines(&run(&["contact", "ben", "alias", "ann"]));
    assert_eq!(
        json_lines(&run(&["contact", "ann", "info"]))[0]["name"],
        "Ann"
    );
    // Two contacts with the alias "Twin": exit 1, listing both ids.
    json_lines(&run(&["contact", "ben", "alias", "Twin"]));
    json_lines(&run(&["contact", "Cora", "alias", "Twin"]));
    let output = run(&["contact", "Twin", "info"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("2 contacts") && stderr.contains("ben, cora"),
        "{stderr}"
    );
    assert_eq!(json_lines(&run(&["contacts", "Twin"])).len(), 2);
}

#[test]
fn friendship_accept_add_and_search() {
    let mock = MockProcess::start();
    let run = |args: &[&str]| mock.run(TOKEN, &[&["--json"], args].concat());

    // search: the contact found, in the `contacts` shape; none found: exit 1.
    let expected = serde_json::json!({
        "id": "erin", "name": "Erin", "alias": null, "friend": false, "type": "personal"
    });
    assert_eq!(
        json_lines(&run(&["friendship", "search", "--phone", "13800000005"]))[0],
        expected
    );
    assert_eq!(
        json_lines(&run(&["friendship", "search", "--handle", "erin_w"])),
        [expected]
    );
    assert_eq!(
        text(
            &mock
                .run(TOKEN, &["friendship", "search", "--handle", "erin_w"])
                .stdout
        ),
        "erin  Erin  personal, not a friend\n"
    );
    let nobody = run(&["friendship", "search", "--phone", "10000000000"]);
    assert_eq!(nobody.status.code(), Some(1));
    assert!(text(&nobody.stdout).is_empty());
    assert!(
        text(&nobody.stderr).contains("10000000000"),
        "{}",
        text(&nobody.stderr)
    );
    assert_eq!(run(&["friendship", "search"]).status.code(), Some(2));
    assert_eq!(
        run(&["friendship", "search", "--phone", "1", "--handle", "h"])
            .status
            .code(),
        Some(2)
    );

    // add: to a contact found by name.
    assert_eq!(
        json_lines(&run(&[
            "friendship",
            "add",
            "Erin",
            "--hello",
            "hi from the bot"
        ])),
        [serde_json::json!({ "requested": "erin" })]
    );
    assert_eq!(
        text(&mock.run(TOKEN, &["friendship", "add", "dan"]).stdout),
        "sent a friend request to dan\n"
    );
    assert_eq!(run(&["friendship", "add", "Nobody"]).status.code(), Some(1));

    // accept: Erin's waiting request; she is a friend afterwards.
    assert_eq!(
        json_lines(&run(&["friendship", "accept", "f-erin"])),
        [serde_json::json!({ "accepted": "f-erin", "contact_id": "erin" })]
    );
    assert_eq!(
        json_lines(&run(&["contact", "erin", "info"]))[0]["friend"],
        true
    );
    // The confirmation is no request to accept; an unknown id is an error.
    let confirm = run(&["friendship", "accept", "f-erin-confirm"]);
    assert_eq!(confirm.status.code(), Some(1));
    assert!(
        text(&confirm.stderr).contains("not a received request"),
        "{}",
        text(&confirm.stderr)
    );
    assert_eq!(
        run(&["friendship", "accept", "no-such-friendship"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn tags_list_add_remove_and_delete() {
    let mock = MockProcess::start();
    let run = |args: &[&str]| mock.run(TOKEN, &[&["--json"], args].concat());
    let names = |output: &Output| -> Vec<String> {
        json_lines(output)
            .iter()
            .map(|tag| {
                assert_eq!(tag["id"], tag["name"]);
                tag["name"].as_str().unwrap().to_owned()
            })
            .collect()
    };

    assert_eq!(names(&run(&["tags"])), ["vip"]);
    assert_eq!(text(&mock.run(TOKEN, &["tags"]).stdout), "vip\n");

    assert_eq!(
        json_lines(&run(&["tag", "team", "add", "Ben"])),
        [serde_json::json!({ "added": "ben", "tag": "team" })]
    );
    assert_eq!(
        text(
            &mock
                .run(TOKEN, &["tag", "team", "add", "Ann (alias)"])
                .stdout
        ),
        "tagged ann with team\n"
    );
    assert_eq!(names(&run(&["tags"])), ["team", "vip"]);
    assert_eq!(names(&run(&["contact", "ann", "tags"])), ["team", "vip"]);

    assert_eq!(
        json_lines(&run(&["tag", "team", "remove", "ben"])),
        [serde_json::json!({ "removed": "ben", "tag": "team" })]
    );
    assert!(names(&run(&["contact", "ben", "tags"])).is_empty());

    assert_eq!(
        json_lines(&run(&["tag", "team", "delete"])),
        [serde_json::json!({ "deleted": "team" })]
    );
    assert_eq!(names(&run(&["contact", "ann", "tags"])), ["vip"]);
    assert_eq!(
        text(&mock.run(TOKEN, &["tag", "vip", "delete"]).stdout),
        "deleted the tag vip\n"
    );
    assert!(names(&run(&["tags"])).is_empty());

    // An unknown tag or contact: exit 1.
    assert_eq!(run(&["tag", "vip", "delete"]).status.code(), Some(1));
    assert_eq!(run(&["tag", "vip", "add", "Nobody"]).status.code(), Some(1));
    assert_eq!(run(&["tag", "vip"]).status.code(), Some(2));
}

#[test]
fn login_prints_the_qr_code_then_who_logged_in() {
    // The phone of `mock --logged-out` scans 3 s after the QR code shows.
    let mock = MockProcess::start_with(&["--logged-out"]);
    let output = mock.run(TOKEN, &["--json", "login", "--timeout", "20"]);
    let lines = json_lines(&output);
    let statuses: Vec<&str> = lines[..3]
        .iter()
        .map(|line| {
            assert_eq!(line["type"], "scan", "{line}");
            line["status"].as_str().unwrap()
        })
        .collect();
    assert_eq!(statuses, ["waiting", "scanned", "confirmed"]);
    let qrcode = lines[0]["qrcode"].as_str().unwrap();
    let url = lines[0]["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://wechaty.js.org/qrcode/https%3A%2F%2F"),
        "{url}"
    );
    assert!(!qrcode.is_empty());
    assert_eq!(
        lines[3],
        serde_json::json!({ "contact_id": "bot", "name": "Wechaty Bot" })
    );
    assert_eq!(lines.len(), 4);

    // Logged in now: says who at once (the replayed login), without a QR code.
    let again = mock.run(TOKEN, &["login", "--timeout", "5"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), "logged in as Wechaty Bot (bot)\n");
}

#[test]
fn login_draws_the_qr_code_for_people_and_gives_up_at_the_timeout() {
    let mock = MockProcess::start_with(&["--logged-out"]);
    // Before the phone scans (3 s): exit 1, after the QR code was shown.
    let early = mock.run(TOKEN, &["login", "--timeout", "2"]);
    assert_eq!(early.status.code(), Some(1), "{}", text(&early.stdout));
    let stderr = text(&early.stderr);
    assert!(stderr.contains("--timeout"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let stdout = text(&early.stdout);
    assert!(stdout.starts_with("█████"), "{stdout}");
    assert!(
        stdout.contains("\nor open https://wechaty.js.org/qrcode/"),
        "{stdout}"
    );
    assert!(stdout.contains("scan: waiting"), "{stdout}");

    // A second try gets the QR code that still shows replayed (no second Start needed), then
    // the login.
    let late = mock.run(TOKEN, &["login", "--timeout", "20"]);
    assert!(late.status.success(), "{}", text(&late.stderr));
    let stdout = text(&late.stdout);
    assert!(stdout.contains('▀'), "{stdout}");
    assert!(stdout.contains("scan: scanned"), "{stdout}");
    assert!(
        stdout.ends_with("logged in as Wechaty Bot (bot)\n"),
        "{stdout}"
    );
}

#[test]
fn events_draws_a_scans_qr_code_and_adds_its_url() {
    let scenario = std::env::temp_dir().join(format!("cli-scan-{}.json", std::process::id()));
    std::fs::write(
        &scenario,
        r#"{"world": {"self": "bot", "login_qrcode": "https://login.weixin.qq.com/l/abc==",
                      "contacts": [{"id": "bot", "name": "Bot"}]},
            "timeline": [{"scan": {"status": "waiting"}}]}"#,
    )
    .unwrap();
    let mock = MockProcess::start_with(&["--scenario", scenario.to_str().unwrap()]);
    // Logged out: the heartbeat, then the timeline's scan.
    let human = mock.run(TOKEN, &["events", "--count", "2", "--timeout", "10"]);
    assert!(human.status.success(), "{}", text(&human.stderr));
    let stdout = text(&human.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("heartbeat "), "{stdout}");
    assert!(lines[1].chars().all(|c| c == '█'), "{stdout}");
    let url = "https://wechaty.js.org/qrcode/https%3A%2F%2Flogin.weixin.qq.com%2Fl%2Fabc%3D%3D";
    let last = lines.last().unwrap();
    assert!(
        last.starts_with("scan ") && last.contains(" status=waiting"),
        "{last}"
    );
    assert!(last.contains(&format!("url={url}")), "{last}");

    // JSON: the fields as before, plus the url. A new stream gets the pending scan replayed.
    let json = json_lines(&mock.run(
        TOKEN,
        &["--json", "events", "--count", "2", "--timeout", "10"],
    ));
    assert_eq!(
        json[1],
        serde_json::json!({
            "type": "scan", "status": "waiting", "status_code": 2,
            "qrcode": "https://login.weixin.qq.com/l/abc==", "url": url, "data": null,
        })
    );
    let _ = std::fs::remove_file(&scenario);
}

/// The keys `message ID --json` prints, exactly (cli.md).
const MESSAGE_KEYS: [&str; 8] = [
    "id",
    "listener_id",
    "mention_ids",
    "room_id",
    "talker_id",
    "text",
    "timestamp_ms",
    "type",
];

fn keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn message_prints_cli_md_fields_and_recalls_and_forwards() {
    let mock = MockProcess::start();
    let run = |args: &[&str]| mock.run(TOKEN, &[&["--json"], args].concat());
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;

    // The demo world's text message: Ann in Team Room, @-mentioning the bot.
    let mention = json_lines(&run(&["message", "msg-1"]));
    assert_eq!(mention.len(), 1);
    let mention = &mention[0];
    assert_eq!(keys(mention), MESSAGE_KEYS);
    assert_eq!(mention["id"], "msg-1");
    assert_eq!(mention["type"], "text");
    assert_eq!(mention["talker_id"], "ann");
    assert_eq!(mention["listener_id"], serde_json::Value::Null);
    assert_eq!(mention["room_id"], "r1@chatroom");
    assert_eq!(mention["text"], "@Wechaty Bot standup at 10?");
    assert_eq!(mention["mention_ids"], serde_json::json!(["bot"]));
    // Unix milliseconds, from when the mock started.
    let at = mention["timestamp_ms"].as_u64().unwrap();
    assert!(now_ms.abs_diff(at) < 60_000, "{at} vs {now_ms}");

    // The demo world's location: Ben shared it with the bot directly.
    let place = json_lines(&run(&["message", "msg-2"]));
    let place = &place[0];
    assert_eq!(keys(place), MESSAGE_KEYS);
    assert_eq!(place["type"], "location");
    assert_eq!(place["talker_id"], "ben");
    assert_eq!(place["listener_id"], "bot");
    assert_eq!(place["room_id"], serde_json::Value::Null);
    assert_eq!(place["mention_ids"], serde_json::json!([]));

    // People get a short block, the service's newline escaped.
    let human = mock.run(TOKEN, &["message", "msg-2"]);
    assert!(human.status.success(), "{}", text(&human.stderr));
    let shown = text(&human.stdout);
    let lines: Vec<&str> = shown.lines().collect();
    assert!(
        lines[0].starts_with("[location] msg-2 from ben to bot, "),
        "{shown}"
    );
    assert_eq!(lines[1], "Office\\u{a}1 Main St", "{shown}");
    assert_eq!(lines.len(), 2, "{shown}");
    let shown = text(&mock.run(TOKEN, &["message", "msg-1"]).stdout);
    assert!(shown.ends_with("mentions: bot\n"), "{shown}");

    // Recall: the bot's own message is recalled, someone else's is not; both exit 0.
    let said = json_lines(&run(&["room", "Team Room", "say", "oops"]));
    let own = said[0]["message_id"].as_str().unwrap().to_owned();
    assert_eq!(
        json_lines(&run(&["message", &own, "recall"])),
        [serde_json::json!({ "recalled": true })]
    );
    assert_eq!(
        json_lines(&run(&["message", "msg-1", "recall"])),
        [serde_json::json!({ "recalled": false })]
    );
    assert_eq!(
        text(&mock.run(TOKEN, &["message", "msg-1", "recall"]).stdout),
        "the service did not recall it (too old, or not the bot's)\n"
    );
    let said = json_lines(&run(&["contact", "ben", "say", "oops again"]));
    let own = said[0]["message_id"].as_str().unwrap().to_owned();
    assert_eq!(
        text(&mock.run(TOKEN, &["message", &own, "recall"]).stdout),
        "recalled\n"
    );

    // Forward Ann's message into Weekend: a new message from the bot there, same text.
    let forwarded = json_lines(&run(&["message", "msg-1", "forward", "r2@chatroom"]));
    assert_eq!(keys(&forwarded[0]), ["message_id"]);
    let copy = forwarded[0]["message_id"].as_str().unwrap().to_owned();
    assert_ne!(copy, "msg-1");
    let copy = json_lines(&run(&["message", &copy]));
    assert_eq!(copy[0]["room_id"], "r2@chatroom");
    assert_eq!(copy[0]["talker_id"], "bot");
    assert_eq!(copy[0]["text"], mention["text"]);
    // Into a direct chat: an id without `@chatroom` is a contact.
    let forwarded = json_lines(&run(&["message", "msg-2", "forward", "dan"]));
    let copy = forwarded[0]["message_id"].as_str().unwrap().to_owned();
    let copy = json_lines(&run(&["message", &copy]));
    assert_eq!(copy[0]["type"], "location");
    assert_eq!(copy[0]["listener_id"], "dan");
    assert_eq!(copy[0]["room_id"], serde_json::Value::Null);
    assert!(text(
        &mock
            .run(TOKEN, &["message", "msg-1", "forward", "r1@chatroom"])
            .stdout
    )
    .starts_with("forwarded as msg-"));

    // An unknown id: exit 1, one plain line on stderr, nothing on stdout; for every verb.
    for verb in [&[][..], &["recall"], &["forward", "r1@chatroom"]] {
        let output = run(&[&["message", "no-such-message"], verb].concat());
        assert_eq!(output.status.code(), Some(1), "{verb:?}");
        let stderr = text(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{verb:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains("no-such-message"), "{stderr}");
        assert!(text(&output.stdout).is_empty(), "{verb:?}");
    }
    // A verb without its conversation is a usage error.
    assert_eq!(run(&["message", "msg-1", "forward"]).status.code(), Some(2));
}

#[path = "../../tests/common/nats.rs"]
mod nats;

/// The first line of a child's stdout, failing after 20 s.
fn first_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    receiver
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("a line within 20 s")
}

#[test]
fn relay_publishes_stands_by_and_takes_over_on_sigterm() {
    let Some(nats) = nats::NatsServer::shared("relay_publishes_stands_by_and_takes_over") else {
        return;
    };
    let mock = MockProcess::start();
    let stream = nats::unique_stream("CLI");
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    };
    let (active_metrics, standby_metrics) = (free_port(), free_port());
    let relay = |metrics: std::net::SocketAddr| {
        Command::new(BIN)
            .args(["--endpoint", &mock.endpoint, "--no-tls", "relay"])
            .args(["--stream", &stream, "--nats", &nats.url()])
            .args(["--metrics", &metrics.to_string()])
            .env("WECHATY_PUPPET_SERVICE_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs")
    };
    let mut active = relay(active_metrics);
    assert_eq!(
        first_line(&mut active).trim(),
        format!("relaying to {}", nats.url())
    );
    let mut standby = relay(standby_metrics);
    // Its stderr is read to the end (a closed pipe would fail its later lines).
    let stderr = BufReader::new(standby.stderr.take().unwrap());
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let line = receiver
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("a line on stderr");
    assert!(line.contains("standing by"), "{line}");
    let relayed = |text: &str| -> u64 {
        text.lines()
            .find_map(|line| line.strip_prefix("wechaty_relay_events_relayed_total "))
            .expect("the relayed counter")
            .parse()
            .unwrap()
    };
    // The service's greeting heartbeat is the first event relayed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let active_text = loop {
        let text = scrape(active_metrics);
        if relayed(&text) >= 1 || std::time::Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(relayed(&active_text) >= 1, "{active_text}");
    assert!(
        active_text.contains("\nwechaty_relay_active 1\n"),
        "{active_text}"
    );
    assert!(active_text.contains("# TYPE wechaty_relay_publish_latency_seconds histogram"));
    assert!(scrape(standby_metrics).contains("\nwechaty_relay_active 0\n"));

    let terminate = |child: &Child| {
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    };
    terminate(&active);
    assert!(active.wait().unwrap().success(), "SIGTERM is a clean stop");
    assert_eq!(
        first_line(&mut standby).trim(),
        format!("relaying to {}", nats.url())
    );
    terminate(&standby);
    assert!(standby.wait().unwrap().success());
}

/// `GET /metrics` at `addr`: the body.
fn scrape(addr: std::net::SocketAddr) -> String {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(addr).expect("the metrics port answers");
    socket
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// Sends a Ding to the mock (an RPC: the relay holds the Event stream): its `dong` event is
/// what the relay publishes next.
fn ding(mock: &MockProcess, data: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let bot = wechaty_client::WechatyBuilder::new()
            .endpoint(&mock.endpoint)
            .token(TOKEN)
            .no_tls(true)
            .build()
            .await
            .expect("valid settings");
        bot.ding(data).await.expect("the mock answers");
    });
}

/// The `dong` data among `events --json` lines.
fn dongs(stdout: &[u8]) -> Vec<String> {
    text(stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["type"] == "dong")
        .filter_map(|event| event["data"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn events_from_nats_share_a_consumer_or_read_alone() {
    let Some(nats) = nats::NatsServer::shared("events_from_nats") else {
        return;
    };
    let mock = MockProcess::start();
    let stream = nats::unique_stream("CLIEVENTS");
    let mut relay = Command::new(BIN)
        .args(["--endpoint", &mock.endpoint, "--no-tls", "relay"])
        .args(["--stream", &stream, "--nats", &nats.url()])
        .env("WECHATY_PUPPET_SERVICE_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    assert!(first_line(&mut relay).starts_with("relaying to"));
    let events = |extra: &[&str]| {
        Command::new(BIN)
            .args(["--endpoint", &mock.endpoint, "--no-tls", "--json", "events"])
            .args(["--nats", &nats.url(), "--stream", &stream])
            .args(extra)
            .env("WECHATY_PUPPET_SERVICE_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs")
    };

    // Published before the group ever ran: a new group starts at the stream's beginning.
    ding(&mock, "one");
    let first = events(&["--consumer", "cli", "--timeout", "4"])
        .wait_with_output()
        .unwrap();
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(dongs(&first.stdout), ["one"], "{}", text(&first.stdout));
    // Published while no worker of the group runs: the next one gets it, and only it.
    ding(&mock, "two");
    let second = events(&["--consumer", "cli", "--timeout", "4"])
        .wait_with_output()
        .unwrap();
    assert_eq!(dongs(&second.stdout), ["two"], "{}", text(&second.stdout));

    // Alone: what comes from now on (dinged until it has seen one).
    let mut alone = events(&["--count", "1", "--timeout", "20"]);
    let mut dinged = 0;
    while alone.try_wait().unwrap().is_none() {
        dinged += 1;
        assert!(dinged < 60, "`events --nats` alone printed nothing");
        ding(&mock, &format!("three-{dinged}"));
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let alone = alone.wait_with_output().unwrap();
    let _ = relay.kill();
    let _ = relay.wait();
    let printed = dongs(&alone.stdout);
    assert_eq!(printed.len(), 1, "{}", text(&alone.stdout));
    assert!(printed[0].starts_with("three-"), "{printed:?}");
}
