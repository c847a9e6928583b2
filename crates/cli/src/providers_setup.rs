//! Choosing and constructing a model provider from the merged settings — the one place every
//! command that talks to a model (`providers check`, `generate`, `chat`) goes through, so a flag,
//! an environment variable or a config key means the same thing everywhere.
//!
//! Typical use:
//!
//! ```ignore
//! let Some(sel) = providers_setup::select(&flags, &bedrock_args)? else {
//!     // no provider configured: use the rule-based coach
//! };
//! let provider = providers_setup::build_provider(&sel.provider, &sel.settings, sel.catalog.clone()).await?;
//! let request = Request { max_tokens: sel.max_tokens(4096), temperature: sel.temperature(), .. };
//! ```
//!
//! Nothing here prints; secrets are never read into a value that is shown (credentials are
//! described as "… is set", never by value).

use std::sync::Arc;

use anyhow::{Result, bail};
use llm::bedrock::{BedrockOptions, BedrockProvider, Guardrail, RetryMode, RetrySettings};
use llm::catalog::Catalog;
use llm::http::HttpSettings;
use llm::{LlmError, Provider};

use crate::args::{BedrockArgs, Latency, RetryModeArg};
use crate::config::{self, Flags, PROVIDERS, ProviderEffective, Setting, Source};

/// The name that means "no model: the rule-based coach".
pub const OFFLINE: &str = "offline";

/// A provider and model chosen for a command, with the settings that apply to it.
#[derive(Debug, Clone)]
pub struct Selection {
    /// One of [`config::PROVIDERS`].
    pub provider: String,
    /// The model id, profile, ARN or catalog alias as the user gave it.
    pub model: String,
    /// Where the provider choice came from (flag, env, file), for messages.
    pub provider_source: Source,
    /// The provider's effective settings, Bedrock flag options included.
    pub settings: ProviderEffective,
    /// The built-in catalog with the config file's overrides.
    pub catalog: Arc<Catalog>,
}

impl Selection {
    /// `providers.<p>.max_tokens` from the config file, else `default`.
    pub fn max_tokens(&self, default: u32) -> u32 {
        self.settings
            .get("max_tokens")
            .and_then(Setting::as_u32)
            .unwrap_or(default)
    }

    /// `providers.<p>.temperature` from the config file, if set.
    pub fn temperature(&self) -> Option<f32> {
        self.settings
            .get("temperature")
            .and_then(|s| s.value.as_ref())
            .and_then(serde_json::Value::as_f64)
            .map(|t| t as f32)
    }
}

/// Which provider and model to use: `flags.provider` > `CYCLING_AI_PROVIDER` > the config
/// file's `default_provider`. `Ok(None)` when none is configured or the choice is `offline`
/// (the caller then uses the rule-based coach and says so). An unknown provider or a provider
/// without a model is a one-line error naming the flag and the config key.
pub fn select(flags: &Flags, bedrock: &BedrockArgs) -> Result<Option<Selection>> {
    let loaded = config::load()?;
    let effective = config::resolve(&loaded, flags);
    let Some(provider) = effective.default_provider.as_str().map(str::to_string) else {
        return Ok(None);
    };
    if provider == OFFLINE {
        return Ok(None);
    }
    if !PROVIDERS.contains(&provider.as_str()) {
        bail!(
            "{} {provider}: expected offline or one of {}",
            source_name(&effective.default_provider.source, "--provider"),
            PROVIDERS.join(", ")
        );
    }
    let mut settings = effective.providers[&provider].clone();
    let Some(model) = settings.str("model").map(str::to_string) else {
        bail!(
            "no model for {provider}: pass --model ID or set providers.{provider}.model in the config file (see `cycling-ai providers list --provider {provider}`)"
        );
    };
    if provider == "bedrock" {
        apply_bedrock_args(&mut settings, bedrock);
    } else if bedrock.is_set() {
        bail!(
            "--guardrail-id, --guardrail-version, --latency, --retry-mode and --max-attempts apply to --provider bedrock only (the provider is {provider})"
        );
    }
    Ok(Some(Selection {
        provider,
        model,
        provider_source: effective.default_provider.source.clone(),
        settings,
        catalog: Arc::new(loaded.catalog()?),
    }))
}

