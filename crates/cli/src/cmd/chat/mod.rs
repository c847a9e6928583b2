//! `cycling-ai chat`: a streaming REPL with the coach.
//!
//! One process = one athlete (the data directory's) and one session at a time. Each line the user
//! types is a turn of the agent loop ([`agent::turn::Agent::run_turn`]) over the coach's tools
//! ([`agent::tools::CoachTools`]); the answer streams to stdout as it arrives (Markdown rendered
//! on a terminal, verbatim otherwise), tool activity goes to stderr in one short line per call.
//! After every turn the whole session is written to the store in one statement; `--session ID`
//! and `--continue` resume it with the provider and model it used unless flags say otherwise.
//!
//! Ctrl-C while an answer streams cancels that answer: the turn's future is dropped, which the
//! agent guarantees leaves the conversation exactly as it was. A turn that fails (a stream cut
//! mid-answer, a provider error) is reported and the session keeps every earlier turn.
//!
//! `/clear` starts a new, empty session with the same provider and model; the previous one stays
//! in the store and can be resumed with `--session ID`.

mod commands;
mod input;
use agent::coaching as prompt;
mod render;
mod session;

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use agent::toolbox::ToolBox;
use agent::turn::{Agent, AgentConfig, AgentEvent, TurnStop};
use anyhow::{Context, Result, anyhow, bail};
use llm::log::InteractionLog;
use llm::{Catalog, Message, Provider, ToolChoice, Usage};
use store::Store;

use super::{Global, athlete};
use crate::args::ChatArgs;
use crate::config;
use crate::providers_setup;
use crate::term;

use commands::{Command, Line};
use input::{Input, Reader};
use session::Session;

/// The provider name that answers from a recorded interaction log.
const REPLAY: &str = "replay";

/// How many sessions `/sessions` lists.
const SESSIONS_LISTED: usize = 20;

pub fn run(global: &Global, args: ChatArgs) -> Result<()> {
    let mut store = Store::open(&global.data_dir)
        .with_context(|| format!("opening the database in {}", global.data_dir.display()))?;
    let ctx = athlete::resolve(global, &mut store, args.profile.as_deref())?;
    let athlete_id = ctx.athlete.id;
    let resumed = resume(&store, athlete_id, &args)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let setup = connect(&args, resumed.as_ref()).await?;
        let today = jiff::ZonedDateTime::now().date();
        let mut tools = agent::tools::CoachTools::new(
            global.data_dir.clone(),
            athlete_id,
            ctx.has_profile.then(|| ctx.profile.clone()),
            today,
        );
        if let Some(path) = &args.profile {
            // The profile the user named is also where onboarding updates are written.
            tools = tools.with_profile_file(path.clone());
        }
        // Computed once: the system prompt must stay byte-identical for the whole session.
        let snapshot = if ctx.has_profile {
            Some(
                tools
                    .snapshot()
                    .context("summarising the athlete for the coach")?,
            )
        } else {
            None
        };
        let definitions = tools.definitions();
        let system = prompt::system_prompt(&definitions, snapshot.as_deref());
        let log = match InteractionLog::open(&global.data_dir) {
            Ok(mut log) => {
                log.set_athlete(&ctx.athlete.name);
                Some(log)
            }
            Err(e) => {
                eprintln!("{} {e}; model calls are not logged", term::warning_label());
                None
            }
        };
        let session = match resumed {
            Some(mut s) => {
                // Flags may have switched the provider or model: the session records what it
                // now uses.
                s.provider = setup.provider_name.clone();
                s.model = setup.model.clone();
                s
            }
            None => Session::new(athlete_id, &setup.provider_name, &setup.model),
        };
        let mut repl = Repl {
            store,
            store_dir: global.data_dir.clone(),
            provider: setup.provider,
            provider_name: setup.provider_name,
            catalog: setup.catalog,
            tools: &tools,
            log,
            system,
            config: setup.config,
            session,
            markdown: term::color_stdout(),
            interactive: std::io::stdin().is_terminal(),
            failed_turns: 0,
        };
        repl.banner(ctx.has_profile);
        repl.run().await
    })
}

