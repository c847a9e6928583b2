//! The model catalog: ids, aliases, capabilities and prices, compiled in from
//! `data/models.json` and overridable (the CLI's config file feeds [`Catalog::apply_overrides`]).
//!
//! Cost is always computed from the model that actually answered; a model without prices gives
//! [`Cost::Unknown`], never a guess.

use serde::{Deserialize, Serialize};

use crate::types::Usage;

const BUILTIN: &str = include_str!("../data/models.json");

/// Geographic and global inference-profile prefixes (bedrock.md §7).
pub const PROFILE_PREFIXES: [&str; 8] = ["global", "us", "eu", "apac", "jp", "au", "ca", "us-gov"];

/// Prices in USD per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    pub input: f64,
    pub output: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// Price of tokens written to the prompt cache. `0` means "no extra charge": the provider
    /// bills the write as nothing beyond the cached-read/input price (OpenAI, Gemini implicit
    /// caching), which is different from `None` (price unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// Where the cache prices come from and how they were derived, separately from `source`
    /// because cache pricing is often published on a different page (or not at all) and
    /// is the part most likely to be wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_input: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_output: Option<f64>,
    /// Bedrock: surcharge of geographic profiles (`us.`, `eu.` …) over `global.`/base pricing,
    /// as a fraction (0.10 = +10 %).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geographic_markup: Option<f64>,
    /// When the prices were last checked (`YYYY-MM` or `YYYY-MM-DD`).
    pub checked: String,
    pub source: String,
}

/// What the model accepts, as far as the provider's API is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    pub system: bool,
    pub tools: bool,
    /// Tool use works over the streaming API.
    pub stream_tools: bool,
    /// Accepted tool-choice modes: `auto`, `any`, `tool`, `none`.
    pub tool_choice: Vec<String>,
    /// Tool results may carry an error status.
    pub tool_result_status: bool,
    /// Temperature and top-p must not be sent together.
    pub temperature_xor_top_p: bool,
    pub prompt_cache: bool,
}

/// How a Bedrock model can be invoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invocation {
    /// The base id can be invoked directly (in-Region on-demand throughput).
    pub on_demand: bool,
    /// Inference-profile prefixes that exist for this model.
    pub profiles: Vec<String>,
}

/// One catalog entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub provider: String,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub family: String,
    #[serde(default)]
    pub context_window: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<Invocation>,
    pub capabilities: Capabilities,
    /// `None`: price unknown.
    pub prices: Option<Prices>,
}

/// The whole catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// When the built-in prices were checked.
    pub prices_checked: String,
    pub currency: String,
    pub unit: String,
    #[serde(default)]
    pub note: String,
    pub models: Vec<ModelEntry>,
}

/// Errors reading a catalog or an override.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog {origin}: {source}")]
    Parse {
        origin: String,
        source: serde_json::Error,
    },
    #[error("catalog {origin}: model {index} (`{id}`): {message}")]
    Invalid {
        origin: String,
        index: usize,
        id: String,
        message: String,
    },
}

/// The cost of one call.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Cost {
    Known {
        usd: f64,
        input_usd: f64,
        output_usd: f64,
        cache_read_usd: f64,
        cache_write_usd: f64,
        /// The catalog entry that priced it.
        priced_as: String,
        prices_checked: String,
    },
    Unknown {
        model: String,
        reason: String,
    },
}

impl Cost {
    pub fn usd(&self) -> Option<f64> {
        match self {
            Cost::Known { usd, .. } => Some(*usd),
            Cost::Unknown { .. } => None,
        }
    }
}

impl std::fmt::Display for Cost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cost::Known { usd, .. } => write!(f, "${usd:.4}"),
            Cost::Unknown { model, reason } => write!(f, "price unknown for `{model}` ({reason})"),
        }
    }
}

/// A model string split into its parts: `us.anthropic.claude…` → prefix `us`, base id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef<'a> {
    pub profile_prefix: Option<&'static str>,
    pub base_id: &'a str,
}

/// Split a Bedrock model string: strip an ARN down to its resource id (the part after the last
/// `/`), then a known profile prefix. Only known prefixes are stripped, because model ids contain
/// dots themselves (`meta.llama3-3…`).
pub fn split_model_ref(model: &str) -> ModelRef<'_> {
    let resource = if model.starts_with("arn:") {
        model.rsplit('/').next().unwrap_or(model)
    } else {
        model
    };
    // Longest prefixes first so `us-gov.` is not read as `us`.
    let mut prefixes = PROFILE_PREFIXES;
    prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in prefixes {
        if let Some(rest) = resource.strip_prefix(p).and_then(|r| r.strip_prefix('.')) {
            return ModelRef {
                profile_prefix: Some(p),
                base_id: rest,
            };
        }
    }
    ModelRef {
        profile_prefix: None,
        base_id: resource,
    }
}

