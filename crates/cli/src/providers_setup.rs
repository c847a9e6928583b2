//! Choosing and constructing a model provider from the merged settings — the one place every
//! command that talks to a model (`providers check`, `generate`, `chat`) goes through, so a flag,
//! an environment variable or a config key means the same thing everywhere. What each provider
//! takes and how it is built is its own declaration in [`llm::registry`]; the Bedrock-only flags
//! of the command line are put into its settings here.
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
use llm::catalog::Catalog;
use llm::registry;
pub use llm::registry::Described;
use llm::{LlmError, Provider};

use crate::args::{BedrockArgs, Latency, RetryModeArg};
use crate::config::{self, Flags, ProviderEffective, Setting, Source};

/// The name that means "no model: the rule-based coach".
pub const OFFLINE: &str = "offline";

/// A provider and model chosen for a command, with the settings that apply to it.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The name of a provider of the registry ([`llm::registry::PROVIDERS`]).
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
    if registry::find(&provider).is_none() {
        bail!(
            "{} {provider}: expected offline or one of {}",
            source_name(&effective.default_provider.source, "--provider"),
            registry::name_list()
        );
    }
    let mut settings = effective.providers[&provider].clone();
    let Some(model) = settings.str("model").map(str::to_string) else {
        bail!(
            "no model for {provider}: pass --model ID or set providers.{provider}.model in the config file (see `cycling-ai providers list --provider {provider}`)"
        );
    };
    if provider == llm::bedrock::SPEC.name {
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

/// Build the provider `name` from its effective settings.
pub async fn build_provider(
    name: &str,
    settings: &ProviderEffective,
    catalog: Arc<Catalog>,
) -> Result<Box<dyn Provider>, LlmError> {
    build_described(name, settings, catalog, None, &mut Described::default()).await
}

/// [`build_provider`], also describing the endpoint, region and credentials into `described`
/// (see [`llm::registry::ProviderSpec::build`]). `model`, when given, is resolved to the id
/// that will be sent.
pub async fn build_described(
    name: &str,
    settings: &ProviderEffective,
    catalog: Arc<Catalog>,
    model: Option<&str>,
    described: &mut Described,
) -> Result<Box<dyn Provider>, LlmError> {
    let Some(spec) = registry::find(name) else {
        return Err(LlmError::Config {
            provider: name.into(),
            message: format!(
                "unknown provider (expected one of {})",
                registry::name_list()
            ),
        });
    };
    spec.build(&settings.values(), catalog, model, described)
        .await
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
        s.settings.insert(
            "region".into(),
            Setting {
                value: Some("eu-west-1".into()),
                source: Source::Flag {
                    name: "--aws-region".into(),
                },
            },
        );
        let o = llm::bedrock::setup::options(&s.values()).unwrap();
        let g = o.guardrail.unwrap();
        assert_eq!((g.id.as_str(), g.version.as_str()), ("gr-1", "DRAFT"));
        assert!(o.latency_optimized);
        assert_eq!(
            o.retry,
            Some(llm::bedrock::RetrySettings {
                mode: llm::bedrock::RetryMode::Adaptive,
                max_attempts: Some(5)
            })
        );
        assert_eq!(o.region.as_deref(), Some("eu-west-1"));

        // Nothing given: the SDK's own resolution (env, profile) stays in charge.
        let o = llm::bedrock::setup::options(&empty().values()).unwrap();
        assert!(o.retry.is_none() && o.guardrail.is_none() && !o.latency_optimized);

        let mut s = empty();
        apply_bedrock_args(
            &mut s,
            &BedrockArgs {
                guardrail_version: Some("2".into()),
                ..BedrockArgs::default()
            },
        );
        let e = llm::bedrock::setup::options(&s.values())
            .unwrap_err()
            .to_string();
        assert!(e.contains("--guardrail-id"), "{e}");
    }
}