fn source_name(source: &Source, flag: &str) -> String {
    match source {
        Source::Flag { .. } => flag.to_string(),
        Source::Env { var } => format!("${var}"),
        Source::File { path } => format!("default_provider in {}", path.display()),
        Source::Default | Source::Unset => "provider".into(),
    }
}

/// Put the Bedrock-only flags into the settings map (source: flag), so `build_provider` reads
/// every option from one place and `config show`-style output can name where each came from.
pub fn apply_bedrock_args(settings: &mut ProviderEffective, a: &BedrockArgs) {
    let mut put = |key: &str, flag: &str, value: Option<serde_json::Value>| {
        if let Some(value) = value {
            settings.settings.insert(
                key.to_string(),
                Setting {
                    value: Some(value),
                    source: Source::Flag { name: flag.into() },
                },
            );
        }
    };
    put(
        "guardrail_id",
        "--guardrail-id",
        a.guardrail_id.clone().map(Into::into),
    );
    put(
        "guardrail_version",
        "--guardrail-version",
        a.guardrail_version.clone().map(Into::into),
    );
    put(
        "latency",
        "--latency",
        a.latency.map(|l| {
            match l {
                Latency::Optimized => "optimized",
                Latency::Standard => "standard",
            }
            .into()
        }),
    );
    put(
        "retry_mode",
        "--retry-mode",
        a.retry_mode.map(|m| {
            match m {
                RetryModeArg::Standard => "standard",
                RetryModeArg::Adaptive => "adaptive",
            }
            .into()
        }),
    );
    put(
        "max_attempts",
        "--max-attempts",
        a.max_attempts.map(Into::into),
    );
}

/// What was found while building a provider, for people: never a secret's value.
#[derive(Debug, Clone, Default)]
pub struct Described {
    /// The base URL or endpoint the calls go to.
    pub endpoint: String,
    /// Bedrock's region.
    pub region: Option<String>,
    /// One line per credential source found (or missing).
    pub credentials: Vec<String>,
    /// The model id that will be sent for the user's model (Bedrock aliases → profiles).
    pub model_sent: Option<String>,
}

/// Build the provider `name` from its effective settings.
pub async fn build_provider(
    name: &str,
    settings: &ProviderEffective,
    catalog: Arc<Catalog>,
) -> Result<Box<dyn Provider>, LlmError> {
    build_described(name, settings, catalog, None, &mut Described::default()).await
}

