//! The model providers, each described once by its own module (`bedrock::SPEC`,
//! `anthropic::SPEC`, …) and listed here in [`PROVIDERS`]: its name, the environment variables of
//! its credentials and endpoint, the settings it takes (kind, environment variables, command-line
//! flag, default), what to tell someone who has not set it up or whose call failed, and how to
//! build it from resolved settings.
//!
//! Whatever iterates over providers — the CLI's config validation and merge, `providers list` and
//! `providers check`, chat's setup help, "expected one of …" messages, the interaction log's
//! secret scrubbing, the catalog's free local models — reads this list, so a new provider is one
//! module with its `SPEC` plus its catalog rows. "offline" (the rule-based coach) and "replay"
//! (answers from a recorded log) are not providers here: they take no settings and belong to the
//! commands that offer them.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

use crate::catalog::Catalog;
use crate::error::LlmError;
use crate::provider::Provider;
use crate::{anthropic, bedrock, gemini, ollama, openai};

/// Every provider, in the order messages list them.
pub static PROVIDERS: &[&ProviderSpec] = &[
    &bedrock::SPEC,
    &anthropic::SPEC,
    &openai::SPEC,
    &gemini::SPEC,
    &ollama::SPEC,
];

/// The provider called `name`.
pub fn find(name: &str) -> Option<&'static ProviderSpec> {
    PROVIDERS.iter().copied().find(|p| p.name == name)
}

/// The provider names, in [`PROVIDERS`] order.
pub fn names() -> impl Iterator<Item = &'static str> {
    PROVIDERS.iter().map(|p| p.name)
}

/// `bedrock, anthropic, openai, gemini, ollama`: the list "expected one of …" messages give.
pub fn name_list() -> String {
    names().collect::<Vec<_>>().join(", ")
}

/// Every variable that may hold a credential of some provider. The interaction log scrubs their
/// values: a variable that only locates a credential (a token file, a credentials endpoint) is
/// scrubbed as well, since hiding a harmless value costs nothing and leaking a secret would.
pub fn secret_env_vars() -> impl Iterator<Item = &'static str> {
    PROVIDERS
        .iter()
        .flat_map(|p| p.credential_vars.iter().copied())
}

/// One model provider, declared by its module.
#[derive(Debug)]
pub struct ProviderSpec {
    /// The name used on the command line, in the config file, the catalog and the log.
    pub name: &'static str,
    /// Runs models on the user's own machine: every model it serves costs $0 per token, listed
    /// in the catalog or not (a local model is never "price unknown").
    pub local: bool,
    /// The environment variables holding its credentials, in the order they are read. Whether
    /// each is set may be shown (`config show`, chat's setup help); a value never is.
    pub credential_vars: &'static [&'static str],
    /// Whether the first set variable of [`ProviderSpec::credential_vars`] is an API key it needs.
    pub key: KeyUse,
    /// Where the calls go (`base_url`, `host`, Bedrock's `endpoint_url`).
    pub endpoint: SettingSpec,
    /// The settings besides `model` and the endpoint, in the order messages list them.
    pub settings: &'static [SettingSpec],
    /// What chat prints for this provider when none is configured: what it needs to work.
    pub setup_hint: &'static str,
    /// The body of this provider's section in the example config file (`config init`): lines
    /// indented by four spaces, each ending in a newline.
    pub example: &'static str,
    /// What `providers check` says when a call fails.
    pub diagnosis: Diagnosis,
    /// Build the provider (see [`ProviderSpec::build`]).
    pub construct: Construct,
}

/// How a provider uses an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// No call can succeed without one.
    Required,
    /// The provider's own service needs one, a compatible server may not (OpenAI-compatible
    /// local servers): the provider decides from its endpoint.
    Optional,
    /// No API key: credentials come from elsewhere (the AWS chain) or are not needed (a local
    /// server).
    None,
}

/// One setting of a provider.
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    /// The key in the provider's settings and in its config file section.
    pub key: &'static str,
    pub kind: Kind,
    /// Accepted as `providers.<name>.<key>` in the config file (else only from the environment).
    pub in_file: bool,
    /// The command-line flag that sets it, over the environment and the file. The model's
    /// `--model` is not listed: it belongs to whichever provider is chosen.
    pub flag: Option<&'static str>,
    /// Environment variables that set it over the config file; the first one set wins.
    pub env: &'static [&'static str],
    /// The value when nothing sets it.
    pub default: Option<&'static str>,
}

/// A check of a text value: what is wrong with it, if anything.
pub type TextCheck = fn(&str) -> Result<(), String>;