/// The geographic profile prefix for an AWS region, or `None` when the region belongs to none.
pub(crate) fn geography_of(region: &str) -> Vec<&'static str> {
    if region.starts_with("us-gov-") {
        vec!["us-gov"]
    } else if region.starts_with("us-") {
        vec!["us"]
    } else if region.starts_with("eu-") {
        vec!["eu"]
    } else if region == "ap-northeast-1" || region == "ap-northeast-3" {
        vec!["jp", "apac"]
    } else if region == "ap-southeast-2" || region == "ap-southeast-4" {
        vec!["au", "apac"]
    } else if region.starts_with("ap-") {
        vec!["apac"]
    } else if region.starts_with("ca-") {
        vec!["ca"]
    } else {
        Vec::new()
    }
}

impl Catalog {
    /// The catalog compiled into the binary.
    pub fn builtin() -> Self {
        Self::from_json(BUILTIN, "built-in data/models.json")
            .expect("the built-in catalog is valid (checked by tests)")
    }

    /// Parse and validate a catalog document.
    pub fn from_json(text: &str, origin: &str) -> Result<Self, CatalogError> {
        let catalog: Catalog =
            serde_json::from_str(text).map_err(|source| CatalogError::Parse {
                origin: origin.to_string(),
                source,
            })?;
        for (index, m) in catalog.models.iter().enumerate() {
            validate_entry(m).map_err(|message| CatalogError::Invalid {
                origin: origin.to_string(),
                index,
                id: m.id.clone(),
                message,
            })?;
        }
        Ok(catalog)
    }

    /// Replace entries with the same provider and id, add the others. The config file's catalog
    /// overrides go through here (after the CLI has parsed its YAML into [`ModelEntry`]s).
    pub fn apply_overrides(
        &mut self,
        overrides: Vec<ModelEntry>,
        origin: &str,
    ) -> Result<(), CatalogError> {
        for (index, entry) in overrides.into_iter().enumerate() {
            validate_entry(&entry).map_err(|message| CatalogError::Invalid {
                origin: origin.to_string(),
                index,
                id: entry.id.clone(),
                message,
            })?;
            match self
                .models
                .iter_mut()
                .find(|m| m.provider == entry.provider && m.id == entry.id)
            {
                Some(existing) => *existing = entry,
                None => self.models.push(entry),
            }
        }
        Ok(())
    }

    /// Find an entry by provider and id or alias (exact match).
    pub fn find(&self, provider: &str, id_or_alias: &str) -> Option<&ModelEntry> {
        self.models
            .iter()
            .filter(|m| m.provider == provider)
            .find(|m| m.id == id_or_alias)
            .or_else(|| {
                self.models
                    .iter()
                    .filter(|m| m.provider == provider)
                    .find(|m| m.aliases.iter().any(|a| a == id_or_alias))
            })
    }

    /// The provider's API id for `model`: a catalog id or alias resolves to the entry's id;
    /// anything else is sent as given (the API decides whether it knows it).
    pub fn resolve(&self, provider: &str, model: &str) -> String {
        self.find(provider, model)
            .map(|e| e.id.clone())
            .unwrap_or_else(|| model.to_string())
    }

    /// Resolve what the user typed into the model id to send to Bedrock in `region`.
    ///
    /// Aliases resolve to the model's geographic profile for the region (`claude-sonnet-4.5` in
    /// us-east-1 → `us.anthropic.claude-sonnet-4-5-20250929-v1:0`), falling back to `global.`,
    /// and to the base id for models that can be invoked on demand. Every other string (base ids,
    /// profile ids, ARNs, unknown models) is passed through unchanged: the service decides, and a
    /// base id that needs a profile produces an error naming it ([`Catalog::suggest_profile`]).
    pub fn resolve_bedrock(&self, model: &str, region: &str) -> String {
        let Some(entry) = self
            .models
            .iter()
            .filter(|m| m.provider == "bedrock")
            .find(|m| m.aliases.iter().any(|a| a == model))
        else {
            return model.to_string();
        };
        let invocation = entry.invocation.as_ref();
        if invocation.is_none_or(|i| i.on_demand) {
            return entry.id.clone();
        }
        match self.profile_prefix_for(entry, region) {
            Some(prefix) => format!("{prefix}.{}", entry.id),
            None => entry.id.clone(),
        }
    }

    fn profile_prefix_for(&self, entry: &ModelEntry, region: &str) -> Option<String> {
        let profiles = &entry.invocation.as_ref()?.profiles;
        geography_of(region)
            .into_iter()
            .find(|g| profiles.iter().any(|p| p == g))
            .map(str::to_string)
            .or_else(|| profiles.iter().find(|p| *p == "global").cloned())
            .or_else(|| profiles.first().cloned())
    }

