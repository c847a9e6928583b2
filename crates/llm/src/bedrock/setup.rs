//! Bedrock in the provider registry: its settings, how it is built from them (options, the AWS
//! credential chain described without key material), and what its failures mean.

use std::sync::Arc;

use aws_sdk_bedrockruntime::config::ProvideCredentials;

use super::{BedrockOptions, BedrockProvider, Guardrail, RetryMode, RetrySettings};
use crate::catalog::{Catalog, split_model_ref};
use crate::error::LlmError;
use crate::provider::Provider;
use crate::registry::{
    self, Described, Diagnosis, KeyUse, Kind, ProviderSpec, SettingSpec, Settings, env_value,
};

const PROVIDER: &str = "bedrock";

/// Bedrock in the provider registry.
pub static SPEC: ProviderSpec = ProviderSpec {
    name: PROVIDER,
    local: false,
    // What the SDK's default chain reads from the environment, plus Bedrock API keys.
    credential_vars: &[
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ],
    key: KeyUse::None,
    // The SDK reads these itself; they are settings so `config show` can say which applies.
    endpoint: SettingSpec::file("endpoint_url", Kind::Text(None))
        .env(&["AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL"])
        .env_only(),
    settings: &[
        SettingSpec::file("region", Kind::Text(None))
            .env(&["AWS_REGION", "AWS_DEFAULT_REGION"])
            .flag("--aws-region"),
        SettingSpec::file("profile", Kind::Text(None))
            .env(&["AWS_PROFILE"])
            .flag("--aws-profile"),
        registry::MAX_TOKENS,
        // Converse takes temperatures from 0 to 1 for every model family.
        registry::temperature(1.0),
        // Intelligent prompt routing: the family's default router instead of one model.
        SettingSpec::file("routing", Kind::Text(Some(super::routing::check_routing)))
            .flag("--routing"),
        // The account of the default router's ARN; without it STS GetCallerIdentity is asked.
        SettingSpec::file(
            "aws_account_id",
            Kind::Text(Some(super::routing::check_account_id)),
        ),
    ],
    setup_hint: "AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, or AWS_BEARER_TOKEN_BEDROCK) and AWS_REGION",
    example: "    # A catalog alias (see `cycling-ai providers list`), a model id, an inference profile or an ARN.
    model: claude-sonnet-4.5
    # Overridden by --aws-region, then AWS_REGION / AWS_DEFAULT_REGION.
    region: us-east-1
    # A named profile from ~/.aws/config (overridden by --aws-profile, then AWS_PROFILE).
    # profile: my-sso-profile
    # Intelligent prompt routing (claude, llama or nova): the region's default prompt router
    # answers instead of `model`; its account id comes from STS unless given here.
    # routing: nova
    # aws_account_id: \"123456789012\"
    max_tokens: 4096        # 1–128000
    temperature: 0.7        # 0–1 (Bedrock and Anthropic); OpenAI and Gemini take 0–2
",
    diagnosis: Diagnosis {
        authentication: "no credentials, or AWS rejected them: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE (run `aws sso login` for SSO profiles) or AWS_BEARER_TOKEN_BEDROCK, and check the keys are current",
        specific: Some(diagnose),
    },
    construct: |settings, catalog, model, described| {
        Box::pin(build(settings, catalog, model, described))
    },
};

/// Build from the settings: the credential chain is asked first, so that a machine without
/// credentials fails here, before any request, with what was looked at.
async fn build(
    s: &Settings,
    catalog: Arc<Catalog>,
    model: Option<&str>,
    described: &mut Described,
) -> Result<Box<dyn Provider>, LlmError> {
    let region = s.str("region").map(str::to_string);
    let profile = s.str("profile").map(str::to_string);
    let (found, chain_ok) = credentials(region, profile).await;
    described.credentials = found;
    if !chain_ok && env_value("AWS_BEARER_TOKEN_BEDROCK").is_none() {
        return Err(LlmError::Authentication {
            provider: PROVIDER.into(),
            message: "the AWS credential chain found no credentials and AWS_BEARER_TOKEN_BEDROCK is not set".into(),
        });
    }
    let b = BedrockProvider::from_env(options(s)?, catalog).await?;
    described.region = Some(b.region().to_string());
    described.endpoint = s.str(SPEC.endpoint.key).map_or_else(
        || format!("https://bedrock-runtime.{}.amazonaws.com", b.region()),
        str::to_string,
    );
    described.model_sent = model.map(|m| b.resolve_model(m));
    Ok(Box::new(b))
}