/// What a setting holds, which is how the config file is read and checked.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Text, checked when there is a check.
    Text(Option<TextCheck>),
    /// A whole number of at least `min` and at most `max` (when bounded).
    Count { min: u32, max: Option<u32> },
    /// A sampling temperature from 0 to `max` (the provider's own range).
    Temperature { max: f64 },
}

impl SettingSpec {
    /// A setting of the config file that nothing else sets.
    pub const fn file(key: &'static str, kind: Kind) -> Self {
        Self {
            key,
            kind,
            in_file: true,
            flag: None,
            env: &[],
            default: None,
        }
    }

    /// The same, also set by `env` (first set wins) over the file.
    pub const fn env(self, env: &'static [&'static str]) -> Self {
        Self { env, ..self }
    }

    /// The same, also set by the command-line `flag` over everything else.
    pub const fn flag(self, flag: &'static str) -> Self {
        Self {
            flag: Some(flag),
            ..self
        }
    }

    /// The same, with `default` when nothing sets it.
    pub const fn default(self, default: &'static str) -> Self {
        Self {
            default: Some(default),
            ..self
        }
    }

    /// The same, but not accepted in the config file.
    pub const fn env_only(self) -> Self {
        Self {
            in_file: false,
            ..self
        }
    }

    /// The value from the first set variable of [`SettingSpec::env`], else the default.
    fn env_or_default(&self) -> Option<String> {
        self.env
            .iter()
            .find_map(|v| env_value(v))
            .or_else(|| self.default.map(str::to_string))
    }
}

/// The largest `max_tokens` a config file may ask for: above every current model's output limit.
pub const MAX_TOKENS_LIMIT: u32 = 128_000;

/// The model: a catalog alias, a model id, an inference profile or an ARN.
pub const MODEL: SettingSpec = SettingSpec::file("model", Kind::Text(None));

/// The output token budget of a call.
pub const MAX_TOKENS: SettingSpec = SettingSpec::file(
    "max_tokens",
    Kind::Count {
        min: 1,
        max: Some(MAX_TOKENS_LIMIT),
    },
);

/// The sampling temperature, from 0 to the provider's `max`.
pub const fn temperature(max: f64) -> SettingSpec {
    SettingSpec::file("temperature", Kind::Temperature { max })
}

/// An HTTP provider's `base_url`: set by `env`, else the file, else `default`.
pub const fn base_url(env: &'static [&'static str], default: &'static str) -> SettingSpec {
    SettingSpec::file("base_url", Kind::Text(Some(http_url)))
        .env(env)
        .default(default)
}

fn http_url(url: &str) -> Result<(), String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(format!("`{url}` is not an http:// or https:// URL"))
    }
}

/// A provider's own reading of a failed call, given the error, the region the call went to (or
/// words for it) and the catalog; `None` leaves the text every provider shares.
pub type SpecificDiagnosis = fn(&LlmError, &str, &Catalog) -> Option<String>;

/// What `providers check` says about a failed call, beyond what every provider shares.
#[derive(Debug, Clone, Copy)]
pub struct Diagnosis {
    /// No credentials, or the service rejected them: what to set.
    pub authentication: &'static str,
    /// Failures whose meaning depends on the provider (Bedrock: IAM policies and regions).
    pub specific: Option<SpecificDiagnosis>,
}

/// The resolved value of each setting of one provider, by key: what the caller merged from
/// flags, environment, config file and defaults. A missing key is unset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings(BTreeMap<String, Value>);

impl Settings {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    pub fn u32(&self, key: &str) -> Option<u32> {
        self.get(key)
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
    }
}

impl FromIterator<(String, Value)> for Settings {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
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

/// A provider being built.
pub type BuildFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Box<dyn Provider>, LlmError>> + Send + 'a>>;

/// A provider's constructor: from its settings, the catalog and (when given) the model to
/// resolve, describing what it finds as it goes (see [`ProviderSpec::build`]).
pub type Construct =
    for<'a> fn(&'a Settings, Arc<Catalog>, Option<&'a str>, &'a mut Described) -> BuildFuture<'a>;

/// A provider built from its resolved settings without waiting for anything (every HTTP
/// provider); [`construct`] makes its registry constructor.
pub trait FromSettings: Provider + Sized + 'static {
    /// What the settings do not say (HTTP timeouts and retries, …); the registry builds with the
    /// default.
    type Options: Default;

    /// Build from `settings`, describing the endpoint and credentials into `described` as far
    /// as it gets.
    fn from_settings(
        settings: &Settings,
        options: Self::Options,
        catalog: Arc<Catalog>,
        described: &mut Described,
    ) -> Result<Self, LlmError>;
}

