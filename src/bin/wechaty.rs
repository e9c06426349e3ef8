//! `wechaty`: drive a Wechaty puppet service from the shell, or serve the mock one.
//!
//! The contract (options, `--json` lines, exit codes) is in `shared/cli.md`; this binary uses
//! only the library's public API.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use serde_json::json;
use wechaty_client::mock::{MockPuppetService, MockTls, MockWorld, DEFAULT_TOKEN};
use wechaty_client::{Wechaty, WechatyBuilder, ENV_TOKEN};

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
    /// Serve the mock puppet service on 127.0.0.1 until interrupted
    Mock {
        /// Port to listen on (0: any free port)
        #[arg(long, default_value_t = 0)]
        port: u16,
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
        #[arg(long, value_name = "FILE")]
        scenario: Option<String>,
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
        Command::Mock {
            port,
            tls,
            tls_cert,
            tls_key,
            scenario,
        } => {
            if scenario.is_some() {
                bail!("`mock --scenario` is not supported by this version yet: the mock serves its demo world");
            }
            let tls = match (tls, tls_cert, tls_key) {
                (false, _, _) => None,
                (true, Some(cert), Some(key)) => Some(MockTls::from_files(&cert, &key)?),
                (true, _, _) => Some(MockTls::stock()),
            };
            serve_mock(&cli.global, port, tls).await?;
        }
    }
    Ok(())
}

/// The builder from the environment, overridden by the command line.
async fn connect(global: &Global) -> Result<Wechaty> {
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
    Ok(builder.build().await?)
}

async fn serve_mock(global: &Global, port: u16, tls: Option<MockTls>) -> Result<()> {
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
        .port(port)
        .world(MockWorld::demo());
    if let Some(tls) = tls {
        builder = builder.tls(tls);
    }
    let server = builder.serve().await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", server.endpoint())?;
    stdout.flush()?;
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    server.shutdown().await;
    Ok(())
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
