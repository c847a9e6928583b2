//! The configuration file (YAML) and the one place where command line, environment and file are
//! merged into effective settings.
//!
//! Search order: `$CYCLING_AI_CONFIG`, then `./.cycling-ai.yaml`, then the platform config
//! directory (`~/.config/cycling-ai/config.yaml` on Linux). Nothing is ever written unless
//! `config init` asks for it. Precedence: command line > environment > file > built-in default;
//! every effective value remembers where it came from so `config show` can say so.
//!
//! Secrets never live here: API keys and AWS credentials come from the environment or the AWS
//! credential chain only, and `config show` reports just whether a key variable is set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use llm::catalog::{Catalog, ModelEntry};
use llm::registry::{self, KeyUse, PROVIDERS, ProviderSpec};
use serde::{Deserialize, Serialize};

mod sections;
pub use sections::{FileValue, ProviderSections};

/// Variable naming an explicit config file.
pub const CONFIG_ENV: &str = "CYCLING_AI_CONFIG";
/// The per-directory config file name.
pub const LOCAL_FILE: &str = ".cycling-ai.yaml";

/// Errors reading or validating the config file; each names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config file {path}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("${CONFIG_ENV} names {path}, which does not exist")]
    MissingExplicit { path: PathBuf },
}

/// The file as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub default_provider: Option<String>,
    #[serde(default)]
    pub providers: ProviderSections,
    #[serde(default)]
    pub catalog_overrides: Vec<ModelEntry>,
}

/// A loaded (or absent) config file.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub path: Option<PathBuf>,
    pub file: FileConfig,
}

/// Where to look, in order: (path, whether it must exist).
pub fn candidates() -> Vec<(PathBuf, bool)> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        // An explicit choice is the only one: silently falling back to another file would
        // apply settings the user did not pick.
        out.push((PathBuf::from(p), true));
        return out;
    }
    out.push((PathBuf::from(LOCAL_FILE), false));
    if let Some(p) = platform_path() {
        out.push((p, false));
    }
    out
}

/// `~/.config/cycling-ai/config.yaml` (or the platform's equivalent).
pub fn platform_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "cycling-ai").map(|d| d.config_dir().join("config.yaml"))
}

/// Find and parse the config file; no file at all is an empty configuration.
pub fn load() -> Result<Loaded, ConfigError> {
    for (path, must_exist) in candidates() {
        if path.is_file() {
            return load_from(&path);
        }
        if must_exist {
            return Err(ConfigError::MissingExplicit { path });
        }
    }
    Ok(Loaded::default())
}

/// Parse and validate one file.
pub fn load_from(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file = parse(&text, path)?;
    Ok(Loaded {
        path: Some(path.to_path_buf()),
        file,
    })
}

/// Parse YAML text (an empty document is an empty configuration) and check the values.
pub fn parse(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    let meaningful = text
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && l.trim() != "---");
    if !meaningful {
        return Ok(FileConfig::default());
    }
    let file: FileConfig = serde_saphyr::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().replace('\n', " "),
    })?;
    validate(&file, path)?;
    Ok(file)
}

fn validate(file: &FileConfig, path: &Path) -> Result<(), ConfigError> {
    let invalid = |key: String, message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        key,
        message,
    };
    if let Some(p) = &file.default_provider
        && registry::find(p).is_none()
    {
        return Err(invalid(
            "default_provider".into(),
            format!(
                "`{p}` is not a provider (expected one of {})",
                registry::name_list()
            ),
        ));
    }
    if let Some((key, message)) = file.providers.invalid() {
        return Err(invalid(key, message));
    }
    // The catalog checks its entries itself; run it here so a bad override fails at load time
    // with the file named, not later in the middle of a command.
    let mut catalog = Catalog::builtin();
    catalog
        .apply_overrides(file.catalog_overrides.clone(), "catalog_overrides")
        .map_err(|e| invalid("catalog_overrides".into(), e.to_string()))?;
    Ok(())
}

