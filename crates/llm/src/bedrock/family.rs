//! Per-family Converse capabilities (bedrock.md §7 "Per-family Converse capabilities").
//!
//! Known models take their capabilities from the catalog; model strings the catalog does not know
//! (new releases, application profiles, router ARNs) fall back to the defaults of their family,
//! recognised from the base id.

use crate::catalog::{Capabilities, Catalog, split_model_ref};

/// A model family, as far as the Converse API's rules differ between families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `version_4_5_plus`: Claude 4.5 and later reject temperature and top-p together.
    Claude {
        version_4_5_plus: bool,
    },
    Nova,
    Llama,
    MistralLarge,
    /// Mistral 7B / Mixtral / Small: no system prompt, no tools.
    MistralSmall,
    GptOss,
    Titan,
    Unknown,
}

impl Family {
    pub fn of(model: &str) -> Self {
        let base = split_model_ref(model).base_id;
        if let Some(rest) = base.strip_prefix("anthropic.claude") {
            return Family::Claude {
                version_4_5_plus: claude_is_4_5_plus(rest),
            };
        }
        if base.starts_with("amazon.nova") {
            Family::Nova
        } else if base.starts_with("amazon.titan") {
            Family::Titan
        } else if base.starts_with("meta.llama") {
            Family::Llama
        } else if base.starts_with("mistral.mistral-large")
            || base.starts_with("mistral.mistral-large-2")
        {
            Family::MistralLarge
        } else if base.starts_with("mistral.") {
            Family::MistralSmall
        } else if base.starts_with("openai.gpt-oss") {
            Family::GptOss
        } else {
            Family::Unknown
        }
    }

    /// Defaults for model strings the catalog does not know.
    pub fn default_capabilities(self) -> Capabilities {
        let caps =
            |system, tools, stream_tools, choice: &[&str], status, xor, cache| Capabilities {
                system,
                tools,
                stream_tools,
                tool_choice: choice.iter().map(|s| s.to_string()).collect(),
                tool_result_status: status,
                temperature_xor_top_p: xor,
                prompt_cache: cache,
            };
        match self {
            Family::Claude { version_4_5_plus } => caps(
                true,
                true,
                true,
                &["auto", "any", "tool"],
                true,
                version_4_5_plus,
                version_4_5_plus,
            ),
            Family::Nova => caps(
                true,
                true,
                true,
                &["auto", "any", "tool"],
                true,
                false,
                true,
            ),
            Family::Llama => caps(true, true, false, &["auto"], false, false, false),
            Family::MistralLarge => caps(true, true, false, &["auto", "any"], false, false, false),
            Family::MistralSmall | Family::Titan => {
                caps(false, false, false, &[], false, false, false)
            }
            Family::GptOss => caps(true, true, true, &["auto"], false, false, false),
            // Conservative: only what every tool-capable family accepts; sending one of
            // temperature / top-p is always accepted.
            Family::Unknown => caps(true, true, true, &["auto"], false, true, false),
        }
    }

    /// Nova accepts cache checkpoints only in `system` and `messages`, not in the tool list.
    pub fn caches_tools(self) -> bool {
        matches!(self, Family::Claude { .. })
    }
}

/// `rest` is what follows `anthropic.claude`: `-sonnet-4-5-20250929-v1:0`, `-opus-4-6-v1`,
/// `-3-5-sonnet-20241022-v2:0`, `-sonnet-5`, `:1` (router) …
fn claude_is_4_5_plus(rest: &str) -> bool {
    let parts: Vec<&str> = rest.trim_start_matches('-').split(['-', ':']).collect();
    let tier_first = matches!(parts.first(), Some(&"sonnet" | &"haiku" | &"opus"));
    if !tier_first {
        // Old naming (`claude-3-5-sonnet…`, `claude-v2`) is pre-4.5; a router (`anthropic.claude:1`)
        // may route anywhere, so treat it as the stricter newer kind.
        return parts
            .first()
            .is_none_or(|p| p.is_empty() || p.parse::<u32>().is_err());
    }
    let major = parts.get(1).and_then(|p| p.parse::<u32>().ok());
    // A date (20250514) in the minor position means "no minor version".
    let minor = parts
        .get(2)
        .and_then(|p| p.parse::<u32>().ok())
        .filter(|m| *m < 100)
        .unwrap_or(0);
    match major {
        Some(m) => (m, minor) >= (4, 5),
        None => true,
    }
}

/// The capabilities that decide what is sent for `model` (the id actually sent to Bedrock).
pub fn capabilities_for(catalog: &Catalog, model: &str) -> (Family, Capabilities) {
    let family = Family::of(model);
    let caps = catalog
        .find("bedrock", split_model_ref(model).base_id)
        .map(|e| e.capabilities.clone())
        .unwrap_or_else(|| family.default_capabilities());
    (family, caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_recognised_through_prefixes_and_arns() {
        assert_eq!(
            Family::of("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            Family::Claude {
                version_4_5_plus: true
            }
        );
        assert_eq!(
            Family::of("anthropic.claude-opus-4-6-v1"),
            Family::Claude {
                version_4_5_plus: true
            }
        );
        assert_eq!(
            Family::of("anthropic.claude-sonnet-4-20250514-v1:0"),
            Family::Claude {
                version_4_5_plus: false
            }
        );
        assert_eq!(
            Family::of("anthropic.claude-3-5-sonnet-20241022-v2:0"),
            Family::Claude {
                version_4_5_plus: false
            }
        );
        assert_eq!(
            Family::of("global.anthropic.claude-sonnet-5"),
            Family::Claude {
                version_4_5_plus: true
            }
        );
        assert_eq!(
            Family::of(
                "arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/anthropic.claude:1"
            ),
            Family::Claude {
                version_4_5_plus: true
            }
        );
        assert_eq!(
            Family::of("us.meta.llama3-3-70b-instruct-v1:0"),
            Family::Llama
        );
        assert_eq!(
            Family::of("mistral.mistral-large-2407-v1:0"),
            Family::MistralLarge
        );
        assert_eq!(
            Family::of("mistral.mixtral-8x7b-instruct-v0:1"),
            Family::MistralSmall
        );
        assert_eq!(Family::of("apac.amazon.nova-pro-v1:0"), Family::Nova);
        assert_eq!(Family::of("openai.gpt-oss-20b-1:0"), Family::GptOss);
    }

    #[test]
    fn catalog_capabilities_agree_with_family_defaults() {
        // The catalog is data and may be overridden, but the built-in entries must tell the same
        // story as the family table, or the two sources of truth have drifted apart.
        let catalog = Catalog::builtin();
        for entry in catalog.models.iter().filter(|m| m.provider == "bedrock") {
            let family = Family::of(&entry.id);
            let d = family.default_capabilities();
            let c = &entry.capabilities;
            assert_eq!(
                (
                    c.system,
                    c.tools,
                    c.stream_tools,
                    &c.tool_choice,
                    c.tool_result_status,
                    c.temperature_xor_top_p
                ),
                (
                    d.system,
                    d.tools,
                    d.stream_tools,
                    &d.tool_choice,
                    d.tool_result_status,
                    d.temperature_xor_top_p
                ),
                "{}",
                entry.id
            );
        }
    }
}