/// The [`Construct`] of a [`FromSettings`] provider, with default options.
pub fn construct<'a, P: FromSettings>(
    settings: &'a Settings,
    catalog: Arc<Catalog>,
    _model: Option<&'a str>,
    described: &'a mut Described,
) -> BuildFuture<'a> {
    let built = P::from_settings(settings, P::Options::default(), catalog, described);
    Box::pin(std::future::ready(
        built.map(|p| Box::new(p) as Box<dyn Provider>),
    ))
}

impl ProviderSpec {
    /// Every setting: `model`, the endpoint, then [`ProviderSpec::settings`].
    pub fn all_settings(&self) -> impl Iterator<Item = &SettingSpec> {
        [&MODEL, &self.endpoint].into_iter().chain(self.settings)
    }

    /// The setting `key`.
    pub fn setting(&self, key: &str) -> Option<&SettingSpec> {
        self.all_settings().find(|s| s.key == key)
    }

    /// The keys of `providers.<name>` in the config file.
    pub fn file_keys(&self) -> impl Iterator<Item = &'static str> {
        self.all_settings().filter(|s| s.in_file).map(|s| s.key)
    }

    /// The highest temperature the provider takes, if its temperature can be set.
    pub fn max_temperature(&self) -> Option<f64> {
        self.all_settings().find_map(|s| match s.kind {
            Kind::Temperature { max } => Some(max),
            _ => None,
        })
    }

    /// The settings from the environment alone (each setting's variables, else its default),
    /// for building a provider without a config layer.
    pub fn env_settings(&self) -> Settings {
        self.all_settings()
            .filter_map(|s| Some((s.key.to_string(), Value::String(s.env_or_default()?))))
            .collect()
    }

    /// `P` from the environment alone ([`ProviderSpec::env_settings`]), for use without a
    /// config layer.
    pub fn env_provider<P: FromSettings>(
        &self,
        options: P::Options,
        catalog: Arc<Catalog>,
    ) -> Result<P, LlmError> {
        P::from_settings(
            &self.env_settings(),
            options,
            catalog,
            &mut Described::default(),
        )
    }

    /// The API key: the first of [`ProviderSpec::credential_vars`] that is set (a blank
    /// variable is unset). `None` for providers that take no key.
    pub fn api_key(&self) -> Option<String> {
        if self.key == KeyUse::None {
            return None;
        }
        self.credential_vars.iter().find_map(|v| env_value(v))
    }

    /// The endpoint in `settings`, else the default, also put into `described`.
    pub fn endpoint_of(&self, settings: &Settings, described: &mut Described) -> String {
        let endpoint = settings
            .str(self.endpoint.key)
            .or(self.endpoint.default)
            .unwrap_or_default()
            .to_string();
        described.endpoint.clone_from(&endpoint);
        endpoint
    }

    /// The API key the provider cannot work without, with whether each variable is set put
    /// into `described`; none set is [`ProviderSpec::missing_key`].
    pub fn required_key(&self, described: &mut Described) -> Result<String, LlmError> {
        self.optional_key(described)
            .ok_or_else(|| self.missing_key())
    }

    /// The API key if one is set, with whether each variable is set put into `described`.
    pub fn optional_key(&self, described: &mut Described) -> Option<String> {
        described.credentials = self.credential_lines();
        self.api_key()
    }

    /// The error of a call that needs an API key and has none: which variables to set.
    pub fn missing_key(&self) -> LlmError {
        let mut vars = self.credential_vars.iter();
        let first = vars.next().copied().unwrap_or_default();
        let others: Vec<&str> = vars.copied().collect();
        let alternatives = if others.is_empty() {
            String::new()
        } else {
            format!(" (or {})", others.join(" or "))
        };
        LlmError::Authentication {
            provider: self.name.into(),
            message: format!("no API key: set {first}{alternatives}"),
        }
    }

    /// One line per credential variable, saying whether it is set (never its value).
    pub fn credential_lines(&self) -> Vec<String> {
        self.credential_vars
            .iter()
            .map(|v| {
                let set = if env_value(v).is_some() {
                    "is set"
                } else {
                    "is not set"
                };
                format!("{v} {set}")
            })
            .collect()
    }

    /// Build the provider from its resolved `settings`, describing the endpoint, region and
    /// credentials into `described` (as far as it got, also on error). `model`, when given, is
    /// resolved to the id that will be sent. Without any credential a call could only fail, so
    /// that is an `Authentication` error before any request.
    pub async fn build(
        &self,
        settings: &Settings,
        catalog: Arc<Catalog>,
        model: Option<&str>,
        described: &mut Described,
    ) -> Result<Box<dyn Provider>, LlmError> {
        (self.construct)(settings, catalog, model, described).await
    }
}