impl Loaded {
    /// The built-in catalog with the file's overrides applied.
    pub fn catalog(&self) -> Result<Catalog, ConfigError> {
        let mut catalog = Catalog::builtin();
        if !self.file.catalog_overrides.is_empty() {
            let path = self.path.clone().unwrap_or_default();
            catalog
                .apply_overrides(
                    self.file.catalog_overrides.clone(),
                    &path.display().to_string(),
                )
                .map_err(|e| ConfigError::Invalid {
                    path,
                    key: "catalog_overrides".into(),
                    message: e.to_string(),
                })?;
        }
        Ok(catalog)
    }
}

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    Flag { name: String },
    Env { var: String },
    File { path: PathBuf },
    Default,
    Unset,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag { name } => write!(f, "flag {name}"),
            Source::Env { var } => write!(f, "env {var}"),
            Source::File { path } => write!(f, "file {}", path.display()),
            Source::Default => f.write_str("default"),
            Source::Unset => f.write_str("not set"),
        }
    }
}

/// One effective value and its origin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    pub value: Option<serde_json::Value>,
    pub source: Source,
}

impl Setting {
    pub fn as_str(&self) -> Option<&str> {
        self.value.as_ref().and_then(|v| v.as_str())
    }
    pub fn as_u32(&self) -> Option<u32> {
        self.value
            .as_ref()
            .and_then(|v| v.as_u64())
            .and_then(|v| u32::try_from(v).ok())
    }
}

/// Values given on the command line (only the commands that take them fill them in).
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub provider: Option<String>,
    pub model: Option<String>,
    pub aws_region: Option<String>,
    pub aws_profile: Option<String>,
    /// `--routing FAMILY`: Bedrock's default prompt router of that family instead of a model.
    pub routing: Option<String>,
}

impl Flags {
    /// The value of the flag a provider setting names (its `SettingSpec::flag`), if given.
    fn setting(&self, flag: &str) -> Option<&String> {
        match flag {
            "--aws-region" => self.aws_region.as_ref(),
            "--aws-profile" => self.aws_profile.as_ref(),
            "--routing" => self.routing.as_ref(),
            _ => None,
        }
    }
}

/// The effective settings of one provider, keyed by setting name.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderEffective {
    pub settings: BTreeMap<String, Setting>,
    /// Credential variables and whether each is set (values are never read into output).
    pub credentials: BTreeMap<String, bool>,
}

impl ProviderEffective {
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.settings.get(key)
    }
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Setting::as_str)
    }

    /// The values that are set, for building the provider.
    pub fn values(&self) -> registry::Settings {
        self.settings
            .iter()
            .filter_map(|(k, s)| Some((k.clone(), s.value.clone()?)))
            .collect()
    }
}

/// Everything, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Effective {
    pub config_file: Option<PathBuf>,
    pub default_provider: Setting,
    pub providers: BTreeMap<String, ProviderEffective>,
    pub catalog_overrides: usize,
}

/// Pick the first of flag > env vars > file > default.
fn pick(
    flag: Option<(&str, serde_json::Value)>,
    env: &[&str],
    file: Option<serde_json::Value>,
    path: Option<&Path>,
    default: Option<serde_json::Value>,
) -> Setting {
    if let Some((name, value)) = flag {
        return Setting {
            value: Some(value),
            source: Source::Flag { name: name.into() },
        };
    }
    for var in env {
        if let Some(v) = registry::env_value(var) {
            return Setting {
                value: Some(serde_json::Value::String(v)),
                source: Source::Env { var: (*var).into() },
            };
        }
    }
    if let Some(value) = file {
        return Setting {
            value: Some(value),
            source: Source::File {
                path: path.map(Path::to_path_buf).unwrap_or_default(),
            },
        };
    }
    match default {
        Some(value) => Setting {
            value: Some(value),
            source: Source::Default,
        },
        None => Setting {
            value: None,
            source: Source::Unset,
        },
    }
}

