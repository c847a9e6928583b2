//! `cycling-ai providers check`: which credentials are present, one minimal call, and on failure
//! a diagnosis by error class with what to do about it.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use llm::catalog::Catalog;
use llm::log::InteractionLog;
use llm::registry::{self, ProviderSpec};
use llm::{LlmError, Message, Request};
use serde::Serialize;

use super::{Global, print_json};
use crate::args::CheckArgs;
use crate::config::{self, ProviderEffective};
use crate::providers_setup;
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
    /// How the model was resolved (alias, inference profile, router), one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notices: Vec<String>,
}

pub fn run(global: &Global, args: CheckArgs) -> Result<()> {
    let loaded = config::load()?;
    let flags = args.aws.flags(args.provider.clone(), args.model.clone());
    let effective = config::resolve(&loaded, &flags);
    let Some(provider) = effective.default_provider.as_str().map(str::to_string) else {
        bail!(
            "no provider to check: pass --provider NAME or set default_provider in the config file"
        );
    };
    let Some(spec) = registry::find(&provider) else {
        bail!(
            "--provider {provider}: expected one of {}",
            registry::name_list()
        );
    };
    let mut settings = effective.providers[&provider].clone();
    if provider == llm::bedrock::SPEC.name {
        providers_setup::apply_bedrock_args(&mut settings, &args.aws.bedrock);
    } else if args.aws.bedrock.is_set() {
        bail!(
            "--guardrail-id, --guardrail-version, --latency, --retry-mode and --max-attempts apply to --provider bedrock only"
        );
    }
    if flags.routing.is_some() && provider != llm::bedrock::SPEC.name {
        bail!("--routing applies to --provider bedrock only (the provider is {provider})");
    }
    let settings = &settings;
    let Some(model) = providers_setup::model_of(&provider, settings) else {
        bail!(
            "no model to check for {provider}: pass --model ID or set providers.{provider}.model in the config file"
        );
    };
    let catalog = Arc::new(loaded.catalog()?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(check(global, spec, &model, settings, catalog));
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
    spec: &ProviderSpec,
    model: &str,
    settings: &ProviderEffective,
    catalog: Arc<Catalog>,
) -> Report {
    let mut report = Report {
        provider: spec.name.into(),
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
        notices: Vec::new(),
    };
    let c = match providers_setup::connect(spec.name, settings, catalog.clone(), model).await {
        Ok(c) => c,
        Err(e) => {
            fail(&mut report, spec, &e, &catalog);
            return report;
        }
    };
    for n in &c.notices {
        eprintln!("{} {n}", term::note_label());
    }
    report.notices = c.notices;
    report.endpoint = c.described.endpoint;
    report.region = c.described.region;
    report.credentials = c.described.credentials;
    if let Some(sent) = c.described.model_sent {
        report.model = format!("{} (sent as {sent})", report.model);
    }
    let p = c.provider;
    let request = Request::new(
        &c.model,
        vec![Message::user("Reply with OK")],
        CHECK_MAX_TOKENS,
    );
    // The check is a real, billed call: log it like any other.
    let log = InteractionLog::open(&global.data_dir)
        .inspect_err(|e| eprintln!("{} {e}; the call is not logged", term::warning_label()))
        .ok();
    let mut meter = llm::Meter::new(p.as_ref(), &catalog, log.as_ref());
    let outcome = meter.complete(&request).await;
    for e in &meter.stats.log_errors {
        eprintln!("{} {e}", term::warning_label());
    }
    match outcome {
        Ok(r) => {
            report.ok = true;
            report.reply = Some(r.text.trim().to_string());
            report.model_used = Some(r.model_used);
            report.latency_ms = r.latency.map(|d| d.as_millis() as u64);
        }
        Err(e) => fail(&mut report, spec, &e, &catalog),
    }
    report
}

fn fail(report: &mut Report, spec: &ProviderSpec, e: &LlmError, catalog: &Catalog) {
    report.error_kind = Some(e.kind().to_string());
    report.error = Some(e.to_string());
    let mut diagnosis = diagnose(report, spec, e, catalog);
    // The "did you mean" list the provider wrapper put in the message belongs in the one-line
    // verdict too.
    if let LlmError::ModelNotFound { message, .. } = e
        && let Some((_, names)) = message.split_once(" — did you mean ")
    {
        diagnosis.push_str(&format!(" — did you mean {names}"));
    }
    report.diagnosis = Some(diagnosis);
}

/// What the error means for this user and what to do about it: the provider's own reading of
/// it first, else what every provider shares.
fn diagnose(r: &Report, spec: &ProviderSpec, e: &LlmError, catalog: &Catalog) -> String {
    let provider = spec.name;
    let region = r.region.as_deref().unwrap_or("the configured region");
    if let Some(text) = spec.diagnosis.specific.and_then(|f| f(e, region, catalog)) {
        return text;
    }
    match e {
        LlmError::Authentication { .. } => spec.diagnosis.authentication.into(),
        LlmError::PermissionDenied { .. } => {
            "access denied: the key is valid but not allowed to use this model or endpoint".into()
        }
        LlmError::ModelNotEnabled { model, .. } => format!(
            "model not enabled: request access to `{model}` for this account; it can take a few minutes to take effect"
        ),
        LlmError::NeedsInferenceProfile { model, profile, .. } => format!(
            "needs an inference profile: `{model}` cannot be called on demand; use --model {profile}"
        ),
        LlmError::ModelNotFound { model, .. } => format!(
            "model not found: `{model}` does not exist for this {provider} endpoint; see `cycling-ai providers list --provider {provider}`"
        ),
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
