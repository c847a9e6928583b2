//! Mapping of Bedrock / SDK errors to [`LlmError`] (bedrock.md §6).

use aws_sdk_bedrockruntime::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;

use crate::catalog::Catalog;
use crate::error::LlmError;

const P: &str = "bedrock";

/// What is needed to turn an error into advice.
pub struct ErrorContext<'a> {
    pub model: &'a str,
    pub region: &'a str,
    pub catalog: &'a Catalog,
}

/// Messages that mean "the prompt is too long" across Bedrock's model families.
fn is_context_too_long(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "too long",
        "context window",
        "context length",
        "too many input tokens",
        "maximum context",
        "input is too long",
    ]
    .iter()
    .any(|p| m.contains(p))
}

/// Classify a service error by its code (`x-amzn-ErrorType` / event exception type) and message.
pub fn classify(
    code: Option<&str>,
    message: &str,
    status: Option<u16>,
    ctx: &ErrorContext<'_>,
) -> LlmError {
    let msg = message.to_string();
    let p = P.to_string();
    // Codes are matched case-insensitively: HTTP errors use `ThrottlingException`, stream
    // exception events `throttlingException`.
    let code_lc = code.map(str::to_ascii_lowercase);
    match code_lc.as_deref() {
        Some("validationexception") => {
            if message.contains("on-demand throughput") {
                LlmError::NeedsInferenceProfile {
                    provider: p,
                    model: ctx.model.to_string(),
                    profile: ctx.catalog.suggest_profile(ctx.model, ctx.region),
                    message: msg,
                }
            } else if message.contains("model identifier is invalid") {
                LlmError::ModelNotFound {
                    provider: p,
                    model: ctx.model.to_string(),
                    message: msg,
                }
            } else if is_context_too_long(message) {
                LlmError::ContextTooLong {
                    provider: p,
                    message: msg,
                }
            } else {
                LlmError::Validation {
                    provider: p,
                    message: msg,
                }
            }
        }
        Some("accessdeniedexception") => {
            if message.contains("access to the model") {
                LlmError::ModelNotEnabled {
                    provider: p,
                    model: ctx.model.to_string(),
                    message: msg,
                }
            } else {
                LlmError::PermissionDenied {
                    provider: p,
                    message: msg,
                }
            }
        }
        Some(
            "unrecognizedclientexception"
            | "invalidsignatureexception"
            | "expiredtokenexception"
            | "incompletesignature"
            | "incompletesignatureexception"
            | "missingauthenticationtokenexception"
            | "missingauthenticationtoken",
        ) => LlmError::Authentication {
            provider: p,
            message: msg,
        },
        Some("resourcenotfoundexception") => LlmError::ModelNotFound {
            provider: p,
            model: ctx.model.to_string(),
            message: msg,
        },
        // A quota error is a 400 but means "slow down" (bedrock.md §6).
        Some("throttlingexception" | "servicequotaexceededexception") => LlmError::RateLimited {
            provider: p,
            retry_after: None,
            message: msg,
        },
        Some(
            "servicenotavailableexception"
            | "serviceunavailableexception"
            | "internalserverexception"
            | "modelnotreadyexception",
        ) => LlmError::Unavailable {
            provider: p,
            message: msg,
        },
        Some("modeltimeoutexception") => LlmError::Timeout {
            provider: p,
            message: msg,
        },
        Some("modelerrorexception" | "modelstreamerrorexception") => LlmError::Model {
            provider: p,
            message: msg,
        },
        _ => match status {
            Some(401) => LlmError::Authentication {
                provider: p,
                message: msg,
            },
            Some(403) => LlmError::PermissionDenied {
                provider: p,
                message: msg,
            },
            Some(404) => LlmError::ModelNotFound {
                provider: p,
                model: ctx.model.to_string(),
                message: msg,
            },
            Some(408) => LlmError::Timeout {
                provider: p,
                message: msg,
            },
            Some(429) => LlmError::RateLimited {
                provider: p,
                retry_after: None,
                message: msg,
            },
            Some(s) if s >= 500 => LlmError::Unavailable {
                provider: p,
                message: msg,
            },
            Some(_) => LlmError::Validation {
                provider: p,
                message: format!("{} ({msg})", code.unwrap_or("unknown error")),
            },
            None => LlmError::Transport {
                provider: p,
                message: format!("{}: {msg}", code.unwrap_or("unknown error")),
            },
        },
    }
}

