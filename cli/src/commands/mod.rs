//! One module per group of commands; `run` hands each command to its module.

mod bench;
mod contacts;
mod events;
mod friendships;
mod login;
mod message;
mod mock;
mod relay;
mod rooms;
mod service;
mod tags;

use anyhow::Result;
use wechaty_client::relay::WorkerOptions;

use crate::args::{Cli, Command};
use crate::output::Output;

/// Runs the command the line asked for.
pub async fn run(cli: Cli) -> Result<()> {
    let out = Output {
        json: cli.global.json,
    };
    let global = &cli.global;
    let builder = || global.builder();
    match cli.command {
        Command::Version => service::version(builder()?, &out).await,
        Command::Ding { data } => service::ding(builder()?, data, &out).await,
        Command::Doctor => service::doctor(builder()?, &out).await,
        Command::Rooms { query } => rooms::rooms(builder()?, query, &out).await,
        Command::Room { query, verb } => rooms::room(builder()?, &query, verb, &out).await,
        Command::RoomCreate { topic, ids } => {
            rooms::room_create(builder()?, &topic, ids, &out).await
        }
        Command::Contacts { query } => contacts::contacts(builder()?, query, &out).await,
        Command::Contact { query, verb } => contacts::contact(builder()?, &query, verb, &out).await,
        Command::Friendship { action } => friendships::friendship(builder()?, action, &out).await,
        Command::Tags => tags::tags(builder()?, &out).await,
        Command::Tag { name, action } => tags::tag(builder()?, &name, action, &out).await,
        Command::Message { id, action } => message::message(builder()?, &id, action, &out).await,
        Command::Events {
            room,
            count,
            timeout,
            nats,
            consumer,
            stream,
        } => {
            let builder = match nats {
                Some(url) => {
                    let options = match consumer {
                        Some(group) => WorkerOptions::new(url, group),
                        None => WorkerOptions::alone(url),
                    };
                    builder()?.worker(options.stream(stream))
                }
                None => builder()?,
            };
            events::events(builder, room, count, timeout, &out).await
        }
        Command::Relay {
            nats,
            stream,
            metrics,
        } => relay::relay(builder()?, &nats, stream, metrics, &out).await,
        Command::Login { timeout } => login::login(builder()?, timeout, &out).await,
        Command::Bench {
            runs,
            only,
            quick,
            events,
            member_rooms,
            check,
        } => {
            let options = bench::BenchOptions {
                runs,
                only,
                quick,
                events,
                member_rooms,
                check,
            };
            bench::bench(global, options, &out).await
        }
        Command::BenchMemoryProbe { contacts } => bench::memory_probe(builder()?, contacts).await,
        Command::Mock {
            port,
            bind,
            tls,
            tls_cert,
            tls_key,
            scenario,
            bench_world,
            logged_out,
        } => {
            let options = mock::MockOptions {
                bind,
                port,
                tls,
                tls_files: tls_cert.zip(tls_key),
                scenario,
                bench_world,
                logged_out,
            };
            let token = match global.token()? {
                Some(token) => Some(token),
                None => match &global.token_file {
                    Some(path) => Some(read_token_file(path)?),
                    None => None,
                },
            };
            mock::mock(token.as_deref(), options).await
        }
    }
}

/// The token `mock` accepts, from `--token-file PATH`.
fn read_token_file(path: &std::path::Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        anyhow::anyhow!("cannot read the token file {}: {error}", path.display())
    })?;
    Ok(text.trim().to_owned())
}
