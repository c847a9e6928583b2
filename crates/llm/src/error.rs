//! Typed errors shared by every provider.

use std::time::Duration;

/// Why a model call failed. Each variant carries the provider's own message so the user sees
/// exactly what the service said.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// No usable credentials, or the service rejected them.
    #[error("{provider}: authentication failed: {message}")]
    Authentication { provider: String, message: String },

    /// Credentials are valid but lack permission for this call.
    #[error("{provider}: access denied: {message}")]
    PermissionDenied { provider: String, message: String },

    /// The model id does not exist (in this region / for this account).
    #[error("{provider}: model `{model}` not found: {message}")]
    ModelNotFound {
        provider: String,
        model: String,
        message: String,
    },

    /// The model exists but access to it has not been granted to this account.
    #[error("{provider}: model `{model}` is not enabled for this account: {message}")]
    ModelNotEnabled {
        provider: String,
        model: String,
        message: String,
    },

    /// The base model id cannot be invoked on demand; an inference profile id must be used.
    #[error(
        "{provider}: model `{model}` cannot be invoked on demand in this region; use the inference profile `{profile}` instead (service said: {message})"
    )]
    NeedsInferenceProfile {
        provider: String,
        model: String,
        profile: String,
        message: String,
    },

    /// The request was rejected as malformed.
    #[error("{provider}: request rejected: {message}")]
    Validation { provider: String, message: String },

    /// Too many requests or tokens; `retry_after` when the service said how long to wait.
    #[error("{provider}: rate limited{}: {message}", retry_after.map(|d| format!(" (retry after {:.1} s)", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        provider: String,
        retry_after: Option<Duration>,
        message: String,
    },

    /// The service or model is temporarily unable to serve the call.
    #[error("{provider}: service unavailable or overloaded: {message}")]
    Unavailable { provider: String, message: String },

    /// The call (or the model's processing) timed out.
    #[error("{provider}: timed out: {message}")]
    Timeout { provider: String, message: String },

    /// The prompt does not fit the model's context window.
    #[error("{provider}: prompt too long for the model's context window: {message}")]
    ContextTooLong { provider: String, message: String },

    /// A streamed response failed after output had been produced. `partial_text` is everything
    /// the model had said until then.
    #[error("{provider}: stream broken after {} characters of output: {message}", partial_text.chars().count())]
    StreamBroken {
        provider: String,
        partial_text: String,
        message: String,
    },

    /// The model failed while producing its answer (e.g. Bedrock's ModelErrorException).
    #[error("{provider}: the model failed: {message}")]
    Model { provider: String, message: String },

    /// The connection failed or the response could not be read.
    #[error("{provider}: transport error: {message}")]
    Transport { provider: String, message: String },

    /// The provider could not be configured (no region, unreadable profile, bad option).
    #[error("{provider}: configuration error: {message}")]
    Config { provider: String, message: String },
}

impl LlmError {
    /// A short machine-readable name of the error class (used in logs and `--json` output).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Authentication { .. } => "authentication",
            Self::PermissionDenied { .. } => "permission_denied",
            Self::ModelNotFound { .. } => "model_not_found",
            Self::ModelNotEnabled { .. } => "model_not_enabled",
            Self::NeedsInferenceProfile { .. } => "needs_inference_profile",
            Self::Validation { .. } => "validation",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable { .. } => "unavailable",
            Self::Timeout { .. } => "timeout",
            Self::ContextTooLong { .. } => "context_too_long",
            Self::StreamBroken { .. } => "stream_broken",
            Self::Model { .. } => "model_error",
            Self::Transport { .. } => "transport",
            Self::Config { .. } => "config",
        }
    }

    /// Whether re-issuing the same call later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Unavailable { .. }
                | Self::Timeout { .. }
                | Self::Transport { .. }
        )
    }
}