/// Map an operation error (Converse or the start of ConverseStream).
pub fn from_sdk_error<E, R>(err: SdkError<E, R>, ctx: &ErrorContext<'_>) -> LlmError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let message = e
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| DisplayErrorContext(e).to_string());
            // The raw response's status is reachable only through the HttpResponse type, which
            // this generic function does not name; codes cover every modeled error.
            classify(e.code(), &message, None, ctx)
        }
        SdkError::TimeoutError(_) => LlmError::Timeout {
            provider: P.into(),
            message: DisplayErrorContext(&err).to_string(),
        },
        SdkError::ConstructionFailure(_)
        | SdkError::DispatchFailure(_)
        | SdkError::ResponseError(_) => {
            let text = DisplayErrorContext(&err).to_string();
            let lc = text.to_ascii_lowercase();
            if lc.contains("credential")
                || lc.contains("no identity")
                || lc.contains("identity resolver")
            {
                LlmError::Authentication {
                    provider: P.into(),
                    message: format!(
                        "no usable AWS credentials (checked env, profile/SSO, web identity, container and instance metadata; or set AWS_BEARER_TOKEN_BEDROCK): {text}"
                    ),
                }
            } else if matches!(err, SdkError::ConstructionFailure(_)) {
                LlmError::Config {
                    provider: P.into(),
                    message: text,
                }
            } else {
                LlmError::Transport {
                    provider: P.into(),
                    message: text,
                }
            }
        }
        _ => LlmError::Transport {
            provider: P.into(),
            message: DisplayErrorContext(&err).to_string(),
        },
    }
}

/// Map an error from the event stream. Modeled exception events arrive as `ServiceError` whose
/// `code()` is `None` (bedrock.md §5), so the variant is matched.
pub fn from_stream_error<R: std::fmt::Debug>(
    err: SdkError<ConverseStreamOutputError, R>,
    ctx: &ErrorContext<'_>,
) -> LlmError {
    if let SdkError::ServiceError(se) = &err {
        let e = se.err();
        let message = e.message().unwrap_or("").to_string();
        let code = match e {
            ConverseStreamOutputError::ThrottlingException(_) => Some("ThrottlingException"),
            ConverseStreamOutputError::ServiceUnavailableException(_) => {
                Some("ServiceUnavailableException")
            }
            ConverseStreamOutputError::InternalServerException(_) => {
                Some("InternalServerException")
            }
            ConverseStreamOutputError::ValidationException(_) => Some("ValidationException"),
            ConverseStreamOutputError::ModelStreamErrorException(_) => {
                Some("ModelStreamErrorException")
            }
            _ => e.code(),
        };
        return classify(code, &message, None, ctx);
    }
    from_sdk_error(err, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(c: &Catalog) -> ErrorContext<'_> {
        ErrorContext {
            model: "anthropic.claude-3-5-sonnet-20241022-v2:0",
            region: "us-east-1",
            catalog: c,
        }
    }

    #[test]
    fn on_demand_error_names_the_profile() {
        let c = Catalog::builtin();
        let e = classify(
            Some("ValidationException"),
            "Invocation of model ID anthropic.claude-3-5-sonnet-20241022-v2:0 with on-demand throughput isn\u{2019}t supported. Retry your request with the ID or ARN of an inference profile that contains this model.",
            Some(400),
            &ctx(&c),
        );
        match &e {
            LlmError::NeedsInferenceProfile { profile, .. } => {
                assert_eq!(profile, "us.anthropic.claude-3-5-sonnet-20241022-v2:0")
            }
            other => panic!("{other:?}"),
        }
        assert!(
            e.to_string().contains(
                "use the inference profile `us.anthropic.claude-3-5-sonnet-20241022-v2:0`"
            )
        );
    }

    #[test]
    fn codes_map_to_classes() {
        let c = Catalog::builtin();
        let k = |code: &str, msg: &str| classify(Some(code), msg, None, &ctx(&c)).kind();
        assert_eq!(
            k(
                "ValidationException",
                "The provided model identifier is invalid."
            ),
            "model_not_found"
        );
        assert_eq!(
            k(
                "ValidationException",
                "Input is too long for requested model."
            ),
            "context_too_long"
        );
        assert_eq!(
            k("ValidationException", "A conversation must alternate"),
            "validation"
        );
        assert_eq!(
            k(
                "AccessDeniedException",
                "You don't have access to the model with the specified model ID."
            ),
            "model_not_enabled"
        );
        assert_eq!(
            k(
                "AccessDeniedException",
                "User is not authorized to perform: bedrock:InvokeModel"
            ),
            "permission_denied"
        );
        assert_eq!(
            k(
                "UnrecognizedClientException",
                "The security token included in the request is invalid."
            ),
            "authentication"
        );
        assert_eq!(
            k("ResourceNotFoundException", "Model not found"),
            "model_not_found"
        );
        assert_eq!(
            k("ThrottlingException", "Too many requests"),
            "rate_limited"
        );
        assert_eq!(k("throttlingException", "Too many tokens"), "rate_limited");
        assert_eq!(k("ServiceQuotaExceededException", "quota"), "rate_limited");
        assert_eq!(
            k(
                "ServiceUnavailableException",
                "Bedrock is unable to process your request."
            ),
            "unavailable"
        );
        assert_eq!(k("ModelNotReadyException", "x"), "unavailable");
        assert_eq!(k("ModelTimeoutException", "x"), "timeout");
        assert_eq!(k("ModelErrorException", "x"), "model_error");
        assert_eq!(
            classify(None, "x", Some(503), &ctx(&c)).kind(),
            "unavailable"
        );
    }
}
