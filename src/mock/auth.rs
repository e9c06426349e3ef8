//! The official server's token check, as a tower layer in front of `wechaty.Puppet` (the health
//! service stays open, as upstream).
//!
//! Like the official server it reads `authorization: Wechaty <token>`, and when that header is
//! missing it takes the token from `:authority`, the way old plaintext clients send it. Its
//! rejection details quote what was presented, as upstream does, so client tests can prove the
//! token never leaks from there.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower::{Layer, Service};

const PUPPET_PATH: &str = "/wechaty.Puppet/";

#[derive(Clone)]
pub(crate) struct TokenCheckLayer {
    token: Arc<str>,
}

impl TokenCheckLayer {
    pub(crate) fn new(token: &str) -> Self {
        Self {
            token: token.into(),
        }
    }
}

impl<S> Layer<S> for TokenCheckLayer {
    type Service = TokenCheck<S>;

    fn layer(&self, inner: S) -> TokenCheck<S> {
        TokenCheck {
            inner,
            token: Arc::clone(&self.token),
        }
    }
}

#[derive(Clone)]
pub(crate) struct TokenCheck<S> {
    inner: S,
    token: Arc<str>,
}

impl<S, B, R> Service<http::Request<B>> for TokenCheck<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path().starts_with(PUPPET_PATH) {
            if let Err(status) = check(&request, &self.token) {
                return Box::pin(async move { Ok(status.into_http()) });
            }
        }
        Box::pin(self.inner.call(request))
    }
}

fn check<B>(request: &http::Request<B>, token: &str) -> Result<(), tonic::Status> {
    let header = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let presented = header.unwrap_or_else(|| {
        let authority = request.uri().authority().map_or("", |a| a.as_str());
        format!("Wechaty {authority}")
    });
    let (kind, value) = presented
        .split_once(' ')
        .unwrap_or((presented.as_str(), ""));
    if kind != "Wechaty" {
        return Err(tonic::Status::unauthenticated(format!(
            "Invalid authorization type: {kind:?}"
        )));
    }
    if value != token {
        return Err(tonic::Status::unauthenticated(format!(
            "Invalid Wechaty TOKEN {value:?}"
        )));
    }
    Ok(())
}
