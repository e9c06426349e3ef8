//! What can go wrong running a benchmark.

/// A `Result` with [`BenchError`].
pub type Result<T, E = BenchError> = std::result::Result<T, E>;

/// Why a benchmark could not run, or why its figures cannot be trusted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The SDK failed a call it was measured on.
    #[error(transparent)]
    Sdk(#[from] wechaty_client::Error),
    /// The bare client's call failed. The server's text is left out for a rejected token:
    /// the official server quotes the token there.
    #[error("the bare client's {rpc} failed ({code:?}){}", if .message.is_empty() { String::new() } else { format!(": {}", .message) })]
    Bare {
        /// The RPC.
        rpc: &'static str,
        /// The gRPC status code.
        code: tonic::Code,
        /// The first line of the server's text.
        message: String,
    },
    /// The benchmark cannot run as asked, or its results do not add up; the message says why.
    #[error("{0}")]
    Failed(String),
}

impl BenchError {
    /// A failed call of the bare client.
    pub(crate) fn bare(rpc: &'static str, status: &tonic::Status) -> Self {
        let message = match status.code() {
            tonic::Code::Unauthenticated => String::new(),
            _ => status.message().lines().next().unwrap_or("").to_owned(),
        };
        Self::Bare {
            rpc,
            code: status.code(),
            message,
        }
    }
}
