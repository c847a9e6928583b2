//! The prompts: "weekly review", "plan my next week", "analyse my last ride". Each is one user
//! message: the coaching instructions `chat` gives its model (`agent::coaching`, with the
//! athlete snapshot or the onboarding steps), then the request.

use agent::toolbox::ToolBox;
use jiff::ToSpan;
use rmcp::model::{Prompt, PromptArgument, PromptMessage, Role};

use crate::Server;
use crate::athletes::{athlete_for, tools_for};

/// name, title, description.
const PROMPTS: [(&str, &str, &str); 3] = [
    (
        "weekly_review",
        "Weekly review",
        "Review the last training week: volume and load against the weeks before, plan compliance, fitness trend, three points for next week.",
    ),
    (
        "plan_next_week",
        "Plan my next week",
        "A day-by-day plan for next week from the current plan, fitness and fatigue, and the athlete's availability.",
    ),
    (
        "analyse_last_ride",
        "Analyse my last ride",
        "What the most recent ride was, its intensity and zones, how it compares with similar rides, what it means for the next days.",
    ),
];

pub fn list() -> Vec<Prompt> {
    PROMPTS
        .iter()
        .map(|(name, title, description)| {
            Prompt::new(
                *name,
                Some(*description),
                Some(vec![
                    PromptArgument::new("athlete")
                        .with_description("The athlete's name (default: the athlete in use).")
                        .with_required(false),
                ]),
            )
            .with_title(*title)
        })
        .collect()
}

/// The prompt's message, or why there is none (unknown prompt or athlete).
pub fn get(
    server: &Server,
    name: &str,
    athlete: Option<&str>,
) -> Result<(String, Vec<PromptMessage>), String> {
    let Some((_, title, _)) = PROMPTS.iter().find(|(n, ..)| *n == name) else {
        let names: Vec<&str> = PROMPTS.iter().map(|(n, ..)| *n).collect();
        return Err(format!(
            "no prompt {name:?}; the prompts are: {}",
            names.join(", ")
        ));
    };
    let mut store = server.open_store()?;
    let athlete = athlete_for(&mut store, athlete, server.default_athlete())?;
    drop(store);
    let today = server.today();
    let tools = tools_for(&server.data_dir, &athlete, today)?;
    let snapshot = match tools.profile() {
        Some(_) => Some(
            tools
                .snapshot()
                .map_err(|e| format!("summarising {:?}: {e}", athlete.name))?,
        ),
        None => None,
    };
    let instructions = agent::coaching::system_prompt(&tools.definitions(), snapshot.as_deref());
    let request = request(name, today);
    let text = format!(
        "{instructions}\n## Request (athlete {:?}, today {today})\n{request}\n",
        athlete.name
    );
    Ok((
        title.to_string(),
        vec![PromptMessage::new_text(Role::User, text)],
    ))
}

fn request(name: &str, today: jiff::civil::Date) -> String {
    let days_to_monday = 7 - i64::from(today.weekday().to_monday_zero_offset());
    let next_monday = today.checked_add(days_to_monday.days()).unwrap_or(today);
    match name {
        "weekly_review" => "Review my last training week (Monday to Sunday): volume and load \
             against the weeks before (get_weekly_volume), how it went against my plan if I have \
             one (plan_compliance), and what my fitness trend says (get_fitness_trend). End with \
             three concrete points for next week."
            .to_owned(),
        "plan_next_week" => format!(
            "Plan my next week, Monday {next_monday} to Sunday: start from my current plan if I \
             have one (get_training_plan with date {next_monday}), my fitness and fatigue \
             (get_fitness_trend) and my availability in the profile. Give it day by day: \
             workout, duration, target power in W or zones; keep hard days apart and train only \
             on my training days. Store nothing unless I ask; a new plan goes through \
             create_plan_overview's preview first."
        ),
        _ => "Analyse my most recent ride: find it with list_activities (sport ride, limit 1) \
             and read it with get_activity. Tell me what kind of session it was, its intensity \
             (NP and IF against my FTP), time in zones, how it compares with similar recent \
             rides, and what it means for the next few days."
            .to_owned(),
    }
}
