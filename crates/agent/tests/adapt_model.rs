//! `plan adapt` by a model, over the Anthropic fake (real wire format): the model's first
//! re-plan breaks a rule and rewrites a finished week; the violation goes back as the tool's
//! error, the repaired plan is accepted, and the finished weeks stay as they were whatever the
//! model returned for them.

use agent::adapt_llm::adapt_with_model;
use agent::analysis_llm::ModelSettings;
use agent::plan_llm::OverviewArgs;
use coach::adapt::{AdaptRequest, adapt};
use coach::plan::{TrainingPlan, WorkoutType};
use coach::planner::{FillInput, PlannerInput, fill_plan, offline_overview};
use coach::rules::{PlanConstraints, check_overview_with};
use jiff::civil::{Weekday, date};
use llm::testing::fake_anthropic;
use llm::testing::{ModelReply, SseReply};
use llm::{Catalog, Meter};

fn constraints() -> PlanConstraints {
    PlanConstraints {
        weeks: 11,
        available_days: vec![
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Saturday,
            Weekday::Sunday,
        ],
        hours_per_week: 8.0,
        event_date: Some(date(2026, 5, 17)),
        start_date: date(2026, 3, 2),
    }
}

fn plan() -> TrainingPlan {
    let c = constraints();
    let o = offline_overview(&PlannerInput {
        constraints: c.clone(),
        goal: None,
        ctl: None,
        ftp_w: 250.0,
        trains_strength: false,
        start_phase: None,
    });
    fill_plan(
        &o,
        &FillInput {
            start_date: c.start_date,
            ftp_w: 250.0,
            seed: 5,
            event_date: c.event_date,
            goal: None,
        },
    )
}

fn request() -> AdaptRequest {
    let c = constraints();
    AdaptRequest {
        today: date(2026, 3, 16),
        reason: Some("ill last week".into()),
        unavailable: vec![],
        event_date: None,
        last_week: None,
        fatigue: Some(coach::adapt::Fatigue {
            days: 4,
            lowest_tsb: -31.0,
        }),
        available_days: c.available_days,
        hours_per_week: c.hours_per_week,
    }
}

fn settings() -> ModelSettings {
    ModelSettings {
        model: "claude-haiku-4.5".into(),
        max_tokens: 8_000,
        temperature: None,
    }
}

#[tokio::test]
async fn a_rule_broken_by_the_model_goes_back_and_the_repair_is_taken() {
    let plan = plan();
    let req = request();
    // The model's valid answer: a re-plan with week 3 a recovery week (as the rules' own one).
    let good = adapt(&plan, &req).unwrap().plan.overview;
    let mut bad = good.clone();
    // First answer: four hard days in week 4, and week 1 (finished) rewritten.
    for d in &mut bad.weeks[3].days {
        if matches!(
            d.weekday,
            Weekday::Tuesday | Weekday::Wednesday | Weekday::Thursday | Weekday::Saturday
        ) {
            d.workout_type = WorkoutType::Threshold;
        }
    }
    bad.weeks[0].days[1].workout_type = WorkoutType::Vo2max;
    let args = |o: &coach::plan::PlanOverview| {
        serde_json::to_string(&OverviewArgs::from_overview(o)).unwrap()
    };

    let fake = fake_anthropic::start().await;
    fake.push(SseReply::Model(ModelReply::tool_calls(&[(
        "toolu_1",
        "create_plan_overview",
        &args(&bad),
    )])));
    fake.push(SseReply::Model(ModelReply::tool_calls(&[(
        "toolu_2",
        "create_plan_overview",
        &args(&good),
    )])));
    let provider = fake.provider(1);
    let catalog = Catalog::builtin();
    let mut meter = Meter::new(&provider, &catalog, None);
    let settings = settings();
    let out = adapt_with_model(&mut meter, &settings, &plan, &req)
        .await
        .unwrap();

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let first = requests[0].body.to_string();
    assert!(first.contains("Weeks 1 to 2 are DONE"), "{first}");
    assert!(first.contains("form below -25 for 4 days"), "{first}");
    assert!(first.contains("ill last week"));
    // The violation went back to the model as the tool's error, naming the week and the rule.
    let second = requests[1].body.to_string();
    assert!(second.contains("week 4: 4 hard days"), "{second}");
    // The repaired plan: every rule, the kept weeks as they were, the taper kept.
    let mut c = constraints();
    c.weeks = out.plan.weeks.len() as u32;
    assert!(check_overview_with(&out.plan.overview, &c, &out.plan.days_off).is_empty());
    assert_eq!(out.plan.weeks[..2], plan.weeks[..2]);
    assert_eq!(out.plan.overview.weeks[..2], plan.overview.weeks[..2]);
    assert_eq!(
        out.plan.overview.weeks[2].phase,
        coach::plan::Phase::Recovery
    );
    assert_eq!(out.plan.weeks[10].phase, coach::plan::Phase::Taper);
    assert!(
        out.changes
            .iter()
            .any(|c| c.week == 3 && c.why[0].starts_with("the model's re-plan"))
    );
}

#[tokio::test]
async fn a_model_that_never_repairs_fails_after_its_repairs() {
    let plan = plan();
    let req = request();
    let mut bad = adapt(&plan, &req).unwrap().plan.overview;
    for d in &mut bad.weeks[5].days {
        d.workout_type = WorkoutType::Endurance;
        d.hours = 1.0;
    }
    let text = serde_json::to_string(&OverviewArgs::from_overview(&bad)).unwrap();
    let fake = fake_anthropic::start().await;
    for i in 0..3 {
        fake.push(SseReply::Model(ModelReply::tool_calls(&[(
            &format!("toolu_{i}"),
            "create_plan_overview",
            &text,
        )])));
    }
    let provider = fake.provider(1);
    let catalog = Catalog::builtin();
    let mut meter = Meter::new(&provider, &catalog, None);
    let settings = settings();
    let err = adapt_with_model(&mut meter, &settings, &plan, &req)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("after 3 attempts") && msg.contains("week 6"),
        "{msg}"
    );
    assert_eq!(fake.requests().len(), 3);
}
