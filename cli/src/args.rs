//! The command line: global options (each falling back to its `WECHATY_PUPPET_SERVICE_*`
//! variable) and the commands of `shared/cli.md`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use wechaty_client::WechatyBuilder;

/// `wechaty [OPTIONS] <COMMAND>`.
#[derive(Parser)]
#[command(
    name = "wechaty",
    version,
    about = "Talk to a Wechaty puppet service, or serve the mock one"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Connection options; each falls back to its `WECHATY_PUPPET_SERVICE_*` variable.
#[derive(Args)]
pub struct Global {
    /// HOST:PORT of the service (skips discovery) [env: WECHATY_PUPPET_SERVICE_ENDPOINT]
    #[arg(long, global = true, value_name = "HOST:PORT")]
    pub endpoint: Option<String>,
    /// The service token [env: WECHATY_PUPPET_SERVICE_TOKEN]
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Read the token from this file (`-`: from stdin), so it never sits in the process list
    /// [env: WECHATY_PUPPET_SERVICE_TOKEN_FILE]
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "token")]
    pub token_file: Option<PathBuf>,
    /// Discovery authority [env: WECHATY_PUPPET_SERVICE_AUTHORITY]
    #[arg(long, global = true, value_name = "HOST")]
    pub authority: Option<String>,
    /// Plaintext HTTP/2 [env: WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT=true]
    #[arg(long, global = true)]
    pub no_tls: bool,
    /// Trusted root CA, PEM text or a path [env: WECHATY_PUPPET_SERVICE_TLS_CA_CERT]
    #[arg(long, global = true, value_name = "PEM-OR-PATH")]
    pub tls_ca_cert: Option<String>,
    /// TLS server name to verify [env: WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME]
    #[arg(long, global = true, value_name = "NAME")]
    pub tls_server_name: Option<String>,
    /// Reopen the Event stream after this many seconds without any event, not even a heartbeat
    /// [default: 60]
    #[arg(long, global = true, value_name = "SECS", value_parser = positive_seconds)]
    pub watchdog: Option<std::time::Duration>,
    /// Machine-readable output: one JSON object per line
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// List contacts: all, or those whose id, exact name or exact alias is QUERY
    Contacts {
        /// A contact id, exact name or exact alias
        query: Option<String>,
    },
    /// Act on one contact, found by id or else by exact name or alias
    Contact {
        /// A contact id, exact name or exact alias
        query: String,
        #[command(subcommand)]
        verb: ContactVerb,
    },
    /// Accept, send or look for friend requests
    Friendship {
        #[command(subcommand)]
        action: FriendshipAction,
    },
    /// List the account's tags
    Tags,
    /// Put a tag on a contact, take it off, or delete it
    Tag {
        /// The tag's name
        name: String,
        #[command(subcommand)]
        action: TagAction,
    },
    /// Check the connection step by step (settings, discovery, TCP, TLS, auth, health, events)
    Doctor,
    /// Print a message (id, type, talker, listener, room, text, mentions, time), or recall,
    /// forward or download it
    Message {
        /// The message id (a `message` event's `message_id`)
        id: String,
        #[command(subcommand)]
        action: Option<MessageAction>,
    },
    /// Print events from the service as they come (does not call Start); a `scan` also
    /// draws its QR code
    Events {
        /// Only this room's events (a room id or exact topic, as `room QUERY` finds it)
        #[arg(long, value_name = "ROOM")]
        room: Option<String>,
        /// Stop after this many events
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        /// Stop after this many seconds (exit 1 if --count was not reached by then)
        #[arg(long, value_name = "SECS", value_parser = positive_seconds)]
        timeout: Option<std::time::Duration>,
        /// Read the events a `wechaty relay` publishes to these NATS server(s) instead of the
        /// service's Event stream (which the relay holds)
        #[arg(long, value_name = "URL", env = "WECHATY_NATS_URL")]
        nats: Option<String>,
        /// With --nats: be one of the workers sharing the durable consumer NAME (each event
        /// reaches one of them; what comes while none runs waits). Default: every event from
        /// now on, for this process alone
        #[arg(long, value_name = "NAME", requires = "nats")]
        consumer: Option<String>,
        /// With --nats: the relay's JetStream stream
        #[arg(
            long,
            value_name = "NAME",
            env = "WECHATY_NATS_STREAM",
            default_value = "WECHATY",
            requires = "nats"
        )]
        stream: String,
    },
    /// Own the service's Event stream and publish every event to NATS JetStream, for workers
    /// (`events --nats`, `WechatyBuilder` workers) to share. A second relay for the same
    /// token stands by and takes over when the first one stops or dies. Prints `relaying to
    /// URL` once publishing; runs until Ctrl-C or SIGTERM
    Relay {
        /// The NATS server(s): `nats://HOST:4222`, several separated by commas
        #[arg(long, value_name = "URL", env = "WECHATY_NATS_URL")]
        nats: String,
        /// The JetStream stream (created if missing); subjects start with its name
        #[arg(
            long,
            value_name = "NAME",
            env = "WECHATY_NATS_STREAM",
            default_value = "WECHATY"
        )]
        stream: String,
        /// Serve Prometheus metrics at http://ADDR/metrics (events relayed, publish latency,
        /// buffer depth, NATS reconnects, active or standby)
        #[arg(long, value_name = "ADDR", env = "WECHATY_RELAY_METRICS")]
        metrics: Option<std::net::SocketAddr>,
    },
    /// Log the account in by QR code, then print who logged in (calls Start)
    ///
    /// Prints each QR code to scan with WeChat (drawn, and the page that shows it) and the
    /// scan's progress, then who logged in. The one command that calls Start, as logging in
    /// needs the puppet running; when the account is logged in already it only prints who.
    Login {
        /// Give up (exit 1) when nobody logged in within this many seconds
        #[arg(long, value_name = "SECS", default_value = "300", value_parser = positive_seconds)]
        timeout: std::time::Duration,
    },
    /// Measure this SDK beside a bare tonic client doing the same calls (BENCHMARKS.md).
    /// Runs against the embedded mock unless a service is given (--endpoint/--token or
    /// their variables)
    Bench {
        /// Runs per figure (the report gives median, min and max) [default: 5, 2 with --quick]
        #[arg(long, value_name = "N")]
        runs: Option<usize>,
        /// Only these scenarios: unary, members, find, getters, fan-out, memory, relay
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
    /// Serve the mock puppet service on 127.0.0.1 until interrupted: the README's demo world
    /// (with the messages msg-1 and msg-2 to read), unless --scenario or --bench-world
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
        /// Serve the demo world logged out: Start shows a QR code (a `scan` event), and a few
        /// seconds later the bot logs in as if a phone had scanned it. Try it with `wechaty
        /// login`
        #[arg(long, conflicts_with_all = ["scenario", "bench_world"])]
        logged_out: bool,
    },
}