    /// The inference profile to use for a base id that cannot be invoked on demand in `region`.
    /// Models unknown to the catalog get the region's geographic prefix (or `global.`).
    pub fn suggest_profile(&self, model: &str, region: &str) -> String {
        let r = split_model_ref(model);
        if let Some(entry) = self.find("bedrock", r.base_id)
            && let Some(prefix) = self.profile_prefix_for(entry, region)
        {
            return format!("{prefix}.{}", entry.id);
        }
        let prefix = geography_of(region).first().copied().unwrap_or("global");
        format!("{prefix}.{}", r.base_id)
    }

    /// Resolve what the user typed for `provider` into the id to send, with one-line notices
    /// for everything that is not sent as typed. No network: the service still decides, and
    /// strings the catalog does not know are sent unchanged (new models appear before the
    /// catalog lists them).
    ///
    /// * A catalog alias resolves to the model's id; an alias shaped like an id (the plan's
    ///   `anthropic.claude-sonnet-4-5-v1`, a retired Anthropic id) says it is not a real id.
    /// * Bedrock: a model that has no on-demand throughput is sent through the inference profile
    ///   of the region's geography (`us.`, `eu.`, `apac.`, …), else `global.`; a base id
    ///   typed as such gets a notice saying so.
    pub fn resolve_explained(&self, provider: &str, model: &str, region: Option<&str>) -> Resolved {
        let mut notices = Vec::new();
        let by_id = self
            .models
            .iter()
            .find(|m| m.provider == provider && m.id == model);
        let entry = by_id.or_else(|| {
            self.models
                .iter()
                .filter(|m| m.provider == provider)
                .find(|m| m.aliases.iter().any(|a| a == model))
        });
        let Some(entry) = entry else {
            return Resolved {
                sent: model.to_string(),
                notices,
            };
        };
        if by_id.is_none() && looks_like_an_id(model) {
            notices.push(format!(
                "`{model}` is not a real {provider} model id; using {} `{}`",
                entry.name, entry.id
            ));
        }
        if provider != "bedrock" {
            return Resolved {
                sent: entry.id.clone(),
                notices,
            };
        }
        let region = region.unwrap_or("");
        let on_demand = entry.invocation.as_ref().is_none_or(|i| i.on_demand);
        if on_demand {
            return Resolved {
                sent: entry.id.clone(),
                notices,
            };
        }
        match self.region_profile(entry, region) {
            Some(prefix) => {
                let sent = format!("{prefix}.{}", entry.id);
                // A friendly alias naming the profile is the documented use: say nothing. A base
                // id (typed or from an id-like alias) is a change the user should see.
                if by_id.is_some() || !notices.is_empty() {
                    notices.push(format!(
                        "`{}` has no on-demand throughput in {region}; sending it through the inference profile `{sent}` (IAM must allow the profile and the model in every region it routes to; see docs/bedrock.md)",
                        entry.id
                    ));
                }
                Resolved { sent, notices }
            }
            None => {
                let profiles = entry
                    .invocation
                    .as_ref()
                    .map(|i| i.profiles.join(", "))
                    .unwrap_or_default();
                notices.push(format!(
                    "`{}` has no on-demand throughput and no inference profile for {region} (its profiles: {profiles}); sent as given — choose a region in one of those geographies with --aws-region",
                    entry.id
                ));
                Resolved {
                    sent: entry.id.clone(),
                    notices,
                }
            }
        }
    }

