//! `wechaty`: drive a Wechaty puppet service from the shell, serve the mock one, diagnose a
//! connection, run the benchmarks.
//!
//! The contract (options, `--json` lines, exit codes) is in `shared/cli.md`; this binary uses
//! only the SDK's public API. `args.rs` is the command line, `commands/` one module per group
//! of commands, `json.rs` and `output.rs` what they print, `hints.rs` the flags that go with
//! the SDK's messages.

mod args;
mod commands;
mod hints;
mod json;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
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
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: the SDK's message names the variable or method, the hint the flag.
            // Escaped: the message may quote the service.
            let message = format!("{error:#}");
            match hints::for_error(&error) {
                Some(flags) => eprintln!("error: {} {flags}", output::escaped(&message)),
                None => eprintln!("error: {}", output::escaped(&message)),
            }
            ExitCode::FAILURE
        }
    }
}
