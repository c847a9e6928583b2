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
use serde::{Deserialize, Serialize};

/// Variable naming an explicit config file.
pub const CONFIG_ENV: &str = "CYCLING_AI_CONFIG";
/// The per-directory config file name.
pub const LOCAL_FILE: &str = ".cycling-ai.yaml";

pub const PROVIDERS: [&str; 5] = ["bedrock", "anthropic", "openai", "gemini", "ollama"];

const MAX_TOKENS_LIMIT: u32 = 128_000;

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

/// Settings shared by the API providers.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    pub model: Option<String>,
    pub base_url: Option<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BedrockSettings {
    pub model: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OllamaSettings {
    pub model: Option<String>,
    pub host: Option<String>,
    pub num_ctx: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSections {
    pub bedrock: Option<BedrockSettings>,
    pub anthropic: Option<ApiSettings>,
    pub openai: Option<ApiSettings>,
    pub gemini: Option<ApiSettings>,
    pub ollama: Option<OllamaSettings>,
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
        && !PROVIDERS.contains(&p.as_str())
    {
        return Err(invalid(
            "default_provider".into(),
            format!(
                "`{p}` is not a provider (expected one of {})",
                PROVIDERS.join(", ")
            ),
        ));
    }
    // Temperature ranges are the providers' own: Bedrock Converse and Anthropic take 0–1,
    // OpenAI and Gemini 0–2.
    let max_temperature = |section: &str| match section {
        "bedrock" | "anthropic" => 1.0,
        _ => 2.0,
    };
    let check = |section: &str, max_tokens: Option<u32>, temperature: Option<f64>| {
        let max_t: f64 = max_temperature(section);
        if let Some(m) = max_tokens
            && !(1..=MAX_TOKENS_LIMIT).contains(&m)
        {
            return Err(invalid(
                format!("providers.{section}.max_tokens"),
                format!("{m} is outside 1–{MAX_TOKENS_LIMIT}"),
            ));
        }
        if let Some(t) = temperature
            && !(t.is_finite() && (0.0..=max_t).contains(&t))
        {
            return Err(invalid(
                format!("providers.{section}.temperature"),
                format!("{t} is outside 0–{max_t} ({section}'s range)"),
            ));
        }
        Ok(())
    };
    let p = &file.providers;
    if let Some(b) = &p.bedrock {
        check("bedrock", b.max_tokens, b.temperature)?;
    }
    for (name, s) in [
        ("anthropic", &p.anthropic),
        ("openai", &p.openai),
        ("gemini", &p.gemini),
    ] {
        if let Some(s) = s {
            check(name, s.max_tokens, s.temperature)?;
            if let Some(url) = &s.base_url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(invalid(
                    format!("providers.{name}.base_url"),
                    format!("`{url}` is not an http:// or https:// URL"),
                ));
            }
        }
    }
    if let Some(o) = &p.ollama {
        if o.num_ctx == Some(0) {
            return Err(invalid(
                "providers.ollama.num_ctx".into(),
                "must be at least 1".into(),
            ));
        }
        if let Some(h) = &o.host {
            llm::ollama::normalize_host(h)
                .map_err(|e| invalid("providers.ollama.host".into(), e.to_string()))?;
        }
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
}

/// Everything, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Effective {
    pub config_file: Option<PathBuf>,
    pub default_provider: Setting,
    pub providers: BTreeMap<String, ProviderEffective>,
    pub catalog_overrides: usize,
}

/// The credential variables each provider reads.
pub fn credential_vars(provider: &str) -> &'static [&'static str] {
    match provider {
        "bedrock" => &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_BEARER_TOKEN_BEDROCK",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        ],
        "anthropic" => &["ANTHROPIC_API_KEY"],
        "openai" => &["OPENAI_API_KEY"],
        "gemini" => &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        _ => &[],
    }
}

