//! `cycling-ai providers bench`: the same report N times on each `--target provider:model`, and a
//! side-by-side table of what it took — model calls, tokens, time to the first token, wall time
//! (median and p90) and cost per report and per month — with each target against the first.
//!
//! The report is the demo season's, made in a scratch directory (the user's database is never
//! touched), so every user and every provider gets the same workload. With `--offline-fakes` the
//! targets are the in-process fakes of `llm::testing` (the real wire formats; Bedrock through the
//! real AWS SDK), scripted with valid answers — the rule-based coach's narrative and plan overview
//! for the same data — streamed at a realistic pace, and reporting fixed prompt sizes; costs are
//! then what the catalog prices those tokens at. Without it the real services are called.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use agent::plan_llm::OverviewArgs;
use agent::workflow::{self, ModelChoice, Options, PlanOptions, Silent};
use anyhow::{Context, Result, bail};
use coach::narrative::Narrative;
use coach::plan::TrainingPlan;
use comfy_table::{Cell, CellAlignment, Table, presets};
use llm::testing::{FakeBedrock, ModelReply, Pace, Reply, SseFake, SseReply, Wire};
use llm::{Catalog, Provider};
use serde::Serialize;
use store::ImportSource;

use super::{Global, print_json};
use crate::args::BenchArgs;
use crate::config::Flags;
use crate::providers_setup;
use crate::term;

/// Prompt tokens the fakes report for the analysis call and the plan call: about what the real
/// prompts measure for the demo season (system prompt, the compact bundle or the digest, tools).
pub const ANALYSIS_INPUT_TOKENS: u64 = 1_800;
pub const PLAN_INPUT_TOKENS: u64 = 1_200;
/// The providers the fakes can stand in for.
const FAKED: [&str; 5] = ["bedrock", "anthropic", "openai", "gemini", "ollama"];

/// One `--target`.
#[derive(Debug, Clone)]
struct Target {
    spec: String,
    provider: String,
    model: String,
}

fn parse_target(spec: &str, offline: bool) -> Result<Target> {
    let Some((provider, model)) = spec
        .split_once(':')
        .filter(|(p, m)| !p.is_empty() && !m.is_empty())
    else {
        bail!("--target {spec}: expected PROVIDER:MODEL, e.g. bedrock:claude-sonnet-4.5");
    };
    if llm::registry::find(provider).is_none() {
        bail!(
            "--target {spec}: unknown provider `{provider}`; expected one of {}",
            llm::registry::name_list()
        );
    }
    if offline && !FAKED.contains(&provider) {
        bail!(
            "--target {spec}: --offline-fakes has no fake of `{provider}`; it has {}",
            FAKED.join(", ")
        );
    }
    Ok(Target {
        spec: spec.to_string(),
        provider: provider.to_string(),
        model: model.to_string(),
    })
}

/// Tokens of a scripted answer: four characters a token, as for English prose and JSON.
fn tokens_of(text: &str) -> u64 {
    text.len().div_ceil(4) as u64
}

/// The scripted answers: valid for the workload, so the report is written by the "model".
struct Answers {
    narrative: String,
    overview: String,
}

