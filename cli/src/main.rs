//! `wechaty`: drive a Wechaty puppet service from the shell, or serve the mock one.
//!
//! The contract (options, `--json` lines, exit codes) is in `shared/cli.md`; this binary uses
//! only the library's public API.

use std::io::Write;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};
use tokio_stream::{Stream, StreamExt};
use wechaty_bench::{run_suite, BenchFixture, SuiteOptions, WorldSize};
use wechaty_client::mock::{MockPuppetService, MockTls, MockWorld, Scenario, DEFAULT_TOKEN};
use wechaty_client::{
    Contact, Event, FileBox, MemberQuery, MessagePayload, MessageType, Outcome, Room, RoomAnnounce,
    RoomEvent, RoomJoin, RoomLeave, RoomQuery, RoomTopic, UrlLink, Wechaty, WechatyBuilder,
    ENV_TOKEN,
};

/// How long `ding` waits for its `dong`.
const DING_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Parser)]
#[command(
    name = "wechaty",
    version,
    about = "Talk to a Wechaty puppet service, or serve the mock one"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Connection options; each falls back to its `WECHATY_PUPPET_SERVICE_*` variable.
#[derive(Args)]
struct Global {
    /// HOST:PORT of the service (skips discovery) [env: WECHATY_PUPPET_SERVICE_ENDPOINT]
    #[arg(long, global = true, value_name = "HOST:PORT")]
    endpoint: Option<String>,
    /// The service token [env: WECHATY_PUPPET_SERVICE_TOKEN]
    #[arg(long, global = true, value_name = "TOKEN")]
    token: Option<String>,
    /// Discovery authority [env: WECHATY_PUPPET_SERVICE_AUTHORITY]
    #[arg(long, global = true, value_name = "HOST")]
    authority: Option<String>,
    /// Plaintext HTTP/2 [env: WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT=true]
    #[arg(long, global = true)]
    no_tls: bool,
    /// Trusted root CA, PEM text or a path [env: WECHATY_PUPPET_SERVICE_TLS_CA_CERT]
    #[arg(long, global = true, value_name = "PEM-OR-PATH")]
    tls_ca_cert: Option<String>,
    /// TLS server name to verify [env: WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME]
    #[arg(long, global = true, value_name = "NAME")]
    tls_server_name: Option<String>,
    /// Machine-readable output: one JSON object per line
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Print the service's version string
    Version,
    /// Send a Ding and wait for its dong (does not call Start or Stop)
    Ding {
        /// Data to send (default: a random nonce)
        data: Option<String>,
    },
    /// List rooms: all, or those whose id or exact topic is QUERY
    Rooms {
        /// A room id or exact topic
        query: Option<String>,
    },
    /// Act on one room, found by id or else by exact topic
    Room {
        /// A room id or exact topic
        query: String,
        #[command(subcommand)]
        verb: RoomVerb,
    },
    /// Create a room with at least two contacts
    RoomCreate {
        /// The new room's topic
        #[arg(long)]
        topic: String,
        /// Contact ids (two or more)
        #[arg(required = true, num_args = 1..)]
        ids: Vec<String>,
    },
    /// Check the connection step by step (settings, discovery, TCP, TLS, auth, health, events)
    Doctor,
    /// Print a message's payload, or act on the message
    Message {
        /// The message id
        id: String,
        #[command(subcommand)]
        action: Option<MessageAction>,
    },
    /// Print events from the service as they come (does not call Start)
    Events {
        /// Only this room's events (a room id)
        #[arg(long, value_name = "ROOM")]
        room: Option<String>,
        /// Stop after this many events
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        /// Stop after this many seconds (exit 1 if --count was not reached by then)
        #[arg(long, value_name = "SECS")]
        timeout: Option<f64>,
    },
    /// Measure this SDK beside a bare tonic client doing the same calls (BENCHMARKS.md).
    /// Runs against the embedded mock unless a service is given (--endpoint/--token or
    /// their variables)
    Bench {
        /// Runs per figure (the report gives median, min and max) [default: 5, 2 with --quick]
        #[arg(long, value_name = "N")]
        runs: Option<usize>,
        /// Only these scenarios: unary, members, find, getters, fan-out, memory
        #[arg(long, value_delimiter = ',', value_name = "NAME")]
        only: Vec<String>,
        /// Small sizes that finish in seconds (a smoke test, not figures)
        #[arg(long)]
        quick: bool,
        /// Events of the full-speed fan-out (default 1,000,000)
        #[arg(long, value_name = "N")]
        events: Option<usize>,
        /// Against a service: a room whose member list to measure (repeatable)
        #[arg(long = "member-room", value_name = "ROOM-ID")]
        member_rooms: Vec<String>,
        /// Exit 1 when a figure misses its target
        #[arg(long)]
        check: bool,
    },
    /// (For `bench`) cache every room and N benchmark contacts, print the resident memory
    #[command(hide = true)]
    BenchMemoryProbe {
        /// Contacts to cache (`contact0` …)
        #[arg(long, default_value_t = 50_000)]
        contacts: usize,
    },
    /// Serve the mock puppet service on 127.0.0.1 until interrupted
    Mock {
        /// Port to listen on (0: any free port)
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Address to listen on (0.0.0.0 in a container)
        #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
        bind: std::net::IpAddr,
        /// Serve TLS (default certificate: the stock gateway one, CN=insecure, signed by the
        /// public Wechaty root CA, which clients trust by default)
        #[arg(long)]
        tls: bool,
        /// With --tls: serve this certificate chain (PEM) instead
        #[arg(long, value_name = "PEM-FILE", requires_all = ["tls", "tls_key"])]
        tls_cert: Option<String>,
        /// With --tls-cert: its private key (PEM)
        #[arg(long, value_name = "PEM-FILE", requires = "tls_cert")]
        tls_key: Option<String>,
        /// Serve the world and timeline of a scenario file
        #[arg(long, value_name = "FILE", conflicts_with = "bench_world")]
        scenario: Option<String>,
        /// Serve the benchmark world (1,000 rooms, 50,000 contacts, rooms of 500 and 5,000
        /// members), for measuring other clients against the same data
        #[arg(long)]
        bench_world: bool,
    },
}