fn env_value(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
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
        if let Some(v) = env_value(var) {
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

fn js<T: Serialize>(v: Option<T>) -> Option<serde_json::Value> {
    v.and_then(|v| serde_json::to_value(v).ok())
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
        js(f.default_provider.clone()),
        path,
        None,
    );
    let chosen = default_provider.as_str().map(str::to_string);
    let model_flag = |name: &str| {
        (chosen.as_deref() == Some(name))
            .then(|| flags.model.clone())
            .flatten()
            .map(|m| ("--model", serde_json::Value::String(m)))
    };
    let mut providers = BTreeMap::new();
    let p = &f.providers;

    let b = p.bedrock.clone().unwrap_or_default();
    let mut s = BTreeMap::new();
    s.insert(
        "model".into(),
        pick(model_flag("bedrock"), &[], js(b.model), path, None),
    );
    s.insert(
        "region".into(),
        pick(
            flags.aws_region.clone().map(|r| ("--aws-region", r.into())),
            &["AWS_REGION", "AWS_DEFAULT_REGION"],
            js(b.region),
            path,
            None,
        ),
    );
    s.insert(
        "profile".into(),
        pick(
            flags
                .aws_profile
                .clone()
                .map(|r| ("--aws-profile", r.into())),
            &["AWS_PROFILE"],
            js(b.profile),
            path,
            None,
        ),
    );
    s.insert(
        "max_tokens".into(),
        pick(None, &[], js(b.max_tokens), path, None),
    );
    s.insert(
        "temperature".into(),
        pick(None, &[], js(b.temperature), path, None),
    );
    s.insert(
        "endpoint_url".into(),
        pick(
            None,
            &["AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL"],
            None,
            path,
            None,
        ),
    );
    providers.insert("bedrock".to_string(), with_credentials("bedrock", s));

    for (name, section, env_url, default_url) in [
        (
            "anthropic",
            &p.anthropic,
            "ANTHROPIC_BASE_URL",
            llm::anthropic::DEFAULT_BASE_URL,
        ),
        (
            "openai",
            &p.openai,
            "OPENAI_BASE_URL",
            llm::openai::DEFAULT_BASE_URL,
        ),
        (
            "gemini",
            &p.gemini,
            "GEMINI_BASE_URL",
            llm::gemini::DEFAULT_BASE_URL,
        ),
    ] {
        let a = section.clone().unwrap_or_default();
        let mut s = BTreeMap::new();
        s.insert(
            "model".into(),
            pick(model_flag(name), &[], js(a.model), path, None),
        );
        s.insert(
            "base_url".into(),
            pick(
                None,
                &[env_url],
                js(a.base_url),
                path,
                Some(default_url.into()),
            ),
        );
        s.insert(
            "max_tokens".into(),
            pick(None, &[], js(a.max_tokens), path, None),
        );
        s.insert(
            "temperature".into(),
            pick(None, &[], js(a.temperature), path, None),
        );
        providers.insert(name.to_string(), with_credentials(name, s));
    }

    let o = p.ollama.clone().unwrap_or_default();
    let mut s = BTreeMap::new();
    s.insert(
        "model".into(),
        pick(model_flag("ollama"), &[], js(o.model), path, None),
    );
    s.insert(
        "host".into(),
        pick(
            None,
            &["OLLAMA_HOST"],
            js(o.host),
            path,
            Some(llm::ollama::DEFAULT_HOST.into()),
        ),
    );
    s.insert("num_ctx".into(), pick(None, &[], js(o.num_ctx), path, None));
    providers.insert("ollama".to_string(), with_credentials("ollama", s));

    Effective {
        config_file: loaded.path.clone(),
        default_provider,
        providers,
        catalog_overrides: f.catalog_overrides.len(),
    }
}

fn with_credentials(provider: &str, settings: BTreeMap<String, Setting>) -> ProviderEffective {
    ProviderEffective {
        settings,
        credentials: credential_vars(provider)
            .iter()
            .map(|v| ((*v).to_string(), env_value(v).is_some()))
            .collect(),
    }
}

/// The commented example `config init` writes.
pub const EXAMPLE: &str = r#"# cycling-ai configuration.
# Precedence: command line > environment > this file. Check the result with `cycling-ai config show`.
# API keys and AWS credentials do NOT belong here: they come from the environment
# (ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY) or the AWS credential chain.

# Provider used when a command is not given --provider: bedrock, anthropic, openai, gemini, ollama.
default_provider: bedrock

providers:
  bedrock:
    # A catalog alias (see `cycling-ai providers list`), a model id, an inference profile or an ARN.
    model: claude-sonnet-4.5
    # Overridden by --aws-region, then AWS_REGION / AWS_DEFAULT_REGION.
    region: us-east-1
    # A named profile from ~/.aws/config (overridden by --aws-profile, then AWS_PROFILE).
    # profile: my-sso-profile
    max_tokens: 4096        # 1–128000
    temperature: 0.7        # 0–1 (Bedrock and Anthropic); OpenAI and Gemini take 0–2
  anthropic:
    model: claude-sonnet-4.5
    # base_url: https://api.anthropic.com      # ANTHROPIC_BASE_URL wins over this
    max_tokens: 4096
  openai:
    model: gpt-4.1
    # base_url: http://localhost:8000/v1       # any OpenAI-compatible server; OPENAI_BASE_URL wins
  gemini:
    model: gemini-2.5-flash
  ollama:
    model: llama3.1:8b
    # host: http://localhost:11434             # OLLAMA_HOST wins over this
    num_ctx: 16384

# Extra or corrected catalog entries (same fields as `cycling-ai providers list --json`);
# an entry with the same provider and id replaces the built-in one.
catalog_overrides: []
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> PathBuf {
        PathBuf::from("/tmp/c.yaml")
    }

    #[test]
    fn example_parses_and_sets_bedrock() {
        let f = parse(EXAMPLE, &p()).unwrap();
        assert_eq!(f.default_provider.as_deref(), Some("bedrock"));
        let b = f.providers.bedrock.unwrap();
        assert_eq!(b.region.as_deref(), Some("us-east-1"));
        assert_eq!(b.max_tokens, Some(4096));
        assert_eq!(f.providers.ollama.unwrap().num_ctx, Some(16384));
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