    /// The profile prefix a call from `region` may use for `entry`: the region's own geography,
    /// else `global.`. Unlike [`Catalog::suggest_profile`] never another geography's profile,
    /// which the service refuses from this region.
    fn region_profile(&self, entry: &ModelEntry, region: &str) -> Option<&'static str> {
        let profiles = &entry.invocation.as_ref()?.profiles;
        geography_of(region)
            .into_iter()
            .chain(["global"])
            .find(|g| profiles.iter().any(|p| p == g))
    }

    /// "Did you mean …": up to three catalog ids or aliases of `provider` (plus `extra` names,
    /// e.g. a local server's models) closest to `model`, by edit distance and shared tokens.
    /// Only reasonably close names are offered; an empty list means nothing is close.
    pub fn suggest(&self, provider: &str, model: &str, extra: &[String]) -> Vec<String> {
        let wanted = split_model_ref(model).base_id.to_ascii_lowercase();
        let mut scored: Vec<(f64, String)> = Vec::new();
        let mut consider = |shown: &str, name: &str| {
            let score = similarity(&wanted, &name.to_ascii_lowercase());
            if score >= 0.5 && !scored.iter().any(|(_, s)| s == shown) {
                scored.push((score, shown.to_string()));
            }
        };
        for m in self.models.iter().filter(|m| m.provider == provider) {
            // An alias that matches is shown as the real id it stands for.
            for name in std::iter::once(&m.id).chain(&m.aliases) {
                consider(&m.id, name);
            }
        }
        for name in extra {
            consider(name, name);
        }
        // Best first; equal scores keep catalog order (a stable sort).
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut out: Vec<String> = Vec::new();
        for (_, name) in scored {
            if name != model && !out.contains(&name) {
                out.push(name);
            }
        }
        out.truncate(3);
        out
    }

    /// The catalog entry that prices `model_used` for `provider`: exact id or alias first, then
    /// (Bedrock) the base id behind an ARN or profile prefix.
    pub fn price_entry(
        &self,
        provider: &str,
        model_used: &str,
    ) -> Option<(&ModelEntry, Option<&'static str>)> {
        if let Some(e) = self.find(provider, model_used) {
            return Some((e, None));
        }
        if provider == "bedrock" {
            let r = split_model_ref(model_used);
            return self
                .find(provider, r.base_id)
                .map(|e| (e, r.profile_prefix));
        }
        None
    }

    /// Cost of a call = usage × the catalog prices of the model actually used.
    pub fn cost(&self, provider: &str, model_used: &str, usage: &Usage) -> Cost {
        self.cost_with(provider, model_used, usage, false)
    }

    /// Cost of a call made through batch inference (batch input/output prices).
    pub fn batch_cost(&self, provider: &str, model_used: &str, usage: &Usage) -> Cost {
        self.cost_with(provider, model_used, usage, true)
    }

    fn cost_with(&self, provider: &str, model_used: &str, usage: &Usage, batch: bool) -> Cost {
        let unknown = |reason: String| Cost::Unknown {
            model: model_used.to_string(),
            reason,
        };
        let Some((entry, prefix)) = self.price_entry(provider, model_used) else {
            // A local provider's models cost nothing, listed or not.
            if crate::registry::find(provider).is_some_and(|p| p.local) {
                return Cost::Known {
                    usd: 0.0,
                    input_usd: 0.0,
                    output_usd: 0.0,
                    cache_read_usd: 0.0,
                    cache_write_usd: 0.0,
                    priced_as: format!("{provider} (local inference, no per-token price)"),
                    prices_checked: self.prices_checked.clone(),
                };
            }
            return unknown(format!("`{model_used}` is not in the {provider} catalog"));
        };
        let Some(p) = &entry.prices else {
            return unknown(format!("the catalog has no prices for {}", entry.id));
        };
        let (input, output) = if batch {
            match (p.batch_input, p.batch_output) {
                (Some(i), Some(o)) => (i, o),
                _ => return unknown(format!("no batch prices for {}", entry.id)),
            }
        } else {
            (p.input, p.output)
        };
        let cache_read = match (usage.cache_read, p.cache_read) {
            (0, _) => 0.0,
            (_, Some(price)) => price,
            (_, None) => {
                return unknown(format!(
                    "{} cache-read tokens but no cache-read price",
                    usage.cache_read
                ));
            }
        };
        let cache_write = match (usage.cache_write, p.cache_write) {
            (0, _) => 0.0,
            (_, Some(price)) => price,
            (_, None) => {
                return unknown(format!(
                    "{} cache-write tokens but no cache-write price",
                    usage.cache_write
                ));
            }
        };
        let markup = match (prefix, p.geographic_markup) {
            (Some(pre), Some(m)) if pre != "global" => 1.0 + m,
            _ => 1.0,
        };
        let per = |tokens: u64, price: f64| tokens as f64 * price * markup / 1_000_000.0;
        let input_usd = per(usage.input, input);
        let output_usd = per(usage.output, output);
        let cache_read_usd = per(usage.cache_read, cache_read);
        let cache_write_usd = per(usage.cache_write, cache_write);
        Cost::Known {
            usd: input_usd + output_usd + cache_read_usd + cache_write_usd,
            input_usd,
            output_usd,
            cache_read_usd,
            cache_write_usd,
            priced_as: match prefix {
                Some(pre) => format!("{pre}.{}", entry.id),
                None => entry.id.clone(),
            },
            prices_checked: p.checked.clone(),
        }
    }
}

/// A model string after [`Catalog::resolve_explained`]: what is sent, and what the user should
/// be told about it (one line each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub sent: String,
    pub notices: Vec<String>,
}