/// The SDK options from the settings: `region`, `profile`, and the call options the CLI's
/// Bedrock flags put there (`guardrail_id`, `guardrail_version`, `latency`, `retry_mode`,
/// `max_attempts`). Nothing set leaves the SDK's own resolution (environment, profile) in charge.
pub fn options(s: &Settings) -> Result<BedrockOptions, LlmError> {
    let guardrail = match (s.str("guardrail_id"), s.str("guardrail_version")) {
        (Some(id), version) => Some(Guardrail {
            id: id.to_string(),
            // A guardrail always has a working draft; numbered versions must be asked for.
            version: version.unwrap_or("DRAFT").to_string(),
            trace: false,
        }),
        (None, Some(_)) => {
            return Err(LlmError::Config {
                provider: PROVIDER.into(),
                message: "--guardrail-version needs --guardrail-id".into(),
            });
        }
        (None, None) => None,
    };
    let max_attempts = s.u32("max_attempts");
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
        region: s.str("region").map(str::to_string),
        profile: s.str("profile").map(str::to_string),
        retry,
        operation_timeout: None,
        guardrail,
        latency_optimized: s.str("latency") == Some("optimized"),
    })
}

/// What the AWS credential chain finds, described without any key material, and whether it
/// resolved any credentials.
async fn credentials(region: Option<String>, profile: Option<String>) -> (Vec<String>, bool) {
    let set = |v: &str| env_value(v).is_some();
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
    let sdk = super::load_sdk_config(region, profile).await;
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

/// IAM, model access and regions: what a failed call means on Bedrock.
fn diagnose(e: &LlmError, region: &str, catalog: &Catalog) -> Option<String> {
    match e {
        LlmError::ModelNotEnabled { model, .. } => Some(format!(
            "model not enabled: request access to `{model}` for this account (Bedrock console → Model access, region {region}); it can take a few minutes to take effect"
        )),
        LlmError::NeedsInferenceProfile { model, profile, .. } => Some(format!(
            "needs an inference profile: `{model}` cannot be called on demand in {region}; use --model {profile} (or the catalog alias from `cycling-ai providers list --provider bedrock`)"
        )),
        LlmError::PermissionDenied { .. } => Some(format!(
            "access denied: the identity lacks bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream on this model in {region} (with an inference profile the policy must allow both the profile and the foundation model in every region it routes to)"
        )),
        LlmError::ModelNotFound { model, .. } => Some(
            if catalog
                .find(PROVIDER, split_model_ref(model).base_id)
                .is_some()
            {
                format!(
                    "wrong region: `{model}` is a real Bedrock model but is not offered in {region}; pass --aws-region with a region that has it (or use a cross-region inference profile)"
                )
            } else {
                format!(
                    "model not found: `{model}` is not a model id, profile or ARN known in {region}; see `cycling-ai providers list --provider bedrock`"
                )
            },
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, serde_json::Value)]) -> Settings {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn options_come_from_the_settings() {
        let o = options(&settings(&[
            ("region", "eu-west-1".into()),
            ("guardrail_id", "gr-1".into()),
            ("latency", "optimized".into()),
            ("retry_mode", "adaptive".into()),
            ("max_attempts", 5.into()),
        ]))
        .unwrap();
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
        assert!(o.profile.is_none());

        // Nothing given: the SDK's own resolution (env, profile) stays in charge.
        let o = options(&Settings::default()).unwrap();
        assert!(o.retry.is_none() && o.guardrail.is_none() && !o.latency_optimized);

        let e = options(&settings(&[("guardrail_version", "2".into())]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--guardrail-id"), "{e}");
    }

    #[test]
    fn an_unknown_model_is_a_wrong_region_only_when_the_catalog_knows_it() {
        let catalog = Catalog::builtin();
        let not_found = |model: &str| LlmError::ModelNotFound {
            provider: PROVIDER.into(),
            model: model.into(),
            message: String::new(),
        };
        let known = diagnose(
            &not_found("eu.amazon.nova-micro-v1:0"),
            "sa-east-1",
            &catalog,
        )
        .unwrap();
        assert!(
            known.starts_with("wrong region:") && known.contains("sa-east-1"),
            "{known}"
        );
        let unknown = diagnose(&not_found("amazon.nova-nope"), "sa-east-1", &catalog).unwrap();
        assert!(unknown.starts_with("model not found:"), "{unknown}");
        let other = LlmError::Timeout {
            provider: PROVIDER.into(),
            message: String::new(),
        };
        assert!(diagnose(&other, "sa-east-1", &catalog).is_none());
    }
}
