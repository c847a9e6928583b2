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
//! let c = providers_setup::connect(&sel.provider, &sel.settings, sel.catalog.clone(), &sel.model).await?;
//! // c.notices: how the model was resolved; c.model: the id to send.
//! let request = Request { model: c.model, max_tokens: sel.max_tokens(4096), temperature: sel.temperature(), .. };
//! ```
//!
//! Nothing here prints but [`connect_selection`]'s notices; secrets are never read into a value that is shown (credentials are
//! described as "… is set", never by value).

use std::sync::Arc;

use anyhow::{Result, bail};
use llm::bedrock::routing::{self, RouterFamily};
use llm::catalog::Catalog;
use llm::provider::Suggesting;
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
    if flags.routing.is_some() && provider != llm::bedrock::SPEC.name {
        bail!("--routing applies to --provider bedrock only (the provider is {provider})");
    }
    let mut settings = effective.providers[&provider].clone();
    let Some(model) = model_of(&provider, &settings) else {
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

/// The model a command uses: `model`, or with Bedrock's `routing` the family's default prompt
/// router (as `default-prompt-router/<id>`, completed to an ARN by [`connect`]). Routing wins
/// over a model from the environment or the file; `--model` wins over `routing` from the file
/// (`--model` and `--routing` together are refused by the command line).
pub fn model_of(provider: &str, settings: &ProviderEffective) -> Option<String> {
    let model = settings.get("model").filter(|m| m.value.is_some());
    let routing = (provider == llm::bedrock::SPEC.name)
        .then(|| settings.str("routing"))
        .flatten()
        .and_then(RouterFamily::parse);
    match (model, routing) {
        (Some(m), _) if matches!(m.source, Source::Flag { .. }) => m.as_str().map(str::to_string),
        (_, Some(family)) => Some(format!("default-prompt-router/{}", family.router_id())),
        (m, None) => m.and_then(Setting::as_str).map(str::to_string),
    }
}

/// A provider ready for calls, and the model id to send.
pub struct Connected {
    /// The provider, its "model not found" errors naming close model names.
    pub provider: Box<dyn Provider>,
    /// The id to send: the catalog's resolution of what the user typed.
    pub model: String,
    /// One line for each way `model` differs from what was typed (cli prints them on stderr;
    /// `generate` records them in the report's run notes).
    pub notices: Vec<String>,
    /// The provider turns what was typed into [`Connected::model`] by itself (a catalog alias):
    /// a chat session can keep what the user typed, which reads better and re-resolves in
    /// another region.
    pub typed_resolves_alike: bool,
    pub described: Described,
}

/// Build provider `name` for `model`, resolving the model through the catalog (aliases, the
/// plan's invented ids, Bedrock's inference profiles for models without on-demand throughput)
/// and, for a router without region and account, completing its ARN (the account from
/// `providers.bedrock.aws_account_id`, else STS `GetCallerIdentity`).
pub async fn connect(
    name: &str,
    settings: &ProviderEffective,
    catalog: Arc<Catalog>,
    model: &str,
) -> Result<Connected, LlmError> {
    let mut described = Described::default();
    let inner =
        build_described(name, settings, catalog.clone(), Some(model), &mut described).await?;
    let region = described.region.clone();
    let (sent, notices) = match routing::router_resource(model) {
        Some(resource) if name == llm::bedrock::SPEC.name => {
            let region = region.clone().unwrap_or_default();
            let (account, from) = match settings.str("aws_account_id") {
                Some(a) => (a.to_string(), "providers.bedrock.aws_account_id"),
                None => {
                    let options = llm::bedrock::setup::options(&settings.values())?;
                    (
                        routing::caller_account(&options).await?,
                        "STS GetCallerIdentity",
                    )
                }
            };
            let arn = routing::router_arn(&region, &account, resource);
            let mut notices = vec![format!(
                "routing: the prompt router `{arn}` (account from {from}) chooses the model of each call; cost follows the model it invoked"
            )];
            let family = RouterFamily::NAMES
                .iter()
                .filter_map(|n| RouterFamily::parse(n))
                .find(|f| resource.ends_with(f.router_id()));
            if let Some(f) = family.filter(|f| !f.regions().contains(&region.as_str())) {
                notices.push(format!(
                    "routing: AWS does not list {region} among the regions of the `{}` router ({}); the call may be refused",
                    f.router_id(),
                    f.regions().join(", ")
                ));
            }
            (arn, notices)
        }
        _ => {
            let r = catalog.resolve_explained(name, model, region.as_deref());
            (r.sent, r.notices)
        }
    };
    if sent != model {
        described.model_sent = Some(sent.clone());
    }
    let by_itself = if name == llm::bedrock::SPEC.name {
        catalog.resolve_bedrock(model, region.as_deref().unwrap_or_default())
    } else {
        catalog.resolve(name, model)
    };
    let typed_resolves_alike = by_itself == sent;
    Ok(Connected {
        typed_resolves_alike,
        provider: Box::new(Suggesting { inner, catalog }),
        model: sent,
        notices,
        described,
    })
}

/// [`connect`] for a command's [`Selection`], printing the notices on stderr; `doing` names
/// what failed ("setting up bedrock (model …)").
pub async fn connect_selection(sel: &Selection, doing: String) -> Result<Connected> {
    let c = connect(
        &sel.provider,
        &sel.settings,
        sel.catalog.clone(),
        &sel.model,
    )
    .await
    .map_err(|e| anyhow::Error::new(e).context(doing))?;
    for n in &c.notices {
        eprintln!("{} {n}", crate::term::note_label());
    }
    Ok(c)
}

fn source_name(source: &Source, flag: &str) -> String {
    match source {
        Source::Flag { .. } => flag.to_string(),
        Source::Env { var } => format!("${var}"),
        Source::File { path } => format!("default_provider in {}", path.display()),
        Source::Default | Source::Unset => "provider".into(),
    }
}

/// Put the Bedrock-only flags into the settings map (source: flag), so `build_described` reads
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

/// Build the provider `name` from its effective settings, describing the endpoint, region and credentials into `described`
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
