//! `cycling-ai batch`: every athlete's report through one Bedrock batch job. The work is the
//! library's (`agent::batch`); this file builds the clients from the flags and the config file,
//! and prints.

use std::sync::Arc;

use agent::batch::{self, BatchContext, BatchSettings, SubmitArgs};
use agent::workflow;
use anyhow::{Context, Result, bail};
use comfy_table::Table;
use llm::bedrock::BedrockProvider;
use llm::bedrock::batch::{BatchClients, Endpoints, JobInfo, S3Uri};
use llm::{Catalog, Provider};
use serde_json::json;

use super::{Global, generate, print_json};
use crate::args::{
    BatchCollectArgs, BatchCommand, BatchConnectArgs, BatchJobArgs, BatchSubmitArgs, BedrockArgs,
};
use crate::config::{self, Flags};
use crate::providers_setup;

/// The clients and providers of one command.
struct Connected {
    clients: BatchClients,
    bedrock: BedrockProvider,
    catalog: Arc<Catalog>,
    settings: config::ProviderEffective,
}

fn flags(c: &BatchConnectArgs, model: Option<String>) -> Flags {
    Flags {
        provider: Some(llm::bedrock::SPEC.name.to_string()),
        model,
        aws_region: c.aws_region.clone(),
        aws_profile: c.aws_profile.clone(),
        routing: None,
    }
}

/// The Bedrock settings of the config file with the flags on top, and the clients built from
/// them through the SDK's default chain (credentials, region, `AWS_ENDPOINT_URL_BEDROCK`,
/// `AWS_ENDPOINT_URL_S3`).
async fn connect(c: &BatchConnectArgs) -> Result<Connected> {
    let loaded = config::load()?;
    let effective = config::resolve(&loaded, &flags(c, c.model.clone()));
    let settings = effective.providers[llm::bedrock::SPEC.name].clone();
    let catalog = Arc::new(loaded.catalog()?);
    let sdk = llm::bedrock::load_sdk_config(
        settings.str("region").map(str::to_string),
        settings.str("profile").map(str::to_string),
    )
    .await;
    let clients = BatchClients::from_sdk_config(&sdk, &Endpoints::default())?;
    let bedrock = BedrockProvider::from_sdk_config(
        &sdk,
        llm::bedrock::setup::options(&settings.values())?,
        catalog.clone(),
    )?;
    Ok(Connected {
        clients,
        bedrock,
        catalog,
        settings,
    })
}

/// The on-demand provider for `model`, built as `generate` builds it.
async fn on_demand(c: &BatchConnectArgs, model: &str) -> Result<Arc<dyn Provider>> {
    let bedrock_args = BedrockArgs {
        guardrail_id: None,
        guardrail_version: None,
        latency: None,
        retry_mode: None,
        max_attempts: None,
    };
    let sel = providers_setup::select(&flags(c, Some(model.to_string())), &bedrock_args)?
        .context("no Bedrock settings")?;
    let doing = format!("setting up bedrock (model {model}) for on-demand calls");
    let connected = providers_setup::connect_selection(&sel, doing).await?;
    Ok(Arc::from(connected.provider))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn say(line: &str) {
    eprintln!("{line}");
}

pub fn run(global: &Global, cmd: BatchCommand) -> Result<()> {
    let rt = runtime()?;
    rt.block_on(async {
        match cmd {
            BatchCommand::Submit(a) => submit(global, a).await,
            BatchCommand::Status(a) => status(global, a).await,
            BatchCommand::List(a) => list(global, a).await,
            BatchCommand::Stop(a) => stop(global, a).await,
            BatchCommand::Collect(a) => collect(global, a, false).await,
            BatchCommand::RetryFailed(a) => collect(global, a, true).await,
        }
    })
}

fn context<'a>(
    global: &'a Global,
    c: &'a Connected,
    on_demand: Arc<dyn Provider>,
) -> BatchContext<'a> {
    BatchContext {
        data_dir: &global.data_dir,
        clients: &c.clients,
        bedrock: &c.bedrock,
        on_demand,
        catalog: c.catalog.clone(),
        progress: &say,
    }
}