#[derive(Subcommand)]
pub enum MessageAction {
    /// Save the message's file (file, image, video, audio)
    Download {
        /// Where to write it
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Take the message back (WeChat allows it for the bot's own recent messages); prints
    /// whether the service recalled it, and exits 0 either way
    Recall,
    /// Forward the message into a room or a direct chat
    Forward {
        /// A room id (ending in `@chatroom`) or a contact id
        #[arg(value_name = "CONVERSATION-ID")]
        conversation: String,
    },
}

#[derive(Subcommand)]
pub enum RoomVerb {
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
        /// A member to @-mention in the text: an id, or an exact name, room alias or contact
        /// alias, as `members QUERY` finds them (repeatable)
        #[arg(long = "mention", value_name = "MEMBER", requires = "text")]
        mentions: Vec<String>,
        /// Send this file (big files are uploaded in chunks)
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
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
        output: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum ContactVerb {
    /// Print the contact's payload
    Info,
    /// Print the alias (remark) the bot gave the contact, or set it to NEW (`""` clears it)
    Alias {
        /// The new alias
        new: Option<String>,
    },
    /// Send the contact a text
    Say {
        /// The text
        text: String,
    },
    /// List the contact's tags
    Tags,
    /// Save the contact's avatar
    Avatar {
        /// Where to write it
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum FriendshipAction {
    /// Accept a received friend request (the id a `friendship` event carries)
    Accept {
        /// The friendship id
        id: String,
    },
    /// Ask a contact to become the bot's friend
    Add {
        /// A contact id, exact name or exact alias
        #[arg(value_name = "CONTACT-QUERY")]
        contact: String,
        /// The greeting sent with the request
        #[arg(long, value_name = "TEXT", default_value = "")]
        hello: String,
    },
    /// Find a contact by phone number or WeChat handle (exit 1 if there is none)
    #[command(group(clap::ArgGroup::new("by").required(true).args(["phone", "handle"])))]
    Search {
        /// The phone number
        #[arg(long, value_name = "P")]
        phone: Option<String>,
        /// The WeChat handle
        #[arg(long, value_name = "H")]
        handle: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum TagAction {
    /// Put the tag on a contact (the tag is created if new)
    Add {
        /// A contact id, exact name or exact alias
        #[arg(value_name = "CONTACT-QUERY")]
        contact: String,
    },
    /// Take the tag off a contact
    Remove {
        /// A contact id, exact name or exact alias
        #[arg(value_name = "CONTACT-QUERY")]
        contact: String,
    },
    /// Delete the tag: every contact loses it
    Delete,
}

impl Global {
    /// The builder from the environment, overridden by the command line.
    pub fn builder(&self) -> anyhow::Result<WechatyBuilder> {
        let mut builder = WechatyBuilder::from_env();
        if let Some(endpoint) = &self.endpoint {
            builder = builder.endpoint(endpoint);
        }
        if let Some(token) = self.token()? {
            builder = builder.token(token);
        } else if let Some(path) = &self.token_file {
            builder = builder.token_file(path);
        }
        if let Some(authority) = &self.authority {
            builder = builder.authority(authority);
        }
        if self.no_tls {
            builder = builder.no_tls(true);
        }
        if let Some(ca) = &self.tls_ca_cert {
            builder = builder.tls_ca_cert(ca);
        }
        if let Some(name) = &self.tls_server_name {
            builder = builder.tls_server_name(name);
        }
        if let Some(watchdog) = self.watchdog {
            builder = builder.watchdog(watchdog);
        }
        Ok(builder)
    }

    /// The token the command line gives: `--token`, or read from stdin for `--token-file -`
    /// (a file path is left to the SDK, which reads it).
    pub fn token(&self) -> anyhow::Result<Option<String>> {
        if let Some(token) = &self.token {
            return Ok(Some(token.clone()));
        }
        match &self.token_file {
            Some(path) if path.as_os_str() == "-" => {
                let mut token = String::new();
                std::io::stdin()
                    .read_line(&mut token)
                    .context("cannot read the token from stdin (--token-file -)")?;
                Ok(Some(token.trim().to_owned()))
            }
            _ => Ok(None),
        }
    }
}

/// `--watchdog SECS`, `--timeout SECS`: a positive number of seconds (what
/// `Duration::from_secs_f64` takes without panicking).
fn positive_seconds(text: &str) -> Result<std::time::Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(seconds.is_finite() && seconds > 0.0 && seconds < 1e9) {
        return Err(format!("{text} is not a positive number of seconds"));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}