/// Ids carry a vendor prefix (`anthropic.…`) or a date/version suffix (`…-20241022`); friendly
/// aliases (`claude-sonnet-4.5`, `nova-pro`) do neither.
fn looks_like_an_id(s: &str) -> bool {
    let vendor = s
        .split_once('.')
        .is_some_and(|(v, _)| !v.is_empty() && v.chars().all(|c| c.is_ascii_lowercase()));
    let dated = s
        .split(['-', ':'])
        .any(|part| part.len() == 8 && part.chars().all(|c| c.is_ascii_digit()));
    vendor || dated || s.ends_with("-latest")
}

/// How alike two model names are, 0 to 1: the better of the normalised edit distance and the
/// share of their tokens (split at `.`, `-`, `:`, `_`) they have in common. Token overlap
/// catches reordered or partly-typed names (`sonnet-claude-4-5`) that edit distance scores low.
fn similarity(a: &str, b: &str) -> f64 {
    let longest = a.chars().count().max(b.chars().count()).max(1) as f64;
    let by_edits = 1.0 - levenshtein(a, b) as f64 / longest;
    let tokens = |s: &str| -> Vec<String> {
        s.split(['.', '-', ':', '_', '/'])
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (ta, tb) = (tokens(a), tokens(b));
    let shared = ta.iter().filter(|t| tb.contains(t)).count() as f64;
    let by_tokens = if ta.is_empty() || tb.is_empty() {
        0.0
    } else {
        2.0 * shared / (ta.len() + tb.len()) as f64
    };
    by_edits.max(by_tokens)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

fn validate_entry(m: &ModelEntry) -> Result<(), String> {
    if m.id.trim().is_empty() {
        return Err("`id` is empty".into());
    }
    if m.provider.trim().is_empty() {
        return Err("`provider` is empty".into());
    }
    for mode in &m.capabilities.tool_choice {
        if !["auto", "any", "tool", "none"].contains(&mode.as_str()) {
            return Err(format!(
                "`capabilities.tool_choice` has unknown mode `{mode}`"
            ));
        }
    }
    if let Some(inv) = &m.invocation {
        for p in &inv.profiles {
            if !PROFILE_PREFIXES.contains(&p.as_str()) {
                return Err(format!("`invocation.profiles` has unknown prefix `{p}`"));
            }
        }
    }
    if let Some(p) = &m.prices {
        let fields = [
            ("input", Some(p.input)),
            ("output", Some(p.output)),
            ("cache_read", p.cache_read),
            ("cache_write", p.cache_write),
            ("batch_input", p.batch_input),
            ("batch_output", p.batch_output),
            ("geographic_markup", p.geographic_markup),
        ];
        for (name, value) in fields {
            if let Some(v) = value
                && (!v.is_finite() || v < 0.0)
            {
                return Err(format!(
                    "`prices.{name}` must be a finite non-negative number, got {v}"
                ));
            }
        }
        if p.checked.trim().is_empty() {
            return Err("`prices.checked` (the date the prices were checked) is empty".into());
        }
        // A model that caches reports cache tokens; without both cache prices every such call
        // would cost "price unknown" (issue 11: Nova chats lost their cost on the first write).
        if m.capabilities.prompt_cache {
            for (name, value) in [("cache_read", p.cache_read), ("cache_write", p.cache_write)] {
                if value.is_none() {
                    return Err(format!(
                        "`capabilities.prompt_cache` is true but `prices.{name}` is missing \
                         (use 0 for \"no extra charge\")"
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, cache_read: u64, cache_write: u64) -> Usage {
        Usage {
            input,
            output,
            cache_read,
            cache_write,
            estimated: false,
        }
    }

    #[test]
    fn builtin_catalog_parses_and_has_the_plan_models_with_real_ids() {
        let c = Catalog::builtin();
        for id in [
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
            "anthropic.claude-3-5-haiku-20241022-v1:0",
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            "amazon.nova-pro-v1:0",
            "amazon.nova-lite-v1:0",
            "amazon.nova-micro-v1:0",
            "amazon.nova-premier-v1:0",
            "meta.llama3-3-70b-instruct-v1:0",
            "mistral.mistral-large-2407-v1:0",
            "openai.gpt-oss-120b-1:0",
        ] {
            let e = c
                .find("bedrock", id)
                .unwrap_or_else(|| panic!("{id} missing"));
            assert!(e.prices.is_some(), "{id} has no prices");
        }
        assert!(
            !c.models
                .iter()
                .any(|m| m.id == "anthropic.claude-sonnet-4-5-v1"),
            "the plan's fake id must not be listed as an id (it is an alias)"
        );
    }

    #[test]
    fn aliases_resolve_to_the_regions_profile() {
        let c = Catalog::builtin();
        assert_eq!(
            c.resolve_bedrock("claude-sonnet-4.5", "us-east-1"),
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
        assert_eq!(
            c.resolve_bedrock("claude-sonnet-4.5", "eu-west-3"),
            "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
        assert_eq!(
            c.resolve_bedrock("claude-sonnet-4.5", "ap-northeast-1"),
            "jp.anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
        assert_eq!(
            c.resolve_bedrock("claude-sonnet-4.5", "sa-east-1"),
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
        assert_eq!(
            c.resolve_bedrock("claude-3.5-sonnet-v2", "ap-south-1"),
            "apac.anthropic.claude-3-5-sonnet-20241022-v2:0"
        );
        // On-demand models resolve to their base id.
        assert_eq!(
            c.resolve_bedrock("nova-pro", "us-east-1"),
            "amazon.nova-pro-v1:0"
        );
        // Anything else passes through untouched.
        assert_eq!(
            c.resolve_bedrock("global.anthropic.claude-sonnet-5", "us-east-1"),
            "global.anthropic.claude-sonnet-5"
        );
        assert_eq!(
            c.resolve_bedrock("anthropic.claude-sonnet-4-5-20250929-v1:0", "us-east-1"),
            "anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
    }

    #[test]
    fn the_plans_ids_resolve_to_real_models_with_a_notice() {
        let c = Catalog::builtin();
        // The plan's invented id: an alias of Sonnet 4.5, which only runs through a profile.
        let r = c.resolve_explained(
            "bedrock",
            "anthropic.claude-sonnet-4-5-v1",
            Some("us-east-1"),
        );
        assert_eq!(r.sent, "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
        assert_eq!(r.notices.len(), 2, "{:?}", r.notices);
        assert!(
            r.notices[0].contains("not a real bedrock model id")
                && r.notices[0].contains("anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "{:?}",
            r.notices
        );
        assert!(
            r.notices[1].contains("inference profile"),
            "{:?}",
            r.notices
        );
        // A real base id without on-demand throughput: the region's geography.
        let r = c.resolve_explained(
            "bedrock",
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
            Some("ap-northeast-1"),
        );
        assert_eq!(r.sent, "apac.anthropic.claude-3-5-sonnet-20241022-v2:0");
        assert_eq!(r.notices.len(), 1);
        // eu-west-1 has no profile of Llama 3.3 (us only): sent as given, and said so.
        let r = c.resolve_explained(
            "bedrock",
            "meta.llama3-3-70b-instruct-v1:0",
            Some("eu-west-1"),
        );
        assert_eq!(r.sent, "meta.llama3-3-70b-instruct-v1:0");
        assert!(
            r.notices[0].contains("no inference profile for eu-west-1"),
            "{:?}",
            r.notices
        );
        // On-demand models, profiles, friendly aliases and unknown strings: no notice.
        for (typed, sent) in [
            ("amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"),
            ("us.amazon.nova-pro-v1:0", "us.amazon.nova-pro-v1:0"),
            (
                "claude-haiku-4.5",
                "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            ),
            (
                "global.anthropic.claude-sonnet-5",
                "global.anthropic.claude-sonnet-5",
            ),
        ] {
            let r = c.resolve_explained("bedrock", typed, Some("us-east-1"));
            assert_eq!(
                (r.sent.as_str(), r.notices.len()),
                (sent, 0),
                "{typed}: {r:?}"
            );
        }
        // A retired Anthropic id named by the plan: its successor, with a notice.
        let r = c.resolve_explained("anthropic", "claude-3-5-sonnet-20241022", None);
        assert_eq!(r.sent, "claude-sonnet-4-5-20250929");
        assert_eq!(r.notices.len(), 1);
    }

    #[test]
    fn unknown_ids_get_close_catalog_names() {
        let c = Catalog::builtin();
        let s = c.suggest("bedrock", "anthropic.claude-sonet-4-5-20250929-v1:0", &[]);
        assert_eq!(s[0], "anthropic.claude-sonnet-4-5-20250929-v1:0", "{s:?}");
        // A profile prefix is ignored when comparing.
        let s = c.suggest("bedrock", "us.amazon.nova-pro-v2:0", &[]);
        assert_eq!(s[0], "amazon.nova-pro-v1:0", "{s:?}");
        let s = c.suggest("openai", "gpt-5.4-mni", &[]);
        assert_eq!(s[0], "gpt-5.4-mini", "{s:?}");
        let s = c.suggest("gemini", "gemini-2.5-flsh", &[]);
        assert_eq!(s[0], "gemini-2.5-flash", "{s:?}");
        let s = c.suggest("anthropic", "claude-opus-4-5", &[]);
        assert!(s.contains(&"claude-opus-4-5-20251101".to_string()), "{s:?}");
        // A local server's own models count too.
        let s = c.suggest("ollama", "qwen2.5:7b-instruct", &["qwen2.5:7b".to_string()]);
        assert_eq!(s[0], "qwen2.5:7b", "{s:?}");
        // Nothing close: nothing offered.
        assert!(c.suggest("bedrock", "zzzz", &[]).is_empty());
    }

    #[test]
    fn profile_suggestion_for_base_ids() {
        let c = Catalog::builtin();
        assert_eq!(
            c.suggest_profile("anthropic.claude-3-5-sonnet-20241022-v2:0", "us-east-1"),
            "us.anthropic.claude-3-5-sonnet-20241022-v2:0"
        );
        assert_eq!(
            c.suggest_profile("anthropic.claude-new-model-v1:0", "eu-central-1"),
            "eu.anthropic.claude-new-model-v1:0"
        );
        assert_eq!(
            c.suggest_profile("anthropic.claude-new-model-v1:0", "me-south-1"),
            "global.anthropic.claude-new-model-v1:0"
        );
    }

    #[test]
    fn split_handles_prefixes_and_arns() {
        assert_eq!(
            split_model_ref("us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            ModelRef {
                profile_prefix: Some("us-gov"),
                base_id: "anthropic.claude-sonnet-4-5-20250929-v1:0"
            }
        );
        assert_eq!(
            split_model_ref(
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"
            ),
            ModelRef {
                profile_prefix: Some("us"),
                base_id: "anthropic.claude-3-5-haiku-20241022-v1:0"
            }
        );
        assert_eq!(
            split_model_ref("meta.llama3-3-70b-instruct-v1:0").profile_prefix,
            None
        );
    }

    #[test]
    fn cost_uses_prices_cache_and_geographic_markup() {
        let c = Catalog::builtin();
        let u = usage(1_000_000, 100_000, 200_000, 40_000);
        // global: 3 + 0.1*15 + 0.2*0.30 + 0.04*3.75 = 3 + 1.5 + 0.06 + 0.15 = 4.71
        let global = c
            .cost(
                "bedrock",
                "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                &u,
            )
            .usd()
            .unwrap();
        assert!((global - 4.71).abs() < 1e-9, "{global}");
        let geo = c
            .cost(
                "bedrock",
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                &u,
            )
            .usd()
            .unwrap();
        assert!((geo - 4.71 * 1.1).abs() < 1e-9, "{geo}");
        // Nova Micro is ~85x cheaper than Sonnet-class pricing for the same usage.
        let micro = c
            .cost(
                "bedrock",
                "amazon.nova-micro-v1:0",
                &usage(1_000_000, 100_000, 0, 0),
            )
            .usd()
            .unwrap();
        assert!((micro - (0.035 + 0.014)).abs() < 1e-12, "{micro}");
        let batch = c
            .batch_cost(
                "bedrock",
                "amazon.nova-micro-v1:0",
                &usage(1_000_000, 100_000, 0, 0),
            )
            .usd()
            .unwrap();
        assert!((batch - micro / 2.0).abs() < 1e-12);
    }

    #[test]
    fn unknown_prices_are_never_guessed() {
        let c = Catalog::builtin();
        let u = usage(10, 10, 0, 0);
        assert!(matches!(
            c.cost("bedrock", "anthropic.claude-sonnet-5", &u),
            Cost::Unknown { .. }
        ));
        assert!(matches!(
            c.cost("openai", "gpt-3.5-turbo-0125", &u),
            Cost::Unknown { .. }
        ));
        // Llama has no cache price: cache tokens make the cost unknown rather than wrong.
        assert!(matches!(
            c.cost(
                "bedrock",
                "us.meta.llama3-3-70b-instruct-v1:0",
                &usage(1, 1, 5, 0)
            ),
            Cost::Unknown { .. }
        ));
        let shown = c.cost("bedrock", "x.y", &u).to_string();
        assert!(shown.starts_with("price unknown"), "{shown}");
    }

    #[test]
    fn gemini_is_priced_and_local_models_cost_nothing_even_when_unlisted() {
        let c = Catalog::builtin();
        let u = usage(1_000_000, 100_000, 1_000_000, 0);
        // 0.30 + 0.1 × 2.50 + 0.03 (cache read = 10 % of input)
        let flash = c.cost("gemini", "gemini-2.5-flash", &u).usd().unwrap();
        assert!((flash - 0.58).abs() < 1e-9, "{flash}");
        for model in ["llama3.1:8b", "llama3.1", "some-model-i-pulled:q4_K_M"] {
            match c.cost("ollama", model, &u) {
                Cost::Known { usd, priced_as, .. } => {
                    assert_eq!(usd, 0.0, "{model}");
                    assert!(!priced_as.is_empty());
                }
                other => panic!("{model}: {other}"),
            }
        }
        for m in c.models.iter().filter(|m| m.provider == "ollama") {
            let p = m
                .prices
                .as_ref()
                .expect("ollama entries are priced explicitly");
            assert_eq!((p.input, p.output), (0.0, 0.0), "{}", m.id);
            assert!(
                m.context_window.is_some(),
                "{} needs a context window for num_ctx",
                m.id
            );
        }
    }

    #[test]
    fn overrides_replace_and_add_and_are_validated() {
        let mut c = Catalog::builtin();
        let mut e = c.find("bedrock", "amazon.nova-micro-v1:0").unwrap().clone();
        e.prices.as_mut().unwrap().input = 1.0;
        let mut new = e.clone();
        new.id = "amazon.nova-2-lite-v1:0".into();
        new.aliases = vec!["nova-2-lite".into()];
        c.apply_overrides(vec![e, new], "test").unwrap();
        assert_eq!(
            c.find("bedrock", "amazon.nova-micro-v1:0")
                .unwrap()
                .prices
                .as_ref()
                .unwrap()
                .input,
            1.0
        );
        assert!(c.find("bedrock", "nova-2-lite").is_some());
        let mut bad = c.find("bedrock", "nova-2-lite").unwrap().clone();
        bad.prices.as_mut().unwrap().output = f64::NAN;
        let err = c
            .apply_overrides(vec![bad], "config.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("prices.output") && err.contains("config.yaml"),
            "{err}"
        );
    }

    /// Every model that can report cache tokens — declared `prompt_cache`, or priced for cache
    /// reads — is priced for reads and writes, with a cited source, under every name it can be
    /// invoked by (base id, each inference-profile prefix, each alias).
    #[test]
    fn no_cached_model_can_produce_price_unknown() {
        let c = Catalog::builtin();
        let mut checked = 0;
        for m in &c.models {
            let p = m.prices.as_ref();
            if !m.capabilities.prompt_cache && p.is_none_or(|p| p.cache_read.is_none()) {
                continue;
            }
            let p = p.unwrap_or_else(|| panic!("{}: caches but has no prices", m.id));
            let source = p.cache_source.as_deref().unwrap_or("");
            assert!(
                source.len() > 20,
                "{} {}: cache prices need a `cache_source`",
                m.provider,
                m.id
            );
            // (name, geographic markup that applies to it)
            let mut names = vec![(m.id.clone(), 1.0)];
            names.extend(m.aliases.iter().map(|a| (a.clone(), 1.0)));
            if let Some(inv) = &m.invocation {
                for pre in &inv.profiles {
                    let markup = match (pre.as_str(), p.geographic_markup) {
                        ("global", _) | (_, None) => 1.0,
                        (_, Some(x)) => 1.0 + x,
                    };
                    names.push((format!("{pre}.{}", m.id), markup));
                }
            }
            for (name, markup) in names {
                let u = usage(1_000, 100, 5_000, 2_000);
                match c.cost(&m.provider, &name, &u) {
                    Cost::Known {
                        cache_read_usd,
                        cache_write_usd,
                        ..
                    } => {
                        let want_read = 5_000.0 * p.cache_read.unwrap() * markup / 1e6;
                        let want_write = 2_000.0 * p.cache_write.unwrap() * markup / 1e6;
                        assert!((cache_read_usd - want_read).abs() < 1e-12, "{name}");
                        assert!((cache_write_usd - want_write).abs() < 1e-12, "{name}");
                    }
                    unknown => panic!("{} {name}: {unknown}", m.provider),
                }
                checked += 1;
            }
        }
        assert!(checked >= 30, "only {checked} names checked");
    }

    #[test]
    fn nova_cache_writes_are_priced_at_the_input_rate() {
        let c = Catalog::builtin();
        // The issue's case: a Nova Pro chat turn that reports cache writes.
        let cost = c.cost(
            "bedrock",
            "us.amazon.nova-pro-v1:0",
            &usage(1_000_000, 0, 0, 1_000_000),
        );
        let usd = cost.usd().expect("Nova Pro cache writes are priced");
        // 0.80 input + 0.80 written, no geographic markup for Nova.
        assert!((usd - 1.60).abs() < 1e-9, "{usd}");
    }

    #[test]
    fn a_caching_override_without_cache_prices_is_refused_naming_the_field() {
        let mut c = Catalog::builtin();
        let mut e = c.find("bedrock", "amazon.nova-pro-v1:0").unwrap().clone();
        e.prices.as_mut().unwrap().cache_write = None;
        let err = c
            .apply_overrides(vec![e], "config.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("prices.cache_write"), "{err}");
    }

    #[test]
    fn unknown_keys_in_a_catalog_are_errors_naming_the_key() {
        let err = Catalog::from_json(
            r#"{"prices_checked":"x","currency":"USD","unit":"u","models":[],"bogus":1}"#,
            "override.json",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("bogus") && err.contains("override.json"),
            "{err}"
        );
    }
}