async fn submit(global: &Global, a: BatchSubmitArgs) -> Result<()> {
    let s3 = S3Uri::parse(&a.s3_uri).context("--s3-uri")?;
    let c = connect(&a.connect).await?;
    let Some(model) = providers_setup::model_of(llm::bedrock::SPEC.name, &c.settings) else {
        bail!("no model: pass --model ID or set providers.bedrock.model in the config file");
    };
    let model = c.bedrock.resolve_model(&model);
    let settings = BatchSettings {
        output_dir: std::path::absolute(&a.output_dir)
            .with_context(|| format!("--output-dir {}", a.output_dir.display()))?,
        model: model.clone(),
        max_tokens: c
            .settings
            .get("max_tokens")
            .and_then(config::Setting::as_u32),
        temperature: c
            .settings
            .get("temperature")
            .and_then(|s| s.value.as_ref())
            .and_then(serde_json::Value::as_f64)
            .map(|t| t as f32),
        period_weeks: workflow::weeks_in_months(a.period_months),
        plan_weeks: a.plan.training_plan_weeks,
        goal: a.plan.goal.clone(),
        event_date: generate::parse_date("--event-date", a.plan.event_date.as_deref())?,
        plan_start: generate::parse_date("--plan-start", a.plan.plan_start.as_deref())?,
        seed: a.seed,
        skip_plan: a.skip_training_plan,
    };
    // Nothing is called on demand at submission; the provider is only a placeholder.
    let placeholder: Arc<dyn Provider> = Arc::new(c.bedrock.clone());
    let ctx = context(global, &c, placeholder);
    let args = SubmitArgs {
        s3,
        role_arn: a.role_arn.clone(),
        timeout_hours: a.timeout_hours,
        min_records: a.min_records,
        job_name: a.job_name.clone(),
        athletes: a.athletes.clone(),
    };
    let s = batch::submit(&ctx, &settings, &args).await?;
    if global.json {
        return print_json(&json!({
            "job": s.job.job_name,
            "job_arn": s.job.job_arn,
            "model_id": s.job.model_id,
            "records": s.records,
            "athletes": s.athletes,
            "input": s.input.to_string(),
            "skipped": s.skipped,
            "on_demand": s.on_demand,
            "already_done": s.already_done,
        }));
    }
    println!(
        "Submitted batch job {} ({}): {} records for {} athletes, model {}",
        s.job.job_name, s.job.job_arn, s.records, s.athletes, s.job.model_id
    );
    println!("Input: {}", s.input);
    if s.on_demand.is_empty() {
        println!(
            "Every model request of these reports is in the batch; repairs of answers that do not validate go on demand at collect."
        );
    } else {
        println!("Stay on demand (each needs an earlier answer):");
        for (athlete, what) in &s.on_demand {
            println!("  {athlete}: {what}");
        }
    }
    for (athlete, why) in &s.skipped {
        println!("Skipped {athlete}: {why}");
    }
    for athlete in &s.already_done {
        println!("{athlete}: the model phases are finished already (checkpointed); nothing asked");
    }
    println!(
        "Next: `cycling-ai batch status {}`, then `cycling-ai batch collect {}`",
        s.job.id, s.job.id
    );
    Ok(())
}

fn age(submitted_at: &str) -> String {
    let Ok(t) = submitted_at.parse::<jiff::Timestamp>() else {
        return "?".into();
    };
    let secs = (jiff::Timestamp::now().as_second() - t.as_second()).max(0);
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{:.1} h", s as f64 / 3600.0),
        s => format!("{:.1} d", s as f64 / 86_400.0),
    }
}

fn counts(i: &JobInfo) -> String {
    let n = |x: Option<i64>| x.map_or_else(|| "-".into(), |v| v.to_string());
    format!(
        "{} total, {} processed, {} ok, {} failed",
        n(i.total_records),
        n(i.processed_records),
        n(i.success_records),
        n(i.error_records)
    )
}