/// The workload: the demo season imported into a scratch database, and the rule-based report of
/// it (whose narrative and overview the fakes answer with).
struct Workload {
    data_dir: PathBuf,
    description: String,
    answers: Answers,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn plan_options(args: &BenchArgs) -> PlanOptions {
    PlanOptions {
        weeks: Some(args.training_plan_weeks),
        ..PlanOptions::default()
    }
}

fn report_options(work: &Path, out: PathBuf, args: &BenchArgs) -> Options {
    Options {
        data_dir: work.join("data"),
        athlete: None,
        profile: None,
        import: None,
        output_dir: out,
        period_weeks: workflow::weeks_in_months(3),
        plan: plan_options(args),
        resume: false,
        strict: false,
        model: None,
        sequential: false,
    }
}

async fn prepare(work: &Path, args: &BenchArgs) -> Result<Workload> {
    let mut opts = demo::DemoOptions::new(work.join("demo"), demo::SEASON_END);
    opts.rides = args.rides as usize;
    let season = demo::generate(&opts).context("writing the demo season")?;
    let offline_dir = work.join("offline");
    let mut options = report_options(work, offline_dir.clone(), args);
    options.profile = Some(season.profile_path.clone());
    options.import = Some(ImportSource::Export(season.export_dir.clone()));
    workflow::run(options, &Silent)
        .await
        .context("the rule-based report of the demo season")?;
    let checkpoints = offline_dir.join("checkpoints");
    let narrative: Narrative = read_json(&checkpoints.join("2-analysis.json"))?;
    let mut narrative = serde_json::to_value(narrative)?;
    if let Some(m) = narrative.as_object_mut() {
        // The model's output contract has no author: the code sets it.
        m.remove("author");
    }
    let plan: TrainingPlan = read_json(&checkpoints.join("3-plan.json"))?;
    let overview = serde_json::to_string(&OverviewArgs::from_overview(&plan.overview))?;
    Ok(Workload {
        data_dir: work.join("data"),
        description: format!(
            "demo season ({} rides, {} runs, {} strength sessions, {}..{}), {}-week plan",
            season.counts.total_rides(),
            season.counts.runs,
            season.counts.strength,
            season.start_date,
            season.end_date,
            args.training_plan_weeks
        ),
        answers: Answers {
            narrative: narrative.to_string(),
            overview,
        },
    })
}

/// A started fake, kept alive while its target runs.
enum Fake {
    Bedrock(FakeBedrock),
    Anthropic(llm::testing::fake_anthropic::FakeAnthropic),
    OpenAi(llm::testing::fake_openai::FakeOpenAi),
    Gemini(llm::testing::fake_gemini::FakeGemini),
    Ollama(llm::testing::fake_ollama::FakeOllama),
}

/// The two answers of one report for `provider`, at `pace`: phase 2's (Anthropic has no JSON
/// mode, so structured output travels as a forced tool there) and phase 3's plan tool call.
fn script(provider: &str, answers: &Answers, pace: Pace) -> [(&'static str, ModelReply); 2] {
    let analysis = if provider == "anthropic" {
        ModelReply::tool_calls(&[(
            "toolu_bench_analysis",
            agent::analysis_llm::OUTPUT_NAME,
            &answers.narrative,
        )])
    } else {
        ModelReply::text(&answers.narrative)
    };
    let plan = ModelReply::tool_calls(&[(
        "call_bench_plan",
        agent::plan_llm::TOOL_NAME,
        &answers.overview,
    )]);
    let mut replies = [
        (
            agent::analysis_llm::REQUEST_MARK,
            analysis.with_usage(
                ANALYSIS_INPUT_TOKENS,
                tokens_of(&answers.narrative),
                None,
                None,
            ),
        ),
        (
            agent::plan_llm::TOOL_NAME,
            plan.with_usage(PLAN_INPUT_TOKENS, tokens_of(&answers.overview), None, None),
        ),
    ];
    for (_, r) in &mut replies {
        // Models stream a few tokens an event, not the fakes' default of 4 characters.
        r.chunk = 24;
        r.latency_ms = 0;
        r.pace = Some(pace);
    }
    replies
}

fn script_sse<W: Wire>(fake: &SseFake<W>, replies: [(&str, ModelReply); 2]) {
    for (mark, r) in replies {
        fake.push_for(mark, SseReply::Model(r));
    }
}

async fn start_fake(t: &Target, runs: u32, answers: &Answers, pace: Pace) -> Fake {
    use llm::testing::{fake_anthropic, fake_gemini, fake_ollama, fake_openai};
    let fake = match t.provider.as_str() {
        "bedrock" => Fake::Bedrock(FakeBedrock::start().await),
        "anthropic" => Fake::Anthropic(fake_anthropic::start().await),
        "openai" => Fake::OpenAi(fake_openai::start().await),
        "gemini" => Fake::Gemini(fake_gemini::start().await),
        _ => Fake::Ollama(fake_ollama::start().await),
    };
    for _ in 0..runs {
        let replies = script(&t.provider, answers, pace);
        match &fake {
            Fake::Bedrock(f) => {
                for (mark, r) in replies {
                    f.push_for(mark, Reply::Model(r));
                }
            }
            Fake::Anthropic(f) => script_sse(f, replies),
            Fake::OpenAi(f) => script_sse(f, replies),
            Fake::Gemini(f) => script_sse(f, replies),
            Fake::Ollama(f) => script_sse(f, replies),
        }
    }
    fake
}

/// A provider on the fake, as `generate` would build it for the real service.
async fn fake_provider(fake: &Fake, catalog: Arc<Catalog>) -> Result<Box<dyn Provider>> {
    use llm::testing::{fake_gemini, fake_openai};
    Ok(match fake {
        Fake::Bedrock(f) => Box::new(f.provider(llm::bedrock::BedrockOptions::default()).await),
        Fake::Anthropic(f) => Box::new(f.provider(3)),
        Fake::OpenAi(f) => Box::new(llm::openai::OpenAiProvider::new(
            Some(fake_openai::OPENAI_TEST_KEY.into()),
            format!("{}/v1", f.endpoint()),
            llm::openai::OpenAiOptions::default(),
            catalog,
        )?),
        Fake::Gemini(f) => Box::new(llm::gemini::GeminiProvider::new(
            fake_gemini::GEMINI_TEST_KEY,
            f.endpoint(),
            llm::testing::fast_http(3),
            catalog,
        )?),
        Fake::Ollama(f) => Box::new(llm::ollama::OllamaProvider::new(
            &f.endpoint(),
            llm::ollama::OllamaOptions::default(),
            catalog,
        )?),
    })
}

/// The model side of one run: on the fake, or the real service as configured for `generate`.
async fn model_choice(
    t: &Target,
    fake: Option<&Fake>,
    catalog: &Arc<Catalog>,
) -> Result<ModelChoice> {
    match fake {
        Some(f) => Ok(ModelChoice {
            provider: fake_provider(f, catalog.clone()).await?,
            model: t.model.clone(),
            catalog: catalog.clone(),
            max_tokens: None,
            temperature: None,
            notices: Vec::new(),
        }),
        None => {
            let flags = Flags {
                provider: Some(t.provider.clone()),
                model: Some(t.model.clone()),
                aws_region: None,
                aws_profile: None,
                routing: None,
            };
            let sel = providers_setup::select(&flags, &Default::default())?
                .with_context(|| format!("--target {}: no provider selected", t.spec))?;
            super::generate::model_choice(sel).await
        }
    }
}

/// One report's figures.
#[derive(Debug, Clone, Serialize)]
struct RunFigures {
    wall_s: f64,
    model_calls: u64,
    input_tokens: u64,
    output_tokens: u64,
    cached_tokens: u64,
    cost_usd: Option<f64>,
    first_tokens_s: Vec<f64>,
    /// Why the rule-based coach wrote a part (the report then does not measure the model).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fallbacks: Vec<String>,
}

fn figures(o: &workflow::Outcome) -> RunFigures {
    let mut f = RunFigures {
        wall_s: o.wall_s,
        model_calls: 0,
        input_tokens: 0,
        output_tokens: 0,
        cached_tokens: 0,
        cost_usd: Some(0.0),
        first_tokens_s: Vec::new(),
        fallbacks: Vec::new(),
    };
    for p in &o.phases {
        let c = &p.cost;
        f.model_calls += u64::from(c.model_calls);
        f.input_tokens += c.input_tokens;
        f.output_tokens += c.output_tokens;
        f.cached_tokens += c.cached_tokens;
        f.cost_usd = f.cost_usd.zip(c.cost_usd).map(|(a, b)| a + b);
        f.first_tokens_s.extend(&p.first_tokens_s);
        f.fallbacks.extend(p.fallback.iter().cloned());
    }
    f
}

/// Sums over a target's reports (what the fakes' scripted usage adds up to).
#[derive(Debug, Clone, Default, Serialize)]
struct Totals {
    model_calls: u64,
    input_tokens: u64,
    output_tokens: u64,
    cached_tokens: u64,
    cost_usd: Option<f64>,
}

/// A target against the first: ratio of this target's figure to the first's.
#[derive(Debug, Clone, Serialize)]
struct VsFirst {
    cost_ratio: Option<f64>,
    wall_ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
struct TargetRow {
    target: String,
    provider: String,
    model: String,
    /// The model that answered (what the cost is priced by).
    model_used: Option<String>,
    reports: u32,
    /// Reports the model wrote completely (no part by the rule-based coach).
    model_written: u32,
    /// Per report (mean).
    model_calls: f64,
    input_tokens: f64,
    output_tokens: f64,
    cached_tokens: f64,
    /// Median over every call.
    first_token_s: Option<f64>,
    wall_s_median: f64,
    wall_s_p90: f64,
    cost_per_report_usd: Option<f64>,
    cost_per_month_usd: Option<f64>,
    totals: Totals,
    #[serde(skip_serializing_if = "Option::is_none")]
    vs_first: Option<VsFirst>,
    runs: Vec<RunFigures>,
}

/// Nearest-rank percentile `p` (0–100) of `v`.
fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn row(t: &Target, model_used: Option<String>, runs: Vec<RunFigures>, per_month: u32) -> TargetRow {
    let n = runs.len() as f64;
    let mut totals = Totals {
        cost_usd: Some(0.0),
        ..Totals::default()
    };
    for r in &runs {
        totals.model_calls += r.model_calls;
        totals.input_tokens += r.input_tokens;
        totals.output_tokens += r.output_tokens;
        totals.cached_tokens += r.cached_tokens;
        totals.cost_usd = totals.cost_usd.zip(r.cost_usd).map(|(a, b)| a + b);
    }
    let walls: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
    let first: Vec<f64> = runs.iter().flat_map(|r| r.first_tokens_s.clone()).collect();
    let cost = totals.cost_usd.map(|c| c / n);
    TargetRow {
        target: t.spec.clone(),
        provider: t.provider.clone(),
        model: t.model.clone(),
        model_used,
        reports: runs.len() as u32,
        model_written: runs.iter().filter(|r| r.fallbacks.is_empty()).count() as u32,
        model_calls: totals.model_calls as f64 / n,
        input_tokens: totals.input_tokens as f64 / n,
        output_tokens: totals.output_tokens as f64 / n,
        cached_tokens: totals.cached_tokens as f64 / n,
        first_token_s: (!first.is_empty()).then(|| median(&first)),
        wall_s_median: median(&walls),
        wall_s_p90: percentile(&walls, 90.0),
        cost_per_report_usd: cost,
        cost_per_month_usd: cost.map(|c| c * f64::from(per_month)),
        totals,
        vs_first: None,
        runs,
    }
}

#[derive(Debug, Serialize)]
struct PaceJson {
    first_token_s: f64,
    tokens_per_second: f64,
}

#[derive(Debug, Serialize)]
struct PhaseUsage {
    input_tokens: u64,
    output_tokens: u64,
}

/// What each fake reports for one report's two calls.
#[derive(Debug, Serialize)]
struct Scripted {
    analysis: PhaseUsage,
    plan: PhaseUsage,
}

#[derive(Debug, Serialize)]
struct BenchJson {
    workload: String,
    runs: u32,
    reports_per_month: u32,
    offline_fakes: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pace: Option<PaceJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scripted: Option<Scripted>,
    targets: Vec<TargetRow>,
}

pub fn run(global: &Global, args: BenchArgs) -> Result<()> {
    let targets: Vec<Target> = args
        .targets
        .iter()
        .map(|s| parse_target(s, args.offline_fakes))
        .collect::<Result<_>>()?;
    if args.offline_fakes
        && !(args.fake_first_token >= 0.0
            && args.fake_tokens_per_second > 0.0
            && args.fake_first_token.is_finite()
            && args.fake_tokens_per_second.is_finite())
    {
        bail!("--fake-first-token must be ≥ 0 and --fake-tokens-per-second > 0");
    }
    let pace = Pace {
        first_token: Duration::from_secs_f64(args.fake_first_token),
        tokens_per_second: args.fake_tokens_per_second,
    };
    let catalog = Arc::new(crate::config::load()?.catalog()?);
    let work = match &args.out {
        Some(dir) => dir.join("work"),
        None => std::env::temp_dir().join(format!("cycling-ai-bench-{}", std::process::id())),
    };
    // A scratch directory of our own: earlier runs' reports and plans must not mix in.
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("clearing {}", work.display()))?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let say = |text: &str| {
        if !global.json {
            eprintln!("{text}");
        }
    };
    say("preparing the workload: the demo season and its rule-based report …");
    let workload = runtime.block_on(prepare(&work, &args))?;
    let mut rows = Vec::new();
    for t in &targets {
        let fake = match args.offline_fakes {
            true => Some(runtime.block_on(start_fake(t, args.runs, &workload.answers, pace))),
            false => None,
        };
        let mut runs = Vec::new();
        let mut model_used = None;
        for i in 1..=args.runs {
            let out = work
                .join("reports")
                .join(t.spec.replace([':', '/'], "_"))
                .join(i.to_string());
            let mut options = report_options(&work, out, &args);
            options.data_dir = workload.data_dir.clone();
            let outcome = runtime.block_on(async {
                options.model = Some(model_choice(t, fake.as_ref(), &catalog).await?);
                workflow::run(options, &Silent)
                    .await
                    .with_context(|| format!("{} report {i}", t.spec))
            })?;
            let f = figures(&outcome);
            say(&format!(
                "{} report {i}/{}: {:.1} s, {} calls{}",
                t.spec,
                args.runs,
                f.wall_s,
                f.model_calls,
                if f.fallbacks.is_empty() {
                    String::new()
                } else {
                    format!(
                        " — the rule-based coach stood in: {}",
                        f.fallbacks.join("; ")
                    )
                }
            ));
            model_used = outcome.model.clone();
            runs.push(f);
        }
        rows.push(row(t, model_used, runs, args.reports_per_month));
    }
    if let Some(first) = rows.first().cloned() {
        for r in rows.iter_mut().skip(1) {
            r.vs_first = Some(VsFirst {
                cost_ratio: r
                    .cost_per_report_usd
                    .zip(first.cost_per_report_usd)
                    .filter(|(_, f)| *f > 0.0)
                    .map(|(c, f)| c / f),
                wall_ratio: r.wall_s_median / first.wall_s_median,
            });
        }
    }
    let bench = BenchJson {
        workload: workload.description,
        runs: args.runs,
        reports_per_month: args.reports_per_month,
        offline_fakes: args.offline_fakes,
        pace: args.offline_fakes.then_some(PaceJson {
            first_token_s: args.fake_first_token,
            tokens_per_second: args.fake_tokens_per_second,
        }),
        scripted: args.offline_fakes.then(|| Scripted {
            analysis: PhaseUsage {
                input_tokens: ANALYSIS_INPUT_TOKENS,
                output_tokens: tokens_of(&workload.answers.narrative),
            },
            plan: PhaseUsage {
                input_tokens: PLAN_INPUT_TOKENS,
                output_tokens: tokens_of(&workload.answers.overview),
            },
        }),
        targets: rows,
    };
    let markdown = markdown(&bench);
    if let Some(dir) = &args.out {
        let json = serde_json::to_string_pretty(&bench)?;
        for (name, text) in [
            ("bench.json", json.as_str()),
            ("bench.md", markdown.as_str()),
        ] {
            let path = dir.join(name);
            ride::fs::write_atomic(&path, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if args.out.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    if global.json {
        return print_json(&bench);
    }
    println!("{}", term::heading(&heading(&bench)));
    println!("{}", table(&bench));
    if let Some(dir) = &args.out {
        println!(
            "\nWrote {} and {}",
            dir.join("bench.json").display(),
            dir.join("bench.md").display()
        );
    }
    Ok(())
}

fn heading(b: &BenchJson) -> String {
    let source = match &b.pace {
        Some(p) => format!(
            "offline fakes at {:.2} s to the first token and {} tokens/s",
            p.first_token_s, p.tokens_per_second
        ),
        None => "the real providers".into(),
    };
    format!("{} reports per target on {}; {source}", b.runs, b.workload)
}

const HEADER: [&str; 12] = [
    "target",
    "model that answered",
    "calls",
    "input tok",
    "output tok",
    "cached tok",
    "first token",
    "wall median",
    "wall p90",
    "cost / report",
    "cost / month",
    "vs first",
];

fn usd(c: Option<f64>) -> String {
    c.map_or_else(|| "price unknown".into(), |c| format!("${c:.4}"))
}

/// "×1.10 (+10 %)".
fn ratio(r: f64) -> String {
    format!("×{r:.2} ({:+.0} %)", (r - 1.0) * 100.0)
}

fn cells(b: &BenchJson, r: &TargetRow) -> Vec<String> {
    let vs = match &r.vs_first {
        None => "—".to_string(),
        Some(v) => format!(
            "cost {}, wall {}",
            v.cost_ratio.map_or_else(|| "n/a".into(), ratio),
            ratio(v.wall_ratio)
        ),
    };
    let mut used = r.model_used.clone().unwrap_or_else(|| "–".into());
    if r.model_written < r.reports {
        used.push_str(&format!(
            " ({} of {} by the rule-based coach)",
            r.reports - r.model_written,
            r.reports
        ));
    }
    vec![
        r.target.clone(),
        used,
        format!("{:.1}", r.model_calls),
        format!("{:.0}", r.input_tokens),
        format!("{:.0}", r.output_tokens),
        format!("{:.0}", r.cached_tokens),
        r.first_token_s
            .map_or_else(|| "–".into(), |s| format!("{s:.2} s")),
        format!("{:.2} s", r.wall_s_median),
        format!("{:.2} s", r.wall_s_p90),
        usd(r.cost_per_report_usd),
        format!(
            "{} ({} reports)",
            usd(r.cost_per_month_usd),
            b.reports_per_month
        ),
        vs,
    ]
}

fn table(b: &BenchJson) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_BORDERS_ONLY);
    t.set_header(HEADER.to_vec());
    for r in &b.targets {
        t.add_row(cells(b, r).into_iter().enumerate().map(|(i, c)| {
            let cell = Cell::new(c);
            if (2..=10).contains(&i) {
                cell.set_alignment(CellAlignment::Right)
            } else {
                cell
            }
        }));
    }
    t
}

fn markdown(b: &BenchJson) -> String {
    let mut s = format!("**{}**\n\n", heading(b));
    s.push_str(&format!("| {} |\n", HEADER.join(" | ")));
    s.push_str(&format!("|{}\n", "---|".repeat(HEADER.len())));
    for r in &b.targets {
        s.push_str(&format!("| {} |\n", cells(b, r).join(" | ")));
    }
    s.push_str(
        "\nPer report: mean calls and tokens (input includes cached), median time to the first token over all calls; cost from the catalog's prices for the model that answered.\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_nearest_rank_p90() {
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median(&ten), 5.5);
        assert_eq!(percentile(&ten, 90.0), 9.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        // Three runs: the p90 is the slowest.
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 90.0), 3.0);
        assert_eq!(percentile(&[4.0], 90.0), 4.0);
    }

    #[test]
    fn targets_name_a_known_provider_and_a_model() {
        let t = parse_target("bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0", true).unwrap();
        // Only the first colon separates: Bedrock ids have their own.
        assert_eq!(
            (t.provider.as_str(), t.model.as_str()),
            ("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
        );
        let err = |s: &str, offline: bool| parse_target(s, offline).unwrap_err().to_string();
        assert!(err("bedrock", false).contains("expected PROVIDER:MODEL"));
        assert!(err("bedrock:", false).contains("expected PROVIDER:MODEL"));
        assert!(err("azure:gpt-5", false).contains("unknown provider `azure`"));
    }

    #[test]
    fn ratios_read_as_factor_and_percent() {
        assert_eq!(ratio(0.91), "×0.91 (-9 %)");
        assert_eq!(ratio(1.5), "×1.50 (+50 %)");
    }
}