/// Merge command line, environment and file. `flags.model` applies to `flags.provider` (or the
/// default provider) only.
pub fn resolve(loaded: &Loaded, flags: &Flags) -> Effective {
    let path = loaded.path.as_deref();
    let f = &loaded.file;
    let default_provider = pick(
        flags
            .provider
            .clone()
            .map(|p| ("--provider", serde_json::Value::String(p))),
        &["CYCLING_AI_PROVIDER"],
        f.default_provider.clone().map(Into::into),
        path,
        None,
    );
    let chosen = default_provider.as_str();
    let mut providers = BTreeMap::new();
    for spec in PROVIDERS {
        let settings = spec
            .all_settings()
            .map(|s| {
                let flag = if s.key == registry::MODEL.key {
                    // The model flag names the chosen provider's model only.
                    flags
                        .model
                        .as_ref()
                        .filter(|_| chosen == Some(spec.name))
                        .map(|m| ("--model", m))
                } else {
                    s.flag.and_then(|name| Some((name, flags.setting(name)?)))
                };
                let setting = pick(
                    flag.map(|(name, value)| (name, value.as_str().into())),
                    s.env,
                    f.providers
                        .get(spec.name, s.key)
                        .and_then(FileValue::to_json),
                    path,
                    s.default.map(Into::into),
                );
                (s.key.to_string(), setting)
            })
            .collect();
        providers.insert(spec.name.to_string(), with_credentials(spec, settings));
    }
    Effective {
        config_file: loaded.path.clone(),
        default_provider,
        providers,
        catalog_overrides: f.catalog_overrides.len(),
    }
}

fn with_credentials(spec: &ProviderSpec, settings: BTreeMap<String, Setting>) -> ProviderEffective {
    ProviderEffective {
        settings,
        credentials: spec
            .credential_vars
            .iter()
            .map(|v| ((*v).to_string(), registry::env_value(v).is_some()))
            .collect(),
    }
}