fn info_json(job: &store::BatchJob, info: Option<&JobInfo>) -> serde_json::Value {
    json!({
        "id": job.id,
        "job": job.job_name,
        "job_arn": job.job_arn,
        "model_id": job.model_id,
        "status": job.status,
        "message": job.message,
        "submitted_at": job.submitted_at,
        "collected_at": job.collected_at,
        "total_records": info.and_then(|i| i.total_records),
        "processed_records": info.and_then(|i| i.processed_records),
        "success_records": info.and_then(|i| i.success_records),
        "error_records": info.and_then(|i| i.error_records),
    })
}

async fn status(global: &Global, a: BatchJobArgs) -> Result<()> {
    let c = connect(&a.connect).await?;
    let placeholder: Arc<dyn Provider> = Arc::new(c.bedrock.clone());
    let ctx = context(global, &c, placeholder);
    let key = match a.job {
        Some(k) => k,
        None => store::Store::open(&global.data_dir)?
            .batch_jobs()?
            .first()
            .map(|j| j.id.to_string())
            .context("no batch job submitted from this data directory")?,
    };
    let (job, info) = batch::refresh(&ctx, &key).await?;
    if global.json {
        return print_json(&info_json(&job, Some(&info)));
    }
    println!("Job {} ({})", job.job_name, job.job_arn);
    println!(
        "  state {}{}",
        info.status,
        info.message
            .as_ref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    );
    println!("  records: {}", counts(&info));
    println!(
        "  submitted {} ago, model {}",
        age(&job.submitted_at),
        job.model_id
    );
    if let Some(t) = info.expiration_time {
        println!("  expires {t}");
    }
    if info.has_output() {
        println!("  ready: `cycling-ai batch collect {}`", job.id);
    }
    Ok(())
}

async fn list(global: &Global, a: BatchConnectArgs) -> Result<()> {
    let c = connect(&a).await?;
    let placeholder: Arc<dyn Provider> = Arc::new(c.bedrock.clone());
    let ctx = context(global, &c, placeholder);
    let jobs = batch::list(&ctx).await?;
    if global.json {
        let rows: Vec<_> = jobs.iter().map(|(j, i)| info_json(j, i.as_ref())).collect();
        return print_json(&rows);
    }
    if jobs.is_empty() {
        println!("No batch job submitted from this data directory.");
        return Ok(());
    }
    let mut t = Table::new();
    t.set_header(["#", "job", "state", "records", "age", "model", "collected"]);
    for (j, i) in &jobs {
        t.add_row([
            j.id.to_string(),
            j.job_name.clone(),
            j.status.clone(),
            i.as_ref().map_or_else(|| "-".into(), counts),
            age(&j.submitted_at),
            j.model_id.clone(),
            j.collected_at.clone().unwrap_or_else(|| "no".into()),
        ]);
    }
    println!("{t}");
    Ok(())
}

async fn stop(global: &Global, a: BatchJobArgs) -> Result<()> {
    let key = a
        .job
        .clone()
        .context("name the job to stop (see `cycling-ai batch list`)")?;
    let c = connect(&a.connect).await?;
    let placeholder: Arc<dyn Provider> = Arc::new(c.bedrock.clone());
    let ctx = context(global, &c, placeholder);
    let job = batch::stop(&ctx, &key).await?;
    println!("Job {}: {}", job.job_name, job.status);
    Ok(())
}

fn usd(c: Option<f64>) -> String {
    c.map_or_else(|| "unknown".into(), |c| format!("${c:.4}"))
}