/// The value of environment variable `var` unless it is unset or blank: a blank variable (a
/// common leftover of `export X=`) means "not set", not "empty".
pub fn env_value(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_find_finds_each_provider_only() {
        let mut seen = std::collections::BTreeSet::new();
        for p in PROVIDERS {
            assert!(seen.insert(p.name), "{} listed twice", p.name);
            assert!(std::ptr::eq(find(p.name).unwrap(), *p));
        }
        for not_a_provider in ["offline", "replay", "", "Bedrock"] {
            assert!(find(not_a_provider).is_none(), "{not_a_provider}");
        }
        assert_eq!(name_list(), "bedrock, anthropic, openai, gemini, ollama");
    }

    #[test]
    fn every_provider_has_catalog_rows_and_every_row_a_provider() {
        let catalog = Catalog::builtin();
        for p in PROVIDERS {
            assert!(
                catalog.models.iter().any(|m| m.provider == p.name),
                "{} has no catalog entry",
                p.name
            );
        }
        for m in &catalog.models {
            assert!(find(&m.provider).is_some(), "{} {}", m.provider, m.id);
        }
    }

    #[test]
    fn secret_scrubbing_covers_every_credential_variable() {
        let secrets: Vec<&str> = secret_env_vars().collect();
        for p in PROVIDERS {
            for v in p.credential_vars {
                assert!(secrets.contains(v), "{v} of {}", p.name);
            }
        }
    }

    #[test]
    fn settings_are_well_formed() {
        for p in PROVIDERS {
            let keys: Vec<&str> = p.all_settings().map(|s| s.key).collect();
            let mut unique = keys.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), keys.len(), "{}: {keys:?}", p.name);
            assert_eq!(p.file_keys().next(), Some("model"), "{}", p.name);
            // A key the provider reads needs a variable to read it from.
            if p.key != KeyUse::None {
                assert!(!p.credential_vars.is_empty(), "{}", p.name);
            }
            // The endpoint can be set somewhere or has a default.
            assert!(
                p.endpoint.in_file || !p.endpoint.env.is_empty(),
                "{}",
                p.name
            );
            assert!(!p.setup_hint.is_empty() && !p.diagnosis.authentication.is_empty());
            assert!(
                p.example.lines().all(|l| l.starts_with("    ")),
                "{}",
                p.name
            );
            assert!(p.example.ends_with('\n'), "{}", p.name);
        }
    }

    #[test]
    fn temperature_ranges_are_the_providers_own() {
        let max = |name: &str| find(name).and_then(ProviderSpec::max_temperature);
        assert_eq!(max("bedrock"), Some(1.0));
        assert_eq!(max("anthropic"), Some(1.0));
        assert_eq!(max("openai"), Some(2.0));
        assert_eq!(max("gemini"), Some(2.0));
        // Ollama's options are not set from the config file.
        assert_eq!(max("ollama"), None);
    }

    #[test]
    fn missing_key_names_every_variable() {
        let e = find("gemini").unwrap().missing_key().to_string();
        assert!(
            e.ends_with("no API key: set GEMINI_API_KEY (or GOOGLE_API_KEY)"),
            "{e}"
        );
        let e = find("anthropic").unwrap().missing_key().to_string();
        assert!(e.ends_with("no API key: set ANTHROPIC_API_KEY"), "{e}");
    }

    #[test]
    fn settings_read_text_and_counts() {
        let s: Settings = [
            ("host".to_string(), Value::from("http://h:1")),
            ("num_ctx".to_string(), Value::from(4096u32)),
        ]
        .into_iter()
        .collect();
        assert_eq!(s.str("host"), Some("http://h:1"));
        assert_eq!(s.u32("num_ctx"), Some(4096));
        assert_eq!(s.u32("host"), None);
        assert_eq!(s.str("model"), None);
    }

    #[test]
    fn urls_must_be_http() {
        assert!(http_url("https://api.example").is_ok());
        assert_eq!(
            http_url("ftp://x").unwrap_err(),
            "`ftp://x` is not an http:// or https:// URL"
        );
    }
}
