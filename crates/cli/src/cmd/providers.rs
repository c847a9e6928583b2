//! `cycling-ai providers list`: the model catalog — what each model can do and what it costs.
//! (`providers check` and `providers bench` live in their own modules.)

use anyhow::{Result, bail};
use comfy_table::{Cell, CellAlignment, Table, presets};
use llm::catalog::{Catalog, ModelEntry};

use super::{Global, print_json};
use crate::args::ProvidersCommand;
use crate::term;

pub fn run(global: &Global, cmd: ProvidersCommand) -> Result<()> {
    match cmd {
        ProvidersCommand::List { provider } => list(global, provider.as_deref()),
        ProvidersCommand::Check(args) => super::check::run(global, args),
        ProvidersCommand::Bench(args) => super::bench::run(global, args),
    }
}

fn list(global: &Global, provider: Option<&str>) -> Result<()> {
    // The config file's catalog overrides apply here too, so what is listed is what is priced.
    let mut catalog: Catalog = crate::config::load()?.catalog()?;
    if let Some(p) = provider {
        if llm::registry::find(p).is_none() {
            bail!(
                "--provider {p}: expected one of {}",
                llm::registry::name_list()
            );
        }
        catalog.models.retain(|m| m.provider == p);
    }
    if global.json {
        return print_json(&catalog);
    }
    println!(
        "{}",
        term::heading(&format!(
            "Models ({} {}, prices checked {})",
            catalog.currency, catalog.unit, catalog.prices_checked
        ))
    );
    let mut t = Table::new();
    t.load_style(presets::UTF8_BORDERS_ONLY);
    t.set_header(vec![
        "provider",
        "model id",
        "aliases",
        "context",
        "tools",
        "cache",
        "input",
        "output",
        "cache read",
        "cache write",
        "checked",
    ]);
    for m in &catalog.models {
        t.add_row(row(m));
    }
    println!("{t}");
    if !catalog.note.is_empty() {
        println!("{}", catalog.note);
    }
    Ok(())
}

fn price(v: Option<f64>) -> Cell {
    Cell::new(v.map_or_else(|| "–".to_string(), |p| format!("${p:.3}")))
        .set_alignment(CellAlignment::Right)
}

fn row(m: &ModelEntry) -> Vec<Cell> {
    let tools = match (m.capabilities.tools, m.capabilities.stream_tools) {
        (true, true) => "yes",
        (true, false) => "yes (no streaming)",
        _ => "no",
    };
    let (input, output, cache_read, cache_write, checked) = match &m.prices {
        Some(p) => (
            Some(p.input),
            Some(p.output),
            p.cache_read,
            p.cache_write,
            p.checked.clone(),
        ),
        None => (None, None, None, None, "price unknown".to_string()),
    };
    // A zero write price is the catalog's explicit "no extra charge" (implicit caching),
    // not a free lunch on a paid write: say so rather than print $0.000.
    let cache_write = match cache_write {
        Some(w) if w == 0.0 && input.is_some_and(|i| i > 0.0) => {
            Cell::new("no extra").set_alignment(CellAlignment::Right)
        }
        other => price(other),
    };
    vec![
        Cell::new(&m.provider),
        Cell::new(&m.id),
        Cell::new(m.aliases.join(", ")),
        Cell::new(
            m.context_window
                .map_or_else(|| "–".into(), |c| format!("{}k", c / 1000)),
        )
        .set_alignment(CellAlignment::Right),
        Cell::new(tools),
        Cell::new(if m.capabilities.prompt_cache {
            "yes"
        } else {
            "no"
        }),
        price(input),
        price(output),
        price(cache_read),
        cache_write,
        Cell::new(checked),
    ]
}
