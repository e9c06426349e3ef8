//! Reading what the relay stored, as a worker in another language would: straight from
//! JetStream.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use futures_util::StreamExt;
use tokio::time::timeout;

use super::nats::NatsServer;

/// One stored event as a worker sees it.
#[derive(Debug)]
pub struct Stored {
    pub subject: String,
    pub headers: HashMap<String, String>,
    pub payload: String,
}

/// Every event the stream holds under `filter`, in order.
pub async fn stored(nats: &NatsServer, stream: &str, filter: &str) -> Vec<Stored> {
    let client = async_nats::connect(nats.url()).await.expect("NATS answers");
    let context = jetstream::new(client);
    let stream = context
        .get_stream(stream)
        .await
        .expect("the relay made the stream");
    let expected = stream.get_info().await.expect("stream info").state.messages;
    let consumer = stream
        .create_consumer(consumer::pull::Config {
            filter_subject: filter.to_string(),
            ack_policy: consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .expect("a consumer");
    let mut messages = consumer.messages().await.expect("messages");
    let mut all = Vec::new();
    // Everything is there already: a pause of half a second means the end.
    while let Ok(Some(message)) = timeout(Duration::from_millis(500), messages.next()).await {
        let message = message.expect("a message");
        let headers = message
            .headers
            .iter()
            .flat_map(|headers| headers.iter())
            .map(|(name, values)| (name.to_string(), values[0].as_str().to_string()))
            .collect();
        all.push(Stored {
            subject: message.subject.to_string(),
            headers,
            payload: String::from_utf8_lossy(&message.payload).into_owned(),
        });
        assert!(
            all.len() as u64 <= expected,
            "more messages than the stream holds"
        );
    }
    all
}