/// The session named by `--session` / `--continue`, if any.
fn resume(store: &Store, athlete_id: i64, args: &ChatArgs) -> Result<Option<Session>> {
    let stored = if let Some(id) = &args.session {
        Some(store.session(athlete_id, id)?.ok_or_else(|| {
            anyhow!(
                "--session {id}: no chat session with that id for this athlete (`/sessions` in a chat lists them, or use --continue for the latest)"
            )
        })?)
    } else if args.continue_ {
        Some(store.latest_session(athlete_id)?.ok_or_else(|| {
            anyhow!("--continue: there is no earlier chat session to continue; start one with `cycling-ai chat`")
        })?)
    } else {
        None
    };
    stored.as_ref().map(Session::from_stored).transpose()
}

/// The provider, model and agent settings a chat runs with.
struct Setup {
    provider: Box<dyn Provider>,
    provider_name: String,
    model: String,
    catalog: Arc<Catalog>,
    config: AgentConfig,
}

/// Choose and build the provider: flags, then the resumed session's provider and model, then
/// the environment and config file.
async fn connect(args: &ChatArgs, resumed: Option<&Session>) -> Result<Setup> {
    let provider = args
        .provider
        .clone()
        .or_else(|| resumed.map(|s| s.provider.clone()));
    // The session's model belongs to the session's provider only.
    let model = args.model.clone().or_else(|| {
        resumed
            .filter(|s| Some(&s.provider) == provider.as_ref())
            .map(|s| s.model.clone())
    });
    if provider.as_deref() == Some(REPLAY) {
        return connect_replay(args, model);
    }
    if args.from.is_some() {
        bail!("--from LOG is for --provider replay only");
    }
    let flags = args.aws.flags(provider, model);
    let Some(sel) = providers_setup::select(&flags, &args.aws.bedrock)? else {
        eprint!("{}", setup_help(flags.provider.as_deref()));
        bail!("chat needs a model provider and none is configured (see above)");
    };
    let doing = format!(
        "setting up {} (`cycling-ai providers check --provider {}` diagnoses it)",
        sel.provider, sel.provider
    );
    let c = providers_setup::connect_selection(&sel, doing).await?;
    let provider = c.provider;
    let defaults = AgentConfig::default();
    let config = AgentConfig {
        max_output_tokens: sel.max_tokens(defaults.max_output_tokens),
        temperature: sel.temperature(),
        ..defaults
    };
    Ok(Setup {
        provider,
        provider_name: sel.provider.clone(),
        model: if c.typed_resolves_alike {
            sel.model.clone()
        } else {
            c.model
        },
        catalog: sel.catalog.clone(),
        config,
    })
}

/// `--provider replay --from LOG`: answers come from a recorded interaction log.
fn connect_replay(args: &ChatArgs, model: Option<String>) -> Result<Setup> {
    let Some(path) = &args.from else {
        bail!(
            "--provider replay needs --from LOG (an interactions.jsonl written by an earlier run)"
        );
    };
    let loaded = config::load()?;
    let catalog = Arc::new(loaded.catalog()?);
    let replay = llm::replay::ReplayProvider::from_log(path)
        .with_context(|| format!("--from {}: reading the interaction log", path.display()))?;
    // The replay checks each request against its recording, model included: by default ask
    // for the model the log starts with.
    let model = model
        .or_else(|| replay.first_model().map(str::to_string))
        .ok_or_else(|| {
            anyhow!(
                "--from {}: the interaction log has no calls to replay",
                path.display()
            )
        })?;
    Ok(Setup {
        provider: Box::new(replay),
        provider_name: REPLAY.into(),
        model,
        catalog,
        config: AgentConfig::default(),
    })
}

/// What to do when no provider is configured: one block on stderr, then a one-line error.
fn setup_help(chosen: Option<&str>) -> String {
    let mut s = String::new();
    if chosen == Some(providers_setup::OFFLINE) {
        s.push_str(
            "`offline` is the rule-based coach of `generate`; chat needs a language model.\n",
        );
    } else {
        s.push_str("chat needs a language model, and no provider is configured.\n");
    }
    s.push_str("Pick a provider and give it its credentials in the environment:\n");
    for p in llm::registry::PROVIDERS {
        let found: Vec<&str> = p
            .credential_vars
            .iter()
            .copied()
            .filter(|v| llm::registry::env_value(v).is_some())
            .collect();
        let note = if found.is_empty() {
            String::new()
        } else {
            format!("   [found: {}]", found.join(", "))
        };
        s.push_str(&format!("  {:<10} {}{note}\n", p.name, p.setup_hint));
    }
    s.push_str(
        "Then choose it and a model, one of:\n\
         \x20 cycling-ai chat --provider NAME --model ID      (models: `cycling-ai providers list`)\n\
         \x20 export CYCLING_AI_PROVIDER=NAME                  (and providers.NAME.model in the config)\n\
         \x20 cycling-ai config init                           (writes a commented config file to edit)\n\
         Check the result with `cycling-ai providers check`.\n",
    );
    s
}

