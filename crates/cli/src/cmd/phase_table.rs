//! The summary table of a report run (`generate`, `demo`): per phase its time, model calls,
//! tokens and cost, then a total row whose time is the run's wall time (phases 2 and 3 overlap
//! with a model, so it is less than the sum of the phases' times).

use agent::workflow::PhaseStats;

use crate::term;

/// Print the table under `heading`; `wall_s` is the whole run's wall time.
pub fn print_summary(heading: &str, phases: &[PhaseStats], wall_s: f64) {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
    t.set_header(vec![
        "phase",
        "time",
        "model calls",
        "input tok",
        "output tok",
        "cached tok",
        "cost",
    ]);
    let mut total = PhaseStats::offline("total", 0.0).cost;
    for p in phases {
        let time = if p.resumed {
            "resumed".to_string()
        } else {
            format!("{:.2} s", p.cost.seconds)
        };
        let mut row = summary_row(&p.cost, time);
        if p.fallback.is_some() {
            row[0].push_str(" (rule-based coach stood in)");
        }
        t.add_row(row);
        total.model_calls += p.cost.model_calls;
        total.input_tokens += p.cost.input_tokens;
        total.output_tokens += p.cost.output_tokens;
        total.cached_tokens += p.cost.cached_tokens;
        total.cost_usd = total.cost_usd.zip(p.cost.cost_usd).map(|(a, b)| a + b);
    }
    let time = format!("{wall_s:.2} s (wall)");
    t.add_row(summary_row(&total, time));
    println!("{}", term::heading(heading));
    println!("{t}");
}

fn summary_row(c: &report::PhaseCost, time: String) -> Vec<String> {
    vec![
        c.phase.clone(),
        time,
        c.model_calls.to_string(),
        c.input_tokens.to_string(),
        c.output_tokens.to_string(),
        c.cached_tokens.to_string(),
        c.cost_usd
            .map_or_else(|| "price unknown".into(), |c| format!("${c:.4}")),
    ]
}
