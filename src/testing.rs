//! Testing a bot without a WeChat account: run a [`Scenario`] against it.
//!
//! The mock service serves the scenario's world; your bot connects to it like to any service;
//! the timeline plays once the bot's Event stream is open; then every expectation must be met
//! within its time.
//!
//! ```no_run
//! use wechaty_client::mock::Scenario;
//! use wechaty_client::testing::ScenarioRun;
//!
//! # async fn my_bot(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> { Ok(()) }
//! #[tokio::test]
//! async fn my_bot_answers_ding() -> wechaty_client::Result<()> {
//!     let scenario = Scenario::from_file("scenarios/room_bot.json")?;
//!     let run = ScenarioRun::start(scenario).await?;
//!     let bot = run.bot_builder().build().await?;
//!     tokio::spawn(my_bot(bot));            // your bot, as in production
//!     run.play_and_verify().await           // Err(..) lists what the bot did not do
//! }
//! ```

use std::time::Duration;

use crate::config::WechatyBuilder;
use crate::error::{Error, Result};
use crate::mock::{MockPuppetService, MockServer, Scenario};

/// How long to wait for the bot to open its Event stream before playing.
const CONNECT_WAIT: Duration = Duration::from_secs(10);
/// A moment for the bot to take in the replay (login, ready) before the timeline starts.
const SETTLE: Duration = Duration::from_millis(200);

/// A scenario served by a mock service, ready for a bot.
#[derive(Debug)]
pub struct ScenarioRun {
    scenario: Scenario,
    server: MockServer,
}

impl ScenarioRun {
    /// Serves the scenario's world on a free port.
    pub async fn start(scenario: Scenario) -> Result<Self> {
        let server = MockPuppetService::builder()
            .world(scenario.world())
            .serve()
            .await?;
        Ok(Self { scenario, server })
    }

    /// The mock service (to inspect what the bot did: `server().world().sent_messages()`).
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// A builder pointed at the mock: give your bot what it builds.
    pub fn bot_builder(&self) -> WechatyBuilder {
        self.server.bot_builder()
    }

    /// Waits for the bot to connect, plays the timeline, then checks every expectation.
    pub async fn play_and_verify(&self) -> Result<()> {
        let world = self.server.world();
        let waiting = async {
            while !world.has_event_stream() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(CONNECT_WAIT, waiting)
            .await
            .map_err(|_| Error::ScenarioFailed(vec![format!(
                "no bot opened the Event stream within {CONNECT_WAIT:?}: did it call start() or connect()?"
            )]))?;
        tokio::time::sleep(SETTLE).await;
        let started = tokio::time::Instant::now();
        self.scenario.play(world).await;
        let unmet = self.scenario.unmet(world, started).await;
        if unmet.is_empty() {
            Ok(())
        } else {
            Err(Error::ScenarioFailed(unmet))
        }
    }
}