/// How a turn ended, for the REPL.
enum TurnEnd {
    Done,
    Failed,
    Cancelled,
}

struct Repl<'a> {
    store: Store,
    /// The data directory (for messages).
    store_dir: std::path::PathBuf,
    provider: Box<dyn Provider>,
    provider_name: String,
    catalog: Arc<Catalog>,
    tools: &'a dyn ToolBox,
    log: Option<InteractionLog>,
    /// Built once per process; byte-identical for every call (cacheable).
    system: String,
    config: AgentConfig,
    session: Session,
    markdown: bool,
    interactive: bool,
    failed_turns: u32,
}

impl Repl<'_> {
    fn banner(&self, has_profile: bool) {
        let s = &self.session;
        let what = if s.turns > 0 {
            format!("resuming session {} ({} turns)", s.id, s.turns)
        } else {
            format!("session {}", s.id)
        };
        eprintln!(
            "{} — {}/{}. /help for commands, Ctrl-D to leave.",
            what, s.provider, s.model
        );
        if self.provider_name == REPLAY {
            eprintln!("Replaying recorded answers: this session is not saved.");
        }
        if !has_profile {
            eprintln!(
                "No athlete profile yet: the coach will ask for your FTP, heart rates, weight and goals first."
            );
        }
    }

    async fn run(&mut self) -> Result<()> {
        let mut reader = if self.interactive {
            Reader::terminal()
        } else {
            Reader::pipe()
        };
        let prompt = if term::color_stdout() {
            "\x1b[1myou ›\x1b[0m ".to_string()
        } else {
            "you › ".to_string()
        };
        loop {
            let input = if self.interactive {
                // The editor owns the terminal in raw mode: Ctrl-C arrives as a key, not a signal.
                reader.next(&prompt).await
            } else {
                tokio::select! {
                    i = reader.next(&prompt) => i,
                    _ = tokio::signal::ctrl_c() => Input::Interrupted,
                }
            };
            let line = match input {
                Input::Line(l) => l,
                Input::Eof => break,
                Input::Failed(message) => {
                    eprintln!("{} {message}", term::warning_label());
                    break;
                }
                Input::Interrupted if self.interactive => {
                    eprintln!("(Ctrl-D or /quit leaves; Ctrl-C during an answer cancels it)");
                    continue;
                }
                Input::Interrupted => break,
            };
            match commands::parse(&line) {
                Line::Empty => {}
                Line::Message(text) => match self.turn(&text).await? {
                    TurnEnd::Done | TurnEnd::Cancelled => {}
                    TurnEnd::Failed => self.failed_turns += 1,
                },
                Line::Command(Command::Quit) => break,
                Line::Command(cmd) => self.command(cmd)?,
                Line::Invalid(message) => eprintln!("{message}"),
            }
        }
        if self.failed_turns > 0 {
            bail!(
                "{} turn(s) failed (see above); session {} keeps every completed turn (resume with --session {})",
                self.failed_turns,
                self.session.id,
                self.session.id
            );
        }
        Ok(())
    }

    /// One question → one streamed answer; the session is saved whatever happens.
    async fn turn(&mut self, text: &str) -> Result<TurnEnd> {
        let agent = Agent {
            provider: self.provider.as_ref(),
            tools: self.tools,
            catalog: &self.catalog,
            log: self.log.as_ref(),
            model: self.session.model.clone(),
            system: self.system.clone(),
            config: self.config.clone(),
        };
        let mut history = std::mem::take(&mut self.session.messages);
        let mut calls: Vec<(String, Usage)> = Vec::new();
        let mut renderer = render::Renderer::new(self.markdown);
        let mut streamed = false;
        let mut profile_saved = false;
        let dim = term::color_stderr();
        let result = {
            let mut on_event = |event: AgentEvent| match event {
                AgentEvent::TextDelta(t) => {
                    streamed |= !t.is_empty();
                    out(&renderer.push(&t));
                }
                AgentEvent::ToolStarted { .. } => out(&renderer.finish()),
                AgentEvent::ToolFinished {
                    name,
                    elapsed,
                    ok,
                    reused,
                    ..
                } => {
                    profile_saved |= ok && name == prompt::SAVE_PROFILE_TOOL;
                    eprintln!("{}", tool_line(&name, elapsed, ok, reused, dim));
                }
                AgentEvent::CallFinished { model_used, usage } => {
                    out(&renderer.finish());
                    calls.push((model_used, usage));
                }
            };
            let turn = agent.run_turn(
                &mut history,
                Message::user(text),
                ToolChoice::Auto,
                &mut on_event,
            );
            tokio::select! {
                r = turn => Some(r),
                _ = tokio::signal::ctrl_c() => None,
            }
        };
        out(&renderer.finish());
        if profile_saved {
            eprintln!(
                "The athlete profile is saved in {}: every command (analyze, generate, the next chat) uses it from now on.",
                self.store_dir.display()
            );
        }
        // Calls made are billed whether or not the turn completed.
        let mut turn_usage = llm::ModelUsage::default();
        for (model, usage) in &calls {
            let cost = self.call_cost(model, usage);
            self.session.record_call(model, usage, cost);
            turn_usage.merge(&llm::ModelUsage {
                calls: 1,
                usage: *usage,
                cost_usd: cost,
            });
        }
        // On failure or cancellation the agent left `history` untouched.
        self.session.messages = history;
        let end = match result {
            None => {
                eprintln!("cancelled — the conversation is as it was before this question");
                TurnEnd::Cancelled
            }
            Some(Err(e)) => {
                eprintln!("{} the answer failed: {e}", term::error_label());
                eprintln!(
                    "the session keeps its {} earlier turn(s){}; ask again to retry",
                    self.session.turns,
                    if streamed {
                        " (the partial answer above is not kept)"
                    } else {
                        ""
                    }
                );
                TurnEnd::Failed
            }
            Some(Ok(outcome)) => {
                if let TurnStop::TerminalTool { name, .. } = &outcome.stop
                    && outcome.text.trim().is_empty()
                {
                    println!("({name} done)");
                }
                if let Some(message) = &outcome.message {
                    eprintln!("{} {message}", term::warning_label());
                }
                for w in &outcome.warnings {
                    eprintln!("{} {w}", term::warning_label());
                }
                if self.interactive {
                    let u = &turn_usage.usage;
                    let line = format!(
                        "  {} call(s), {} in / {} out tokens ({} cached), {}",
                        turn_usage.calls,
                        u.input,
                        u.output,
                        u.cache_read + u.cache_write,
                        turn_usage
                            .cost_usd
                            .map_or("price unknown".into(), |c| format!("${c:.4}"))
                    );
                    eprintln!("{}", dimmed(&line, dim));
                }
                self.session.turn_done(text);
                TurnEnd::Done
            }
        };
        self.save()?;
        Ok(end)
    }

    /// What a call cost: the catalog price of the model actually used; a replayed call costs
    /// nothing (no service was called).
    fn call_cost(&self, model: &str, usage: &Usage) -> Option<f64> {
        if self.provider_name == REPLAY {
            return Some(0.0);
        }
        self.catalog.cost(&self.provider_name, model, usage).usd()
    }

    /// Write the session, once it has something in it. A replay is not saved: it reproduces a
    /// recorded conversation, and must not become the session `--continue` picks up next.
    fn save(&mut self) -> Result<()> {
        if self.provider_name == REPLAY
            || (self.session.turns == 0 && self.session.usage.is_empty())
        {
            return Ok(());
        }
        self.session.save(&mut self.store)
    }

    fn command(&mut self, cmd: Command) -> Result<()> {
        match cmd {
            Command::Help => print!("{}", commands::help_text()),
            Command::Quit => {}
            Command::Clear => {
                let old = self.session.id.clone();
                let had_turns = self.session.turns > 0;
                let mut fresh = Session::new(
                    self.session.athlete_id,
                    &self.session.provider,
                    &self.session.model,
                );
                while fresh.id == old {
                    fresh.id = session::new_id();
                }
                self.session = fresh;
                if had_turns {
                    println!(
                        "new session {} (the previous one stays: resume it with --session {old})",
                        self.session.id
                    );
                } else {
                    println!("new session {}", self.session.id);
                }
            }
            Command::History => print!("{}", self.session.history_report()),
            Command::Session => {
                let s = &self.session;
                println!("  id:       {}", s.id);
                println!("  provider: {}", s.provider);
                println!("  model:    {}", s.model);
                println!("  turns:    {}", s.turns);
                println!("  messages: {}", s.messages.len());
                if let Some(t) = &s.title {
                    println!("  title:    {t}");
                }
                if let Some(c) = &s.created_at {
                    println!("  started:  {c}");
                }
            }
            Command::Sessions => {
                let list = self
                    .store
                    .sessions(self.session.athlete_id, SESSIONS_LISTED)
                    .context("listing the chat sessions")?;
                if list.is_empty() {
                    println!("  no saved sessions yet (a session is saved after its first turn)");
                }
                for s in list {
                    let mark = if s.id == self.session.id { "*" } else { " " };
                    println!(
                        "{mark} {}  {}  {:>3} turns  {}/{}  {}",
                        s.id,
                        s.updated_at
                            .get(..16)
                            .unwrap_or(&s.updated_at)
                            .replace('T', " "),
                        s.turns,
                        s.provider,
                        s.model,
                        s.title.as_deref().unwrap_or("")
                    );
                }
            }
            Command::Cost => print!("{}", self.session.cost_report()),
            Command::Model(None) => println!("  model: {}", self.session.model),
            Command::Model(Some(id)) => {
                if self.catalog.find(&self.provider_name, &id).is_none() {
                    eprintln!(
                        "{} `{id}` is not in the {} catalog: its price and context window are unknown (see `cycling-ai providers list --provider {}`)",
                        term::warning_label(),
                        self.provider_name,
                        self.provider_name
                    );
                }
                println!(
                    "  model: {} → {id} from the next question on",
                    self.session.model
                );
                self.session.model = id;
                self.save()?;
            }
            Command::Tools => {
                for d in self.tools.definitions() {
                    println!("  {:<28} {}", d.name, session::one_line(&d.description, 90));
                }
            }
        }
        std::io::stdout().flush().ok();
        Ok(())
    }
}