#[derive(Subcommand)]
enum MessageAction {
    /// Save the message's file (file, image, video, audio)
    Download {
        /// Where to write it
        #[arg(long, value_name = "FILE")]
        output: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum RoomVerb {
    /// Print the topic, or set it to NEW
    Topic {
        /// The new topic
        new: Option<String>,
    },
    /// Print the announcement, or set it to TEXT
    Announce {
        /// The new announcement
        text: Option<String>,
    },
    /// Send a text (optionally mentioning members), a file, a link card or a contact card
    #[command(group(clap::ArgGroup::new("what").required(true).args(["text", "file", "url_link", "contact"])))]
    Say {
        /// The text
        text: Option<String>,
        /// A contact id to @-mention in the text (repeatable)
        #[arg(long = "mention", value_name = "ID", requires = "text")]
        mentions: Vec<String>,
        /// Send this file (big files are uploaded in chunks)
        #[arg(long, value_name = "PATH")]
        file: Option<std::path::PathBuf>,
        /// Send a link card
        #[arg(long, num_args = 2, value_names = ["TITLE", "URL"])]
        url_link: Option<Vec<String>>,
        /// The link card's description
        #[arg(long, value_name = "D", requires = "url_link")]
        description: Option<String>,
        /// The link card's thumbnail URL
        #[arg(long, value_name = "URL", requires = "url_link")]
        thumbnail: Option<String>,
        /// Send this contact's card
        #[arg(long, value_name = "ID")]
        contact: Option<String>,
    },
    /// List members: all, or those whose name, room alias or contact alias is QUERY
    Members {
        /// Exact name, room alias or contact alias
        query: Option<String>,
    },
    /// Add a contact
    Add {
        /// The contact id
        id: String,
    },
    /// Remove a member
    Remove {
        /// The contact id
        id: String,
    },
    /// The bot leaves the room
    Quit,
    /// Print the room's QR code content
    QrCode,
    /// Print the owner's id
    Owner,
    /// Print a member's room alias
    Alias {
        /// The contact id
        id: String,
    },
    /// Whether a contact is a member
    Has {
        /// The contact id
        id: String,
    },
    /// Save the room's avatar
    Avatar {
        /// Where to write it
        #[arg(long, value_name = "FILE")]
        output: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: the library's errors already name the setting to change.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let out = Output {
        json: cli.global.json,
    };
    match cli.command {
        Command::Version => {
            let bot = connect(&cli.global).await?;
            let version = bot.version().await?;
            out.value("version", &version, &version);
        }
        Command::Ding { data } => {
            let bot = connect(&cli.global).await?;
            let data = data.unwrap_or_else(nonce);
            bot.connect().await?;
            let round_trip = bot.ding_dong(&data, DING_TIMEOUT).await;
            bot.stop();
            let round_trip = round_trip?;
            let ms = round_trip.as_secs_f64() * 1000.0;
            out.line(
                &json!({ "data": data, "round_trip_ms": ms }),
                &format!("dong {data} in {ms:.1} ms"),
            );
        }
        Command::Rooms { query } => {
            let bot = connect(&cli.global).await?;
            let query = query.map(RoomQuery::from).unwrap_or(RoomQuery::All);
            let payloads = bot.rooms().payloads().await?;
            for payload in payloads.iter().filter(|payload| query.matches(payload)) {
                out.line(
                    &json!({
                        "id": payload.id,
                        "topic": payload.topic,
                        "member_count": payload.member_ids.len(),
                        "owner_id": payload.owner_id,
                    }),
                    &format!(
                        "{}  {}  ({} members)",
                        payload.id,
                        payload.topic.as_deref().unwrap_or("(no topic)"),
                        payload.member_ids.len()
                    ),
                );
            }
        }
        Command::Room { query, verb } => {
            let bot = connect(&cli.global).await?;
            let room = resolve_room(&bot, &query).await?;
            room_verb(&bot, &room, verb, &out).await?;
        }
        Command::RoomCreate { topic, ids } => {
            let bot = connect(&cli.global).await?;
            let contacts: Vec<Contact> = ids.into_iter().map(|id| bot.contact(id)).collect();
            let room = bot.rooms().create(&contacts, &topic).await?;
            out.value("room_id", room.id().as_str(), room.id().as_str());
        }
        Command::Bench {
            runs,
            only,
            quick,
            events,
            member_rooms,
            check,
        } => {
            let mut options = if quick {
                SuiteOptions::quick()
            } else {
                SuiteOptions::default()
            };
            if let Some(runs) = runs {
                options.runs = runs;
            }
            options.only = only;
            if let Some(events) = events {
                options.fan_out_events = events;
            }
            let external = cli.global.endpoint.is_some()
                || cli.global.token.is_some()
                || std::env::var_os(ENV_TOKEN).is_some();
            let fixture = if external {
                if !member_rooms.is_empty() {
                    options.member_rooms = member_rooms;
                }
                eprintln!("benchmarking the service the options and variables point at");
                BenchFixture::connect(builder(&cli.global)).await?
            } else {
                options.cli = std::env::current_exe().ok();
                eprintln!(
                    "benchmarking the embedded mock ({} rooms, {} contacts)",
                    options.world.rooms, options.world.contacts
                );
                BenchFixture::embedded(&options.world).await?
            };
            let report = run_suite(&fixture, &options, |row| {
                eprintln!("measured: {}", row.figure);
            })
            .await?;
            if out.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print!("{report}");
            }
            let missed: Vec<&str> = report.missed().map(|row| row.figure.as_str()).collect();
            if check && !missed.is_empty() {
                bail!("targets missed: {}", missed.join("; "));
            }
        }
        Command::BenchMemoryProbe { contacts } => {
            let fixture = BenchFixture::connect(builder(&cli.global)).await?;
            let reading = fixture.cache_memory(contacts).await?;
            println!("{}", serde_json::to_string(&reading)?);
        }
        Command::Doctor => {
            let checks = builder(&cli.global).doctor().await;
            let mut failed = false;
            for check in &checks {
                let status = match check.outcome {
                    Outcome::Pass => "PASS",
                    Outcome::Fail => {
                        failed = true;
                        "FAIL"
                    }
                    _ => "SKIP",
                };
                let hint = check
                    .hint
                    .as_deref()
                    .map(|hint| format!("\n     hint: {hint}"))
                    .unwrap_or_default();
                out.line(
                    &json!({ "step": check.step, "status": status, "detail": check.detail, "hint": check.hint }),
                    &format!("{status} {}: {}{hint}", check.step, check.detail),
                );
            }
            if failed {
                bail!("a step failed (see above)");
            }
        }
        Command::Message { id, action } => {
            let bot = connect(&cli.global).await?;
            let message = bot.message(id.as_str());
            match action {
                None => {
                    let payload = message.payload().await?;
                    out.line(&message_json(&payload), &human_message(&payload));
                }
                Some(MessageAction::Download { output }) => {
                    let file = message.to_file_box().await?;
                    let bytes = file.to_file(&bot, &output).await?;
                    out.line(
                        &json!({ "output": output.display().to_string(), "name": file.name, "bytes": bytes }),
                        &format!("saved {} ({bytes} bytes) to {}", file.name, output.display()),
                    );
                }
            }
        }
        Command::Events {
            room,
            count,
            timeout,
        } => {
            let bot = connect(&cli.global).await?;
            let limit = timeout.map(Duration::from_secs_f64);
            let printed = print_events(&bot, &out, room, count, limit).await;
            bot.stop();
            let printed = printed?;
            if let Some(count) = count {
                if printed < count {
                    bail!("only {printed} of {count} events arrived before --timeout");
                }
            }
        }
        Command::Mock {
            port,
            bind,
            tls,
            tls_cert,
            tls_key,
            scenario,
            bench_world,
        } => {
            let scenario = scenario.map(Scenario::from_file).transpose()?;
            let world = match (&scenario, bench_world) {
                (Some(scenario), _) => scenario.world(),
                (None, true) => wechaty_bench::bench_world(&WorldSize::default()),
                (None, false) => MockWorld::demo(),
            };
            let tls = match (tls, tls_cert, tls_key) {
                (false, _, _) => None,
                (true, Some(cert), Some(key)) => Some(MockTls::from_files(&cert, &key)?),
                (true, _, _) => Some(MockTls::stock()),
            };
            serve_mock(&cli.global, bind, port, tls, world, scenario).await?;
        }
    }
    Ok(())
}

/// cli.md's resolution: an exact room id first, else rooms whose raw topic is exactly QUERY;
/// none or several is an error.
async fn resolve_room(bot: &Wechaty, query: &str) -> Result<Room> {
    let payloads = bot.rooms().payloads().await?;
    if payloads.iter().any(|payload| payload.id.as_str() == query) {
        return Ok(bot.room(query));
    }
    let matching: Vec<&str> = payloads
        .iter()
        .filter(|payload| payload.topic.as_deref() == Some(query))
        .map(|payload| payload.id.as_str())
        .collect();
    match matching.as_slice() {
        [id] => Ok(bot.room(*id)),
        [] => {
            // Some services list only part of their rooms: try the id directly.
            let room = bot.room(query);
            match room.payload().await {
                Ok(_) => Ok(room),
                Err(_) => bail!("no room has the id or the exact topic {query:?}"),
            }
        }
        several => bail!(
            "{} rooms have the topic {query:?}: use an id ({})",
            several.len(),
            several.join(", ")
        ),
    }
}

async fn room_verb(bot: &Wechaty, room: &Room, verb: RoomVerb, out: &Output) -> Result<()> {
    match verb {
        RoomVerb::Topic { new: Some(new) } => {
            room.set_topic(&new).await?;
            out.value("topic", &new, &new);
        }
        RoomVerb::Topic { new: None } => {
            let topic = room.topic().await?;
            out.value("topic", &topic, &topic);
        }
        RoomVerb::Announce { text: Some(text) } => {
            room.set_announce(&text).await?;
            out.value("announce", &text, &text);
        }
        RoomVerb::Announce { text: None } => {
            let text = room.announce().await?;
            out.line(&json!({ "announce": text }), text.as_deref().unwrap_or(""));
        }
        RoomVerb::Say {
            text,
            mentions,
            file,
            url_link,
            description,
            thumbnail,
            contact,
        } => {
            let sent = match (text, file, url_link, contact) {
                (Some(text), ..) => {
                    let contacts: Vec<Contact> =
                        mentions.into_iter().map(|id| bot.contact(id)).collect();
                    room.say_with_mentions(&text, &contacts).await?
                }
                (_, Some(path), ..) => room.say(FileBox::from_file(path)).await?,
                (_, _, Some(link), _) => {
                    let (title, url) = (link[0].clone(), link[1].clone());
                    let card = UrlLink::create(
                        description.unwrap_or_default(),
                        thumbnail.unwrap_or_default(),
                        title,
                        url,
                    );
                    room.say(card).await?
                }
                (_, _, _, Some(id)) => room.say(&bot.contact(id)).await?,
                _ => bail!("say needs TEXT, --file, --url-link or --contact"),
            };
            let id = sent.as_ref().map(|message| message.id().to_string());
            out.line(
                &json!({ "message_id": id }),
                &format!("sent{}", id.map(|id| format!(" {id}")).unwrap_or_default()),
            );
        }
        RoomVerb::Members { query } => {
            let query = query.map(MemberQuery::from).unwrap_or(MemberQuery::All);
            let members = with_progress("loading members", room.member_details(query)).await?;
            for member in members {
                out.line(
                    &json!({
                        "id": member.contact.id(),
                        "name": member.name(),
                        "room_alias": member.room_alias(),
                        "contact_alias": member.contact_alias(),
                    }),
                    &format!(
                        "{}  {}{}",
                        member.contact.id(),
                        member.name().unwrap_or(""),
                        member
                            .room_alias()
                            .map(|alias| format!(" ({alias})"))
                            .unwrap_or_default()
                    ),
                );
            }
        }
        RoomVerb::Add { id } => {
            room.add(&bot.contact(id.as_str())).await?;
            out.value("added", &id, &format!("added {id}"));
        }
        RoomVerb::Remove { id } => {
            room.remove(&bot.contact(id.as_str())).await?;
            out.value("removed", &id, &format!("removed {id}"));
        }
        RoomVerb::Quit => {
            room.quit().await?;
            out.value("quit", room.id().as_str(), &format!("left {}", room.id()));
        }
        RoomVerb::QrCode => {
            let code = room.qr_code().await?;
            out.value("qr_code", &code, &code);
        }
        RoomVerb::Owner => {
            let owner = room.owner().await?.map(|owner| owner.id().to_string());
            out.line(
                &json!({ "owner_id": owner }),
                owner.as_deref().unwrap_or("(unknown)"),
            );
        }
        RoomVerb::Alias { id } => {
            let alias = room.alias(&bot.contact(id)).await?;
            out.line(
                &json!({ "alias": alias }),
                alias.as_deref().unwrap_or("(none)"),
            );
        }
        RoomVerb::Has { id } => {
            let has = room.has(&bot.contact(id)).await?;
            out.line(&json!({ "has": has }), if has { "yes" } else { "no" });
        }
        RoomVerb::Avatar { output } => {
            let avatar = room.avatar().await?;
            avatar.to_file(bot, &output).await?;
            out.line(
                &json!({ "avatar": output.display().to_string(), "name": avatar.name }),
                &format!("saved {} to {}", avatar.name, output.display()),
            );
        }
    }
    Ok(())
}

/// Runs `work`, showing `what` and the seconds elapsed on stderr while it takes more than a
/// moment — only when stderr is a terminal, so scripts and pipes see nothing.
async fn with_progress<T>(what: &str, work: impl std::future::Future<Output = T>) -> T {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return work.await;
    }
    tokio::pin!(work);
    let started = tokio::time::Instant::now();
    let mut ticks = tokio::time::interval_at(
        started + Duration::from_millis(300),
        Duration::from_millis(250),
    );
    let mut shown = false;
    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            _ = ticks.tick() => {
                shown = true;
                eprint!("\r{what}… {:.1} s", started.elapsed().as_secs_f64());
            }
        }
    };
    if shown {
        eprint!("\r\x1b[2K");
    }
    result
}

