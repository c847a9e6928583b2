//! `cycling-ai providers check`: which credentials are present, one minimal call, and on failure
//! a diagnosis by error class with what to do about it.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use llm::bedrock::{BedrockOptions, BedrockProvider};
use llm::catalog::Catalog;
use llm::http::HttpSettings;
use llm::log::InteractionLog;
use llm::{LlmError, Message, Provider, Request};
use serde::Serialize;

use super::{Global, print_json};
use crate::args::CheckArgs;
use crate::config::{self, Flags, PROVIDERS, ProviderEffective};
use crate::term;

/// A check's token budget: enough for "OK", small enough to cost nothing measurable.
const CHECK_MAX_TOKENS: u32 = 16;

#[derive(Debug, Serialize)]
struct Report {
    provider: String,
    model: String,
    endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    /// What was found, in words; never a secret's value.
    credentials: Vec<String>,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_used: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnosis: Option<String>,
}

pub fn run(global: &Global, args: CheckArgs) -> Result<()> {
    let loaded = config::load()?;
    let flags = Flags {
        provider: args.provider.clone(),
        model: args.model.clone(),
        aws_region: args.aws_region.clone(),
        aws_profile: args.aws_profile.clone(),
    };
    let effective = config::resolve(&loaded, &flags);
    let Some(provider) = effective.default_provider.as_str().map(str::to_string) else {
        bail!(
            "no provider to check: pass --provider NAME or set default_provider in the config file"
        );
    };
    if !PROVIDERS.contains(&provider.as_str()) {
        bail!(
            "--provider {provider}: expected one of {}",
            PROVIDERS.join(", ")
        );
    }
    let settings = &effective.providers[&provider];
    let Some(model) = settings.str("model").map(str::to_string) else {
        bail!(
            "no model to check for {provider}: pass --model ID or set providers.{provider}.model in the config file"
        );
    };
    let catalog = Arc::new(loaded.catalog()?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(check(global, &provider, &model, settings, catalog));
    if global.json {
        print_json(&report)?;
    } else {
        print_human(&report);
    }
    if report.ok {
        Ok(())
    } else {
        bail!(
            "{provider} check failed ({}): {}",
            report.error_kind.as_deref().unwrap_or("error"),
            report.diagnosis.as_deref().unwrap_or("see above")
        )
    }
}

fn print_human(r: &Report) {
    println!(
        "{}",
        term::heading(&format!("Checking {} with model {}", r.provider, r.model))
    );
    println!("  endpoint:    {}", r.endpoint);
    if let Some(region) = &r.region {
        println!("  region:      {region}");
    }
    for c in &r.credentials {
        println!("  credentials: {c}");
    }
    if r.ok {
        println!(
            "  call:        OK — {} answered {:?}{}",
            r.model_used.as_deref().unwrap_or("?"),
            r.reply.as_deref().unwrap_or(""),
            r.latency_ms
                .map_or_else(String::new, |ms| format!(" in {ms} ms"))
        );
    } else {
        if let Some(e) = &r.error {
            println!("  call:        failed: {e}");
        }
        if let Some(d) = &r.diagnosis {
            println!("  diagnosis:   {d}");
        }
    }
}

async fn check(
    global: &Global,
    provider: &str,
    model: &str,
    settings: &ProviderEffective,
    catalog: Arc<Catalog>,
) -> Report {
    let mut report = Report {
        provider: provider.into(),
        model: model.into(),
        endpoint: String::new(),
        region: None,
        credentials: Vec::new(),
        ok: false,
        model_used: None,
        reply: None,
        latency_ms: None,
        error_kind: None,
        error: None,
        diagnosis: None,
    };
    let built = build(provider, settings, catalog.clone(), &mut report).await;
    let p = match built {
        Ok(p) => p,
        Err(e) => {
            fail(&mut report, &e, &catalog);
            return report;
        }
    };
    let request = Request::new(
        model,
        vec![Message::user("Reply with OK")],
        CHECK_MAX_TOKENS,
    );
    // The check is a real, billed call: log it like any other.
    let outcome = match InteractionLog::open(&global.data_dir) {
        Ok(log) => {
            let (outcome, written) =
                llm::log::complete_logged(p.as_ref(), &request, &catalog, &log).await;
            if let Err(e) = written {
                eprintln!("{} {e}", term::warning_label());
            }
            outcome
        }
        Err(e) => {
            eprintln!("{} {e}; the call is not logged", term::warning_label());
            p.complete(&request).await
        }
    };
    match outcome {
        Ok(r) => {
            report.ok = true;
            report.reply = Some(r.text.trim().to_string());
            report.model_used = Some(r.model_used);
            report.latency_ms = r.latency.map(|d| d.as_millis() as u64);
        }
        Err(e) => fail(&mut report, &e, &catalog),
    }
    report
}

fn fail(report: &mut Report, e: &LlmError, catalog: &Catalog) {
    report.error_kind = Some(e.kind().to_string());
    report.error = Some(e.to_string());
    report.diagnosis = Some(diagnose(report, e, catalog));
}

/// Report the credentials and build the provider from the effective settings.
async fn build(
    provider: &str,
    s: &ProviderEffective,
    catalog: Arc<Catalog>,
    report: &mut Report,
) -> Result<Box<dyn Provider>, LlmError> {
    let var = |v: &str| std::env::var(v).ok().filter(|x| !x.trim().is_empty());
    let no_key = |vars: &str| LlmError::Authentication {
        provider: provider.into(),
        message: format!("no API key: set {vars}"),
    };
    let http = HttpSettings::default();
    match provider {
        "bedrock" => {
            let region = s.str("region").map(str::to_string);
            let profile = s.str("profile").map(str::to_string);
            let (found, chain_ok) = bedrock_credentials(region.clone(), profile.clone()).await;
            report.credentials = found;
            // Without any credentials the call could only fail; say so without making it.
            if !chain_ok && var("AWS_BEARER_TOKEN_BEDROCK").is_none() {
                return Err(LlmError::Authentication {
                    provider: provider.into(),
                    message: "the AWS credential chain found no credentials and AWS_BEARER_TOKEN_BEDROCK is not set".into(),
                });
            }
            let options = BedrockOptions {
                region,
                profile,
                ..BedrockOptions::default()
            };
            let b = BedrockProvider::from_env(options, catalog).await?;
            report.region = Some(b.region().to_string());
            report.endpoint = s.str("endpoint_url").map_or_else(
                || format!("https://bedrock-runtime.{}.amazonaws.com", b.region()),
                str::to_string,
            );
            report.model = format!(
                "{} (sent as {})",
                report.model,
                b.resolve_model(&report.model)
            );
            Ok(Box::new(b))
        }
        "anthropic" => {
            let base = s
                .str("base_url")
                .unwrap_or(llm::anthropic::DEFAULT_BASE_URL);
            report.endpoint = base.to_string();
            let key = var("ANTHROPIC_API_KEY");
            report.credentials = vec![key_found("ANTHROPIC_API_KEY", key.is_some())];
            let key = key.ok_or_else(|| no_key("ANTHROPIC_API_KEY"))?;
            Ok(Box::new(llm::anthropic::AnthropicProvider::new(
                key, base, http, catalog,
            )?))
        }
        "openai" => {
            let base = s.str("base_url").unwrap_or(llm::openai::DEFAULT_BASE_URL);
            report.endpoint = base.to_string();
            let key = var("OPENAI_API_KEY");
            report.credentials = vec![key_found("OPENAI_API_KEY", key.is_some())];
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
            report.endpoint = base.to_string();
            let gemini = var("GEMINI_API_KEY");
            let google = var("GOOGLE_API_KEY");
            report.credentials = vec![
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
            report.credentials = vec!["none needed (local server)".into()];
            let options = llm::ollama::OllamaOptions {
                http,
                num_ctx: s.get("num_ctx").and_then(config::Setting::as_u32),
            };
            let o = llm::ollama::OllamaProvider::new(host, options, catalog)?;
            report.endpoint = o.host().to_string();
            Ok(Box::new(o))
        }
        other => Err(LlmError::Config {
            provider: other.into(),
            message: "unknown provider".into(),
        }),
    }
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

/// What the error means for this user and what to do about it.
fn diagnose(r: &Report, e: &LlmError, catalog: &Catalog) -> String {
    let provider = r.provider.as_str();
    let region = r.region.as_deref().unwrap_or("the configured region");
    match e {
        LlmError::Authentication { .. } => match provider {
            "bedrock" => "no credentials, or AWS rejected them: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE (run `aws sso login` for SSO profiles) or AWS_BEARER_TOKEN_BEDROCK, and check the keys are current".into(),
            "anthropic" => "no valid API key: set ANTHROPIC_API_KEY to a key from console.anthropic.com".into(),
            "openai" => "no valid API key: set OPENAI_API_KEY (or point OPENAI_BASE_URL at a server that needs none)".into(),
            "gemini" => "no valid API key: set GEMINI_API_KEY (or GOOGLE_API_KEY)".into(),
            _ => "the server rejected the credentials".into(),
        },
        LlmError::PermissionDenied { .. } => match provider {
            "bedrock" => format!(
                "access denied: the identity lacks bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream on this model in {region} (with an inference profile the policy must allow both the profile and the foundation model in every region it routes to)"
            ),
            _ => "access denied: the key is valid but not allowed to use this model or endpoint".into(),
        },
        LlmError::ModelNotEnabled { model, .. } => format!(
            "model not enabled: request access to `{model}` for this account (Bedrock console → Model access, region {region}); it can take a few minutes to take effect"
        ),
        LlmError::NeedsInferenceProfile { model, profile, .. } => format!(
            "needs an inference profile: `{model}` cannot be called on demand in {region}; use --model {profile} (or the catalog alias from `cycling-ai providers list --provider bedrock`)"
        ),
        LlmError::ModelNotFound { model, .. } => {
            if provider == "bedrock" {
                let known = catalog.find("bedrock", llm::catalog::split_model_ref(model).base_id);
                if known.is_some() {
                    format!(
                        "wrong region: `{model}` is a real Bedrock model but is not offered in {region}; pass --aws-region with a region that has it (or use a cross-region inference profile)"
                    )
                } else {
                    format!(
                        "model not found: `{model}` is not a model id, profile or ARN known in {region}; see `cycling-ai providers list --provider bedrock`"
                    )
                }
            } else {
                format!("model not found: `{model}` does not exist for this {provider} endpoint; see `cycling-ai providers list --provider {provider}`")
            }
        }
        LlmError::Transport { .. } | LlmError::Timeout { .. } => format!(
            "unreachable endpoint: could not talk to {} (check the URL, the network, a proxy, or that the server is running)",
            r.endpoint
        ),
        LlmError::Config { .. } => {
            "configuration: fix the setting named above (`cycling-ai config show` shows what is in effect)".into()
        }
        LlmError::RateLimited { .. } | LlmError::Unavailable { .. } => {
            "the credentials and model are fine but the service is throttling or unavailable right now; try again later".into()
        }
        LlmError::Validation { .. } | LlmError::ContextTooLong { .. } => {
            "the service rejected the request itself; this model may not accept plain chat calls".into()
        }
        LlmError::StreamBroken { .. } | LlmError::Model { .. } => {
            "the model started answering and then failed; try again".into()
        }
    }
}