async fn collect(global: &Global, a: BatchCollectArgs, retry: bool) -> Result<()> {
    let c = connect(&a.connect).await?;
    let job = store::Store::open(&global.data_dir)?
        .batch_job(&a.job)?
        .with_context(|| {
            format!(
                "no batch job `{}` in this data directory (see `cycling-ai batch list`)",
                a.job
            )
        })?;
    let provider = on_demand(&a.connect, &job.model).await?;
    let ctx = context(global, &c, provider);
    let concurrency = a.concurrency as usize;
    if retry {
        let results = batch::retry_failed(&ctx, &a.job, concurrency).await?;
        if global.json {
            let rows: Vec<_> = results.iter().map(result_json).collect();
            return print_json(&rows);
        }
        if results.is_empty() {
            println!("No failed record in job {}.", job.job_name);
        }
        let cost: Option<f64> = results.iter().map(|r| r.cost_usd).sum();
        println!(
            "Retried on demand for {} athletes: {} reports, cost {} (on-demand prices)",
            results.len(),
            results.iter().filter(|r| r.report.is_some()).count(),
            usd(cost)
        );
        return Ok(());
    }
    if a.wait {
        loop {
            let (j, info) = batch::refresh(&ctx, &a.job).await?;
            if info.is_finished() {
                break;
            }
            say(&format!(
                "job {}: {} ({}); checking again in {} s",
                j.job_name,
                info.status,
                counts(&info),
                a.poll_seconds
            ));
            tokio::time::sleep(std::time::Duration::from_secs(a.poll_seconds)).await;
        }
    }
    let r = batch::collect(&ctx, &a.job, concurrency).await?;
    if global.json {
        return print_json(&json!({
            "job": r.job.job_name,
            "status": r.info.status,
            "manifest": r.manifest,
            "reports": r.athletes.iter().map(result_json).collect::<Vec<_>>(),
            "failed": r.failed.iter().map(|f| json!({"record_id": f.record_id, "athlete": f.athlete, "part": f.part, "error": f.error})).collect::<Vec<_>>(),
            "unused": r.unused,
            "output_problems": r.output_problems,
            "batch": {
                "answers": r.batch_answers,
                "input_tokens": r.batch_usage.input,
                "output_tokens": r.batch_usage.output,
                "cost_usd": r.batch_cost_usd,
                "on_demand_equivalent_usd": r.on_demand_equivalent_usd,
            },
            "on_demand": {"calls": r.on_demand_calls, "cost_usd": r.on_demand_cost_usd},
        }));
    }
    let written = r.athletes.iter().filter(|a| a.report.is_some()).count();
    println!(
        "Job {} ({}): {} reports written for {} athletes",
        r.job.job_name,
        r.info.status,
        written,
        r.athletes.len()
    );
    if let Some(m) = &r.manifest {
        println!(
            "  manifest: {} records, {} ok, {} failed, {} input / {} output tokens",
            m.total_record_count,
            m.success_record_count,
            m.error_record_count,
            m.input_token_count,
            m.output_token_count
        );
    }
    println!(
        "  batch answers: {} calls, {} input / {} output tokens: {} at batch prices (on demand: {})",
        r.batch_answers,
        r.batch_usage.input,
        r.batch_usage.output,
        usd(r.batch_cost_usd),
        usd(r.on_demand_equivalent_usd)
    );
    println!(
        "  on demand during collect: {} calls, {}",
        r.on_demand_calls,
        usd(r.on_demand_cost_usd)
    );
    for f in &r.unused {
        println!("  record {f}: its request changed since submission (new data?); asked on demand");
    }
    for p in &r.output_problems {
        println!("  output line skipped: {p}");
    }
    if !r.failed.is_empty() {
        println!(
            "Failed records ({}): the rule-based coach wrote those parts; `cycling-ai batch retry-failed {}` asks for them on demand",
            r.failed.len(),
            r.job.id
        );
        for f in &r.failed {
            println!("  {} ({}, {}): {}", f.record_id, f.athlete, f.part, f.error);
        }
    }
    Ok(())
}

fn result_json(r: &batch::AthleteResult) -> serde_json::Value {
    json!({
        "athlete": r.athlete,
        "report": r.report.as_ref().map(|p| p.display().to_string()),
        "error": r.error,
        "answered_from_batch": r.answered,
        "on_demand_calls": r.on_demand_calls,
        "fallbacks": r.fallbacks,
        "cost_usd": r.cost_usd,
    })
}