/// Prints events until `count` were printed, `limit` passed, Ctrl-C, or the stream ended.
/// Returns how many were printed.
async fn print_events(
    bot: &Wechaty,
    out: &Output,
    room: Option<String>,
    count: Option<u64>,
    limit: Option<Duration>,
) -> Result<u64> {
    let mut stream: Pin<Box<dyn Stream<Item = Value> + Send>> = match room {
        Some(room) => Box::pin(bot.room(room).events().map(|event| room_event_json(&event))),
        None => Box::pin(bot.events().map(|event| event_json(&event))),
    };
    bot.connect().await?;
    let mut printed = 0;
    let deadline = limit.map(|limit| tokio::time::Instant::now() + limit);
    let until_deadline = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(until_deadline);
    while count.is_none_or(|count| printed < count) {
        let event = tokio::select! {
            event = stream.next() => event,
            () = &mut until_deadline => break,
            _ = tokio::signal::ctrl_c() => break,
        };
        let Some(event) = event else { break };
        out.line(&event, &human_event(&event));
        printed += 1;
    }
    Ok(printed)
}

/// An event as cli.md specifies: the wire name in `type`, decoded fields in snake_case,
/// `timestamp_ms` in Unix milliseconds, absent values `null`.
fn event_json(event: &Event) -> Value {
    let mut value = match event {
        Event::Heartbeat { data }
        | Event::Dong { data }
        | Event::Ready { data }
        | Event::Reset { data } => json!({ "data": data }),
        Event::Message { message_id } => json!({ "message_id": message_id }),
        Event::Post { post_id } => json!({ "post_id": post_id }),
        Event::Error(error) => json!({ "code": error.code, "message": error.message }),
        Event::Friendship { friendship_id } => json!({ "friendship_id": friendship_id }),
        Event::RoomInvite { room_invitation_id } => {
            json!({ "room_invitation_id": room_invitation_id })
        }
        Event::RoomJoin(join) => join_json(join),
        Event::RoomLeave(leave) => leave_json(leave),
        Event::RoomTopic(topic) => topic_json(topic),
        Event::RoomAnnounce(announce) => announce_json(announce),
        Event::Scan {
            status,
            qrcode,
            data,
        } => {
            json!({ "status": format!("{status:?}").to_lowercase(), "qrcode": qrcode, "data": data })
        }
        Event::Login { contact_id } => json!({ "contact_id": contact_id }),
        Event::Logout { contact_id, data } => json!({ "contact_id": contact_id, "data": data }),
        Event::Dirty {
            payload_type,
            payload_id,
        } => json!({ "payload_type": payload_type.number(), "payload_id": payload_id }),
        Event::Unknown { kind, payload } => json!({ "kind": kind, "payload": payload }),
        Event::Lagged { missed } => json!({ "missed": missed }),
        Event::Malformed { kind, reason } => json!({ "kind": kind, "reason": reason }),
        _ => json!({}),
    };
    value["type"] = json!(event.name());
    value
}