/// [`build_provider`], also describing the endpoint, region and credentials into `described`
/// (filled as far as it got, also on error). `model`, when given, is resolved to the id that
/// will be sent. Without any credential the call could only fail, so that is an
/// `Authentication` error before any request.
pub async fn build_described(
    name: &str,
    s: &ProviderEffective,
    catalog: Arc<Catalog>,
    model: Option<&str>,
    described: &mut Described,
) -> Result<Box<dyn Provider>, LlmError> {
    let var = |v: &str| std::env::var(v).ok().filter(|x| !x.trim().is_empty());
    let no_key = |vars: &str| LlmError::Authentication {
        provider: name.into(),
        message: format!("no API key: set {vars}"),
    };
    let http = HttpSettings::default();
    match name {
        "bedrock" => {
            let region = s.str("region").map(str::to_string);
            let profile = s.str("profile").map(str::to_string);
            let (found, chain_ok) = bedrock_credentials(region.clone(), profile.clone()).await;
            described.credentials = found;
            if !chain_ok && var("AWS_BEARER_TOKEN_BEDROCK").is_none() {
                return Err(LlmError::Authentication {
                    provider: name.into(),
                    message: "the AWS credential chain found no credentials and AWS_BEARER_TOKEN_BEDROCK is not set".into(),
                });
            }
            let options = bedrock_options(s, region, profile)?;
            let b = BedrockProvider::from_env(options, catalog).await?;
            described.region = Some(b.region().to_string());
            described.endpoint = s.str("endpoint_url").map_or_else(
                || format!("https://bedrock-runtime.{}.amazonaws.com", b.region()),
                str::to_string,
            );
            described.model_sent = model.map(|m| b.resolve_model(m));
            Ok(Box::new(b))
        }
        "anthropic" => {
            let base = s
                .str("base_url")
                .unwrap_or(llm::anthropic::DEFAULT_BASE_URL);
            described.endpoint = base.to_string();
            let key = var("ANTHROPIC_API_KEY");
            described.credentials = vec![key_found("ANTHROPIC_API_KEY", key.is_some())];
            let key = key.ok_or_else(|| no_key("ANTHROPIC_API_KEY"))?;
            Ok(Box::new(llm::anthropic::AnthropicProvider::new(
                key, base, http, catalog,
            )?))
        }
        "openai" => {
            let base = s.str("base_url").unwrap_or(llm::openai::DEFAULT_BASE_URL);
            described.endpoint = base.to_string();
            // No key is fine for OpenAI-compatible local servers; the API itself answers 401.
            let key = var("OPENAI_API_KEY");
            described.credentials = vec![key_found("OPENAI_API_KEY", key.is_some())];
            let options = llm::openai::OpenAiOptions {
                http,
                ..Default::default()
            };
            Ok(Box::new(llm::openai::OpenAiProvider::new(
                key, base, options, catalog,
            )?))
        }
        "gemini" => {
            let base = s.str("base_url").unwrap_or(llm::gemini::DEFAULT_BASE_URL);
            described.endpoint = base.to_string();
            let gemini = var("GEMINI_API_KEY");
            let google = var("GOOGLE_API_KEY");
            described.credentials = vec![
                key_found("GEMINI_API_KEY", gemini.is_some()),
                key_found("GOOGLE_API_KEY", google.is_some()),
            ];
            let key = gemini
                .or(google)
                .ok_or_else(|| no_key("GEMINI_API_KEY (or GOOGLE_API_KEY)"))?;
            Ok(Box::new(llm::gemini::GeminiProvider::new(
                key, base, http, catalog,
            )?))
        }
        "ollama" => {
            let host = s.str("host").unwrap_or(llm::ollama::DEFAULT_HOST);
            described.credentials = vec!["none needed (local server)".into()];
            let options = llm::ollama::OllamaOptions {
                http,
                num_ctx: s.get("num_ctx").and_then(Setting::as_u32),
            };
            let o = llm::ollama::OllamaProvider::new(host, options, catalog)?;
            described.endpoint = o.host().to_string();
            Ok(Box::new(o))
        }
        other => Err(LlmError::Config {
            provider: other.into(),
            message: format!(
                "unknown provider (expected one of {})",
                PROVIDERS.join(", ")
            ),
        }),
    }
}

/// Bedrock options from the settings map (flags put there by [`apply_bedrock_args`]).
fn bedrock_options(
    s: &ProviderEffective,
    region: Option<String>,
    profile: Option<String>,
) -> Result<BedrockOptions, LlmError> {
    let config_err = |message: String| LlmError::Config {
        provider: "bedrock".into(),
        message,
    };
    let guardrail = match (s.str("guardrail_id"), s.str("guardrail_version")) {
        (Some(id), version) => Some(Guardrail {
            id: id.to_string(),
            // A guardrail always has a working draft; numbered versions must be asked for.
            version: version.unwrap_or("DRAFT").to_string(),
            trace: false,
        }),
        (None, Some(_)) => {
            return Err(config_err(
                "--guardrail-version needs --guardrail-id".into(),
            ));
        }
        (None, None) => None,
    };
    let max_attempts = s.get("max_attempts").and_then(Setting::as_u32);
    let retry = match (s.str("retry_mode"), max_attempts) {
        (None, None) => None,
        (mode, max_attempts) => Some(RetrySettings {
            mode: if mode == Some("adaptive") {
                RetryMode::Adaptive
            } else {
                RetryMode::Standard
            },
            max_attempts,
        }),
    };
    Ok(BedrockOptions {
        region,
        profile,
        retry,
        operation_timeout: None,
        guardrail,
        latency_optimized: s.str("latency") == Some("optimized"),
    })
}