/// Write answer text now (it streams: flush every piece).
fn out(text: &str) {
    if text.is_empty() {
        return;
    }
    let mut stdout = std::io::stdout();
    // A closed stdout (the reader went away) ends the output, not the session.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// `· get_power_curve 12 ms`, `· get_activity (reused)`, `· get_zones failed 3 ms`.
fn tool_line(name: &str, elapsed: Duration, ok: bool, reused: bool, dim: bool) -> String {
    let detail = if reused {
        "(reused)".to_string()
    } else {
        let ms = elapsed.as_millis();
        if ok {
            format!("{ms} ms")
        } else {
            format!("failed {ms} ms")
        }
    };
    dimmed(&format!("· {name} {detail}"), dim)
}

fn dimmed(text: &str, dim: bool) -> String {
    if dim {
        format!("\x1b[2m{text}\x1b[22m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_lines_are_compact() {
        assert_eq!(
            tool_line(
                "get_power_curve",
                Duration::from_millis(12),
                true,
                false,
                false
            ),
            "· get_power_curve 12 ms"
        );
        assert_eq!(
            tool_line("get_activity", Duration::from_millis(40), true, true, false),
            "· get_activity (reused)"
        );
        assert_eq!(
            tool_line(
                "get_zones",
                Duration::from_micros(3_400),
                false,
                false,
                false
            ),
            "· get_zones failed 3 ms"
        );
    }

    #[test]
    fn setup_help_names_every_provider_and_the_ways_to_choose() {
        let h = setup_help(None);
        for p in llm::registry::names() {
            assert!(h.contains(&format!("  {p} ")), "{p}:\n{h}");
        }
        for needle in [
            "ANTHROPIC_API_KEY",
            "--provider NAME",
            "config init",
            "providers check",
        ] {
            assert!(h.contains(needle), "{needle}:\n{h}");
        }
        assert!(setup_help(Some("offline")).starts_with("`offline` is the rule-based coach"));
    }
}