fn room_event_json(event: &RoomEvent) -> Value {
    let (name, mut value) = match event {
        RoomEvent::Join(join) => ("room-join", join_json(join)),
        RoomEvent::Leave(leave) => ("room-leave", leave_json(leave)),
        RoomEvent::Topic(topic) => ("room-topic", topic_json(topic)),
        RoomEvent::Announce(announce) => ("room-announce", announce_json(announce)),
        RoomEvent::Message(message) => ("message", json!({ "message_id": message.id() })),
        RoomEvent::Reconnected => ("reconnected", json!({})),
        RoomEvent::Lagged { missed } => ("lagged", json!({ "missed": missed })),
        _ => ("unknown", json!({})),
    };
    value["type"] = json!(name);
    value
}

fn message_json(payload: &MessagePayload) -> Value {
    json!({
        "id": payload.id,
        "type": message_type_name(payload.kind),
        "type_code": payload.kind.to_wire(),
        "text": payload.text,
        "filename": payload.filename,
        "talker_id": payload.talker_id,
        "listener_id": payload.listener_id,
        "room_id": payload.room_id,
        "mention_ids": payload.mention_ids,
        "timestamp_ms": payload.date.map(millis),
    })
}

/// The snake_case name of a message type (`"text"`, `"mini_program"`, `"unknown"` for
/// numbers this client does not know).
fn message_type_name(kind: MessageType) -> String {
    let debug = format!("{kind:?}");
    if debug.starts_with("Other") {
        return "unknown".into();
    }
    let mut name = String::new();
    for (index, c) in debug.chars().enumerate() {
        if c.is_uppercase() && index > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

fn human_message(payload: &MessagePayload) -> String {
    let from = payload.talker_id.as_ref().map_or("?", |id| id.as_str());
    let place = payload
        .room_id
        .as_ref()
        .map(|room| format!(" in {room}"))
        .unwrap_or_default();
    let body = payload
        .text
        .clone()
        .or_else(|| payload.filename.clone())
        .unwrap_or_default();
    format!(
        "[{}] {from}{place}: {body}",
        message_type_name(payload.kind)
    )
}

fn millis(date: SystemTime) -> u64 {
    date.duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0)
}

fn join_json(join: &RoomJoin) -> Value {
    json!({
        "room_id": join.room_id,
        "invitee_ids": join.invitee_ids,
        "inviter_id": join.inviter_id,
        "timestamp_ms": millis(join.date),
    })
}

fn leave_json(leave: &RoomLeave) -> Value {
    json!({
        "room_id": leave.room_id,
        "removee_ids": leave.removee_ids,
        "remover_id": leave.remover_id,
        "timestamp_ms": millis(leave.date),
    })
}

fn topic_json(topic: &RoomTopic) -> Value {
    json!({
        "room_id": topic.room_id,
        "new_topic": topic.new_topic,
        "old_topic": topic.old_topic,
        "changer_id": topic.changer_id,
        "timestamp_ms": millis(topic.date),
    })
}

fn announce_json(announce: &RoomAnnounce) -> Value {
    json!({
        "room_id": announce.room_id,
        "new_announce": announce.new_announce,
        "old_announce": announce.old_announce,
        "changer_id": announce.changer_id,
        "timestamp_ms": millis(announce.date),
    })
}

/// One line for people: the type, then the fields as `key=value`.
fn human_event(event: &Value) -> String {
    let mut line = event["type"].as_str().unwrap_or("event").to_owned();
    if let Some(fields) = event.as_object() {
        for (key, value) in fields.iter().filter(|(key, _)| *key != "type") {
            let shown = match value {
                Value::String(text) => text.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            line.push_str(&format!(" {key}={shown}"));
        }
    }
    line
}

/// The bot from the settings.
async fn connect(global: &Global) -> Result<Wechaty> {
    Ok(builder(global).build().await?)
}

/// The builder from the environment, overridden by the command line.
fn builder(global: &Global) -> WechatyBuilder {
    let mut builder = WechatyBuilder::from_env();
    if let Some(endpoint) = &global.endpoint {
        builder = builder.endpoint(endpoint);
    }
    if let Some(token) = &global.token {
        builder = builder.token(token);
    }
    if let Some(authority) = &global.authority {
        builder = builder.authority(authority);
    }
    if global.no_tls {
        builder = builder.no_tls(true);
    }
    if let Some(ca) = &global.tls_ca_cert {
        builder = builder.tls_ca_cert(ca);
    }
    if let Some(name) = &global.tls_server_name {
        builder = builder.tls_server_name(name);
    }
    builder
}

async fn serve_mock(
    global: &Global,
    bind: std::net::IpAddr,
    port: u16,
    tls: Option<MockTls>,
    world: MockWorld,
    scenario: Option<Scenario>,
) -> Result<()> {
    let token = match global
        .token
        .clone()
        .or_else(|| std::env::var(ENV_TOKEN).ok())
    {
        Some(token) if !token.is_empty() => token,
        _ => {
            eprintln!(
                "no --token or {ENV_TOKEN} given: the mock accepts the token {DEFAULT_TOKEN:?}"
            );
            DEFAULT_TOKEN.to_owned()
        }
    };
    let mut builder = MockPuppetService::builder()
        .token(token)
        .host(bind)
        .port(port)
        .world(world.clone());
    if let Some(tls) = tls {
        builder = builder.tls(tls);
    }
    let server = builder.serve().await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", server.addr())?;
    stdout.flush()?;
    if let Some(scenario) = scenario {
        // Plays when a bot opens the Event stream, and again for each new one.
        tokio::spawn(play_for_each_bot(scenario, world));
    }
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    server.shutdown().await;
    Ok(())
}

/// Plays the scenario's timeline each time a bot connects; reports its expectations on stderr.
async fn play_for_each_bot(scenario: Scenario, world: MockWorld) {
    loop {
        while !world.has_event_stream() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        eprintln!("scenario: a bot connected, playing the timeline");
        let started = tokio::time::Instant::now();
        scenario.play(&world).await;
        let unmet = scenario.unmet(&world, started).await;
        if unmet.is_empty() {
            eprintln!(
                "scenario: PASS ({} expectations met)",
                scenario.expect.len()
            );
        }
        for failure in unmet {
            eprintln!("scenario: FAIL {failure}");
        }
        while world.has_event_stream() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A random-enough nonce without a random-number dependency.
fn nonce() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or(0);
    format!("ding-{:x}{:x}", nanos, std::process::id())
}

/// Human text or one JSON object per line.
struct Output {
    json: bool,
}

impl Output {
    fn line(&self, json: &serde_json::Value, human: &str) {
        if self.json {
            println!("{json}");
        } else {
            println!("{human}");
        }
    }

    fn value(&self, key: &str, value: &str, human: &str) {
        self.line(&json!({ key: value }), human);
    }
}