fn key_found(var: &str, set: bool) -> String {
    format!("{var} {}", if set { "is set" } else { "is not set" })
}

/// What the AWS credential chain finds, described without any key material, and whether it
/// resolved any credentials.
async fn bedrock_credentials(
    region: Option<String>,
    profile: Option<String>,
) -> (Vec<String>, bool) {
    use aws_sdk_bedrockruntime::config::ProvideCredentials;
    let set = |v: &str| std::env::var(v).is_ok_and(|x| !x.trim().is_empty());
    let mut out = Vec::new();
    if set("AWS_BEARER_TOKEN_BEDROCK") {
        out.push("AWS_BEARER_TOKEN_BEDROCK is set (Bedrock API key, used instead of SigV4)".into());
    }
    if set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY") {
        out.push(format!(
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set{}",
            if set("AWS_SESSION_TOKEN") {
                " (with AWS_SESSION_TOKEN)"
            } else {
                ""
            }
        ));
    }
    if let Some(p) = &profile {
        out.push(format!("AWS profile `{p}`"));
    }
    if set("AWS_WEB_IDENTITY_TOKEN_FILE") {
        out.push("AWS_WEB_IDENTITY_TOKEN_FILE is set (web identity)".into());
    }
    if set("AWS_CONTAINER_CREDENTIALS_FULL_URI") || set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        out.push("container credentials endpoint is set".into());
    }
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r));
    }
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    let sdk = loader.load().await;
    let (resolved, ok) = match sdk.credentials_provider() {
        None => (
            "the AWS credential chain is not configured".to_string(),
            false,
        ),
        Some(chain) => match chain.provide_credentials().await {
            Ok(c) => (
                format!(
                    "the AWS credential chain resolved {} credentials{}",
                    if c.session_token().is_some() {
                        "temporary"
                    } else {
                        "long-term"
                    },
                    c.expiry()
                        .map(|t| format!(
                            " (expire {})",
                            jiff::Timestamp::try_from(t)
                                .map(|t| t.to_string())
                                .unwrap_or_default()
                        ))
                        .unwrap_or_default()
                ),
                true,
            ),
            Err(e) => (format!("the AWS credential chain found none ({e})"), false),
        },
    };
    out.push(resolved);
    (out, ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn empty() -> ProviderEffective {
        ProviderEffective {
            settings: BTreeMap::new(),
            credentials: BTreeMap::new(),
        }
    }

    #[test]
    fn bedrock_flags_become_sdk_options() {
        let mut s = empty();
        apply_bedrock_args(
            &mut s,
            &BedrockArgs {
                guardrail_id: Some("gr-1".into()),
                guardrail_version: None,
                latency: Some(Latency::Optimized),
                retry_mode: Some(RetryModeArg::Adaptive),
                max_attempts: Some(5),
            },
        );
        assert_eq!(
            s.get("max_attempts").unwrap().source,
            Source::Flag {
                name: "--max-attempts".into()
            }
        );
        let o = bedrock_options(&s, Some("eu-west-1".into()), None).unwrap();
        let g = o.guardrail.unwrap();
        assert_eq!((g.id.as_str(), g.version.as_str()), ("gr-1", "DRAFT"));
        assert!(o.latency_optimized);
        assert_eq!(
            o.retry,
            Some(RetrySettings {
                mode: RetryMode::Adaptive,
                max_attempts: Some(5)
            })
        );
        assert_eq!(o.region.as_deref(), Some("eu-west-1"));

        // Nothing given: the SDK's own resolution (env, profile) stays in charge.
        let o = bedrock_options(&empty(), None, None).unwrap();
        assert!(o.retry.is_none() && o.guardrail.is_none() && !o.latency_optimized);

        let mut s = empty();
        apply_bedrock_args(
            &mut s,
            &BedrockArgs {
                guardrail_version: Some("2".into()),
                ..BedrockArgs::default()
            },
        );
        let e = bedrock_options(&s, None, None).unwrap_err().to_string();
        assert!(e.contains("--guardrail-id"), "{e}");
    }
}