/// The commented example `config init` writes: each provider's section is its own (the
/// registry's `example`), the first provider is the default.
pub fn example() -> String {
    let keys: Vec<&str> = PROVIDERS
        .iter()
        .filter(|p| p.key != KeyUse::None)
        .filter_map(|p| p.credential_vars.first().copied())
        .collect();
    let mut out = format!(
        "# cycling-ai configuration.
# Precedence: command line > environment > this file. Check the result with `cycling-ai config show`.
# API keys and AWS credentials do NOT belong here: they come from the environment
# ({}) or the AWS credential chain.

# Provider used when a command is not given --provider: {}.
default_provider: {}

providers:
",
        keys.join(", "),
        registry::name_list(),
        PROVIDERS[0].name,
    );
    for p in PROVIDERS {
        out.push_str(&format!("  {}:\n{}", p.name, p.example));
    }
    out.push_str(
        "
# Extra or corrected catalog entries (same fields as `cycling-ai providers list --json`);
# an entry with the same provider and id replaces the built-in one.
catalog_overrides: []
",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> PathBuf {
        PathBuf::from("/tmp/c.yaml")
    }

    fn error(yaml: &str) -> String {
        parse(yaml, &p()).unwrap_err().to_string()
    }

    #[test]
    fn example_parses_and_sets_bedrock() {
        let f = parse(&example(), &p()).unwrap();
        assert_eq!(f.default_provider.as_deref(), Some("bedrock"));
        let b = |key: &str| f.providers.get("bedrock", key);
        assert_eq!(b("region"), Some(&FileValue::Text("us-east-1".into())));
        assert_eq!(b("max_tokens"), Some(&FileValue::Count(4096)));
        assert_eq!(
            f.providers.get("ollama", "num_ctx"),
            Some(&FileValue::Count(16384))
        );
        // Every provider has its section, and the header names every provider.
        for spec in PROVIDERS {
            assert!(example().contains(&format!("\n  {}:\n", spec.name)));
        }
        assert!(example().contains(&registry::name_list()));
    }

    #[test]
    fn each_providers_temperature_range_is_enforced() {
        for spec in PROVIDERS {
            let yaml = |t: f64| format!("providers:\n  {}:\n    temperature: {t}\n", spec.name);
            let Some(max) = spec.max_temperature() else {
                // No temperature setting: the key itself is unknown.
                let e = error(&yaml(0.5));
                assert!(e.contains("unknown field `temperature`"), "{e}");
                continue;
            };
            assert!(parse(&yaml(0.0), &p()).is_ok(), "{}", spec.name);
            assert!(parse(&yaml(max), &p()).is_ok(), "{}", spec.name);
            for bad in [max + 0.1, -0.1] {
                let e = error(&yaml(bad));
                assert!(
                    e.contains(&format!("providers.{}.temperature", spec.name))
                        && e.contains(&format!("is outside 0–{max} ({}'s range)", spec.name)),
                    "{e}"
                );
            }
        }
    }

    #[test]
    fn unknown_providers_and_keys_list_what_is_accepted() {
        let e = error("providers:\n  azure:\n    model: x\n");
        assert!(
            e.contains(
                "unknown field `azure`, expected one of bedrock, anthropic, openai, gemini, ollama"
            ),
            "{e}"
        );
        // Bedrock's endpoint comes from the environment only.
        let e = error("providers:\n  bedrock:\n    endpoint_url: http://x\n");
        assert!(
            e.contains("unknown field `endpoint_url`, expected one of model, region, profile, max_tokens, temperature"),
            "{e}"
        );
        let e = error("providers:\n  ollama:\n    num_ctx: 0\n");
        assert!(
            e.contains("`providers.ollama.num_ctx`: must be at least 1"),
            "{e}"
        );
        let e = error("providers:\n  gemini:\n    base_url: localhost\n");
        assert!(e.contains("`providers.gemini.base_url`"), "{e}");
    }

    #[test]
    fn every_flag_a_setting_names_is_a_flag_of_the_cli() {
        let flags = Flags {
            aws_region: Some("r".into()),
            aws_profile: Some("p".into()),
            routing: Some("nova".into()),
            ..Flags::default()
        };
        for spec in PROVIDERS {
            for s in spec.all_settings() {
                if let Some(flag) = s.flag {
                    assert!(flags.setting(flag).is_some(), "{} {flag}", spec.name);
                }
            }
        }
        let e = resolve(&Loaded::default(), &flags);
        let region = e.providers["bedrock"].get("region").unwrap();
        assert_eq!(
            region.source,
            Source::Flag {
                name: "--aws-region".into()
            }
        );
    }

    #[test]
    fn unknown_key_is_named() {
        let e = parse("providers:\n  bedrock:\n    regoin: eu-west-1\n", &p())
            .unwrap_err()
            .to_string();
        assert!(e.contains("regoin"), "{e}");
        assert!(e.contains("/tmp/c.yaml"), "{e}");
    }

    #[test]
    fn out_of_range_values_name_the_key() {
        let e = parse("providers:\n  anthropic:\n    temperature: 2.5\n", &p())
            .unwrap_err()
            .to_string();
        assert!(e.contains("providers.anthropic.temperature"), "{e}");
        assert!(e.contains("0–1"), "{e}");
        // 1.5 is fine for OpenAI (0–2) but not for Bedrock (0–1).
        assert!(parse("providers:\n  openai:\n    temperature: 1.5\n", &p()).is_ok());
        let e = parse("providers:\n  bedrock:\n    temperature: 1.5\n", &p())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("providers.bedrock.temperature") && e.contains("0–1"),
            "{e}"
        );
        let e = parse("providers:\n  bedrock:\n    max_tokens: 0\n", &p())
            .unwrap_err()
            .to_string();
        assert!(e.contains("providers.bedrock.max_tokens"), "{e}");
        let e = parse("default_provider: azure\n", &p())
            .unwrap_err()
            .to_string();
        assert!(e.contains("default_provider") && e.contains("azure"), "{e}");
    }

    #[test]
    fn comments_only_is_empty() {
        assert_eq!(parse("# nothing\n\n", &p()).unwrap(), FileConfig::default());
    }

    #[test]
    fn flag_beats_file_and_file_beats_default() {
        let loaded = Loaded {
            path: Some(p()),
            file: parse(
                "default_provider: anthropic\nproviders:\n  anthropic:\n    model: from-file\n  ollama:\n    num_ctx: 4096\n",
                &p(),
            )
            .unwrap(),
        };
        let e = resolve(&loaded, &Flags::default());
        let a = &e.providers["anthropic"];
        assert_eq!(a.str("model"), Some("from-file"));
        assert_eq!(a.get("model").unwrap().source, Source::File { path: p() });
        assert_eq!(
            e.providers["ollama"].get("num_ctx").unwrap().as_u32(),
            Some(4096)
        );
        let e = resolve(
            &loaded,
            &Flags {
                model: Some("from-flag".into()),
                ..Flags::default()
            },
        );
        let m = e.providers["anthropic"].get("model").unwrap();
        assert_eq!(m.as_str(), Some("from-flag"));
        assert_eq!(
            m.source,
            Source::Flag {
                name: "--model".into()
            }
        );
        // The flag's model belongs to the chosen provider only.
        assert_eq!(
            e.providers["openai"].get("model").unwrap().source,
            Source::Unset
        );
    }
}
