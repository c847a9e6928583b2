//! The MCP tool adapter over a real store (two athletes, each with a short synthetic season
//! imported by the real importer): the same results and error messages as the coach's tools,
//! athlete scoping, bounds, the preview → confirm flow of a write, and the interaction log.

use std::path::{Path, PathBuf};

use agent::toolbox::ToolBox;
use agent::tools::CoachTools;
use mcp::{Caller, Server};
use ride::profile::Profile;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Map, Value, json};
use store::{ImportSource, Store};

struct Fixture {
    _dir: tempfile::TempDir,
    data_dir: PathBuf,
    ann: i64,
    bob: i64,
    profile: Profile,
}

fn today() -> jiff::civil::Date {
    jiff::ZonedDateTime::now().date()
}

fn fixture() -> Fixture {
    fixture_with(true)
}

/// Ann and Bob, each with a small season; with `ann_in_use`, Ann is the athlete in use.
fn fixture_with(ann_in_use: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut store = Store::open(&data_dir).unwrap();
    let mut ids = Vec::new();
    let mut profile_a = None;
    for (name, seed) in [("ann", 42), ("bob", 7)] {
        let mut opts = demo::DemoOptions::new(dir.path().join(name), today());
        opts.seed = seed;
        opts.rides = 20;
        opts.weeks = 5;
        let out = demo::generate(&opts).unwrap();
        let profile = Profile::load(&out.profile_path).unwrap();
        let stored = (name == "ann").then(|| profile.to_canonical_value());
        let id = store.upsert_athlete(name, stored.as_ref()).unwrap().id;
        let report = store::import(
            &mut store,
            id,
            &ImportSource::Export(out.export_dir.clone()),
            &profile,
            &|_| {},
        )
        .unwrap();
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        ids.push(id);
        if name == "ann" {
            profile_a = Some(profile);
        }
    }
    // Calls without an `athlete` argument work for the athlete in use (`athlete use ann`).
    if ann_in_use {
        store.use_athlete("ann").unwrap();
    }
    Fixture {
        data_dir,
        ann: ids[0],
        bob: ids[1],
        profile: profile_a.unwrap(),
        _dir: dir,
    }
}

fn server(f: &Fixture) -> Server {
    Server::new(f.data_dir.clone(), f.data_dir.join("reports"), "stdio")
}

fn caller() -> Caller {
    Caller {
        name: "test-client".into(),
        version: Some("1.0".into()),
    }
}

fn call(server: &Server, name: &str, args: Value) -> CallToolResult {
    let Value::Object(map) = args else {
        panic!("arguments are an object")
    };
    mcp::tools::call(server, &caller(), name, Some(map))
}

fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| match c {
            ContentBlock::Text(t) => Some(t.text.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ok(r: &CallToolResult) -> Value {
    assert_eq!(r.is_error, Some(false), "{}", text(r));
    r.structured_content.clone().expect("structured content")
}

fn err(r: &CallToolResult) -> String {
    assert_eq!(r.is_error, Some(true), "expected an error: {}", text(r));
    assert!(r.structured_content.is_none());
    text(r)
}

fn coach(f: &Fixture, athlete: i64, profile: Option<Profile>) -> CoachTools {
    CoachTools::new(f.data_dir.clone(), athlete, profile, today())
}

fn log_lines(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("interactions.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn results_and_messages_are_the_coach_tools_own_and_scoped_to_the_athlete() {
    let f = fixture();
    let s = server(&f);
    // Default athlete: the first one (ann); same figures as the coach's tool.
    let args = json!({"weeks": 4});
    let via_mcp = ok(&call(&s, "get_weekly_volume", args.clone()));
    let direct = coach(&f, f.ann, Some(f.profile.clone()))
        .call("get_weekly_volume", &args)
        .unwrap()
        .output;
    assert_eq!(via_mcp, direct);
    assert!(via_mcp["weeks"].as_array().unwrap().len() == 4);
    // The text rendering is one line plus the JSON.
    let r = call(&s, "get_weekly_volume", args.clone());
    let t = text(&r);
    assert!(t.starts_with("get_weekly_volume (ann): "), "{t}");
    assert!(t.contains(&direct.to_string()));

    // Another athlete by name: bob's data, not ann's.
    let bob_mcp = ok(&call(
        &s,
        "list_activities",
        json!({"athlete": "bob", "limit": 20}),
    ));
    let bob_direct = coach(&f, f.bob, None)
        .call("list_activities", &json!({"limit": 20}))
        .unwrap()
        .output;
    assert_eq!(bob_mcp, bob_direct);
    let ann_mcp = ok(&call(&s, "list_activities", json!({"limit": 20})));
    assert_ne!(ann_mcp, bob_mcp, "each athlete sees their own activities");

    // list_athletes.
    let athletes = ok(&call(&s, "list_athletes", json!({})));
    assert_eq!(athletes["in_use"], "ann");
    assert_eq!(athletes["total"], 2);
    assert_eq!(athletes["athletes"][1]["name"], "bob");
    assert_eq!(athletes["athletes"][1]["has_profile"], false);

    // The coach's own message for a wrong argument type, word for word.
    let bad = json!({"limit": "ten"});
    let expected = coach(&f, f.ann, Some(f.profile.clone()))
        .call("list_activities", &bad)
        .unwrap_err()
        .to_string();
    assert_eq!(err(&call(&s, "list_activities", bad)), expected);
    assert!(expected.contains("`limit`"), "{expected}");
    let e = err(&call(&s, "get_activity", json!({"activity_id": [1]})));
    assert!(e.contains("`activity_id`: expected a whole number"), "{e}");
    let e = err(&call(&s, "list_activities", json!({"athlete": 3})));
    assert!(
        e.contains("`athlete`: expected a string, got a number"),
        "{e}"
    );
    let e = err(&call(&s, "list_activities", json!({"athlete": "carl"})));
    assert!(
        e.contains("no athlete named `carl`") && e.contains("ann, bob"),
        "{e}"
    );
    let e = err(&call(
        &s,
        "get_weekly_volume",
        json!({"path": "/etc/passwd"}),
    ));
    assert!(e.contains("unknown argument `path`"), "{e}");

    // Unknown tool, oversized input: tool errors, and the server keeps serving.
    let e = err(&call(&s, "read_file", json!({})));
    assert!(
        e.starts_with("unknown tool `read_file`") && e.contains("list_athletes"),
        "{e}"
    );
    let big = "x".repeat(70_000);
    let e = err(&call(&s, "list_activities", json!({"text": big})));
    assert!(e.contains("at most 65536 are accepted"), "{e}");
    assert_eq!(ok(&call(&s, "get_weekly_volume", args)), direct);

    // Every call is in the interaction log: client, tool, athlete, outcome, size.
    let log = log_lines(&f.data_dir);
    let calls: Vec<&Value> = log
        .iter()
        .filter(|l| l["kind"] == "mcp_tool_call")
        .collect();
    assert_eq!(calls.len(), 13, "{log:?}");
    assert!(
        calls
            .iter()
            .all(|c| c["client"] == "test-client" && c["transport"] == "stdio")
    );
    let first = calls[0];
    assert_eq!(first["tool"], "get_weekly_volume");
    assert_eq!(first["athlete"], "ann");
    assert_eq!(first["outcome"], "ok");
    assert_eq!(first["result_bytes"], direct.to_string().len());
    let unknown = calls.iter().find(|c| c["tool"] == "read_file").unwrap();
    assert_eq!(unknown["outcome"], "error");
    assert!(
        unknown["error"]
            .as_str()
            .unwrap()
            .starts_with("unknown tool")
    );
}

fn stored_profile(f: &Fixture, id: i64) -> Option<Value> {
    let store = Store::open(&f.data_dir).unwrap();
    store
        .athlete(id)
        .unwrap()
        .unwrap()
        .profile_json
        .map(|j| serde_json::from_str(&j).unwrap())
}

#[test]
fn a_write_is_previewed_then_applied_exactly_once_on_confirmation() {
    let f = fixture();
    let s = server(&f);
    let before = stored_profile(&f, f.ann).unwrap();
    let args = json!({"ftp_w": 287, "weight_kg": 71.5});
    let preview = ok(&call(&s, "save_athlete_profile", args.clone()));
    assert_eq!(preview["applied"], false);
    assert_eq!(preview["saved"], false);
    assert_eq!(preview["ftp_w"], 287);
    let changed: Vec<&str> = preview["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(
        changed.contains(&"ftp_w") && changed.contains(&"weight_kg"),
        "{changed:?}"
    );
    assert_eq!(
        stored_profile(&f, f.ann).unwrap(),
        before,
        "a preview stores nothing"
    );
    let token = preview["preview_token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 32);

    // Confirmation with other arguments, another athlete or without a token is refused.
    let e = err(&call(
        &s,
        "save_athlete_profile",
        json!({"ftp_w": 300, "confirm": true, "preview_token": token}),
    ));
    assert!(
        e.contains("the arguments differ from the previewed ones"),
        "{e}"
    );
    // That attempt used the token up: preview again.
    let e = err(&call(
        &s,
        "save_athlete_profile",
        json!({"confirm": true, "preview_token": token}),
    ));
    assert!(e.contains("no pending preview has this token"), "{e}");
    let e = err(&call(&s, "save_athlete_profile", json!({"confirm": true})));
    assert!(e.contains("needs the `preview_token`"), "{e}");

    let preview = ok(&call(&s, "save_athlete_profile", args.clone()));
    let token = preview["preview_token"].as_str().unwrap().to_owned();
    let e = err(&call(
        &s,
        "save_athlete_profile",
        json!({"athlete": "bob", "confirm": true, "preview_token": token}),
    ));
    assert!(e.contains("for athlete \"ann\", not \"bob\""), "{e}");

    let preview = ok(&call(&s, "save_athlete_profile", args.clone()));
    let token = preview["preview_token"].as_str().unwrap().to_owned();
    let applied = ok(&call(
        &s,
        "save_athlete_profile",
        json!({"confirm": true, "preview_token": token}),
    ));
    assert_eq!(applied["applied"], true);
    assert_eq!(applied["saved"], true);
    let after = stored_profile(&f, f.ann).unwrap();
    assert_eq!(after["ftp_w"], 287.0);
    assert_eq!(after["weight_kg"], 71.5);
    assert_eq!(stored_profile(&f, f.bob), None, "bob untouched");
    let e = err(&call(
        &s,
        "save_athlete_profile",
        json!({"confirm": true, "preview_token": token}),
    ));
    assert!(e.contains("no pending preview"), "a token works once: {e}");

    // A preview made on a profile that changed since is not applied.
    let stale = ok(&call(&s, "save_athlete_profile", json!({"ftp_w": 250})));
    let other = ok(&call(&s, "save_athlete_profile", json!({"weight_kg": 70})));
    ok(&call(
        &s,
        "save_athlete_profile",
        json!({"confirm": true, "preview_token": other["preview_token"]}),
    ));
    let e = err(&call(
        &s,
        "save_athlete_profile",
        json!({"confirm": true, "preview_token": stale["preview_token"]}),
    ));
    assert!(
        e.contains("profile changed after this change was prepared"),
        "{e}"
    );
    assert_eq!(stored_profile(&f, f.ann).unwrap()["ftp_w"], 287.0);

    // An invalid value is refused at the preview, with the coach's message.
    let e = err(&call(&s, "save_athlete_profile", json!({"ftp_w": 900})));
    assert!(e.contains("ftp_w"), "{e}");

    let outcomes: Vec<String> = log_lines(&f.data_dir)
        .iter()
        .filter(|l| l["tool"] == "save_athlete_profile")
        .map(|l| l["outcome"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(outcomes.iter().filter(|o| *o == "applied").count(), 2);
    assert_eq!(outcomes.iter().filter(|o| *o == "preview").count(), 5);

    // Pending previews are bounded: the oldest is dropped.
    let first = ok(&call(
        &s,
        "save_athlete_profile",
        json!({"hours_per_week": 6}),
    ));
    for _ in 0..mcp::preview::MAX_PENDING {
        ok(&call(
            &s,
            "save_athlete_profile",
            json!({"hours_per_week": 7}),
        ));
    }
    let e = err(&call(
        &s,
        "save_athlete_profile",
        json!({"confirm": true, "preview_token": first["preview_token"]}),
    ));
    assert!(e.contains("only the last 16 previews are kept"), "{e}");
}

#[test]
fn definitions_carry_the_coach_schemas_and_the_annotations() {
    let tools = mcp::tools::definitions();
    let coach = CoachTools::new(PathBuf::new(), 0, None, today()).definitions();
    assert_eq!(tools.len(), coach.len() + 1);
    for d in &coach {
        let t = tools.iter().find(|t| t.name == d.name).unwrap();
        assert!(
            t.description
                .as_deref()
                .unwrap()
                .starts_with(&d.description)
        );
        let mut schema: Map<String, Value> = (*t.input_schema).clone();
        let props = schema["properties"].as_object_mut().unwrap();
        assert!(props.remove("athlete").is_some());
        // The two-call confirmation is added to the tools that stage their writes; adapt_plan's
        // own `preview_token` is part of its coach schema.
        if agent::tools::is_staged(&d.name) {
            assert!(props.remove("confirm").is_some(), "{}", d.name);
            assert!(props.remove("preview_token").is_some(), "{}", d.name);
        }
        assert_eq!(Value::Object(schema), d.schema, "{}", d.name);
        let a = t.annotations.as_ref().unwrap();
        let writes = agent::tools::MUTATING_TOOLS.contains(&d.name.as_str());
        assert_eq!(a.read_only_hint, Some(!writes), "{}", d.name);
        // adapt_plan adds a plan version and keeps the old one: a write, not destructive.
        let destructive = writes && d.name != "adapt_plan";
        assert_eq!(a.destructive_hint, Some(destructive), "{}", d.name);
    }
    let plan = tools
        .iter()
        .find(|t| t.name == "create_plan_overview")
        .unwrap();
    assert_eq!(
        plan.annotations.as_ref().unwrap().idempotent_hint,
        Some(false)
    );
    let save = tools
        .iter()
        .find(|t| t.name == "save_athlete_profile")
        .unwrap();
    assert_eq!(
        save.annotations.as_ref().unwrap().idempotent_hint,
        Some(true)
    );
    assert!(save.input_schema["properties"]["confirm"]["type"] == "boolean");
}

#[test]
fn a_plan_is_previewed_then_stored_as_previewed() {
    let f = fixture();
    let s = server(&f);
    let avail = f.profile.training_availability.clone().unwrap();
    let monday = coach::planner::monday_of(today())
        .checked_add(jiff::Span::new().days(7))
        .unwrap();
    let overview = coach::planner::offline_overview(&coach::planner::PlannerInput {
        constraints: coach::rules::PlanConstraints {
            weeks: 8,
            available_days: avail.week_days.clone(),
            hours_per_week: avail.hours_per_week.unwrap(),
            event_date: None,
            start_date: monday,
        },
        goal: None,
        ctl: Some(50.0),
        ftp_w: f.profile.ftp_on(today()).unwrap(),
        trains_strength: false,
        start_phase: None,
    });
    let args =
        serde_json::to_value(agent::plan_llm::OverviewArgs::from_overview(&overview)).unwrap();
    let latest = || {
        Store::open(&f.data_dir)
            .unwrap()
            .latest_plan(f.ann)
            .unwrap()
    };
    assert!(latest().is_none());

    let preview = ok(&call(&s, "create_plan_overview", args.clone()));
    assert_eq!(preview["applied"], false);
    assert_eq!(preview["created"], false);
    assert_eq!(preview["start_date"], monday.to_string());
    assert_eq!(preview["weeks"].as_array().unwrap().len(), 8);
    assert!(latest().is_none(), "a preview stores no plan");

    let mut confirm = args.clone();
    confirm["confirm"] = json!(true);
    confirm["preview_token"] = preview["preview_token"].clone();
    let applied = ok(&call(&s, "create_plan_overview", confirm));
    assert_eq!(applied["applied"], true);
    assert_eq!(applied["created"], true);
    let stored = latest().expect("stored on confirmation");
    assert_eq!(applied["plan_id"], stored.id);
    assert_eq!(stored.source, "mcp");
    // What was stored is what was previewed, week by week.
    assert_eq!(applied["weeks"], preview["weeks"]);
    let plan = ok(&call(&s, "get_training_plan", json!({})));
    assert_eq!(plan["has_plan"], true);
    assert_eq!(plan["start_date"], monday.to_string());
}

/// With several athletes and none in use, a call must name its athlete — unless the server was
/// started for one (`cycling-ai --athlete NAME mcp`).
#[test]
fn without_an_athlete_in_use_a_call_names_its_athlete_or_the_server_default() {
    let f = fixture_with(false);
    let s = server(&f);
    let e = err(&call(&s, "get_weekly_volume", json!({})));
    assert!(
        e.contains("`athlete`") && e.contains("none is in use") && e.contains("ann, bob"),
        "{e}"
    );
    let named = ok(&call(&s, "get_weekly_volume", json!({"athlete": "bob"})));
    let by_default = ok(&call(
        &Server::new(f.data_dir.clone(), f.data_dir.join("reports"), "stdio")
            .with_default_athlete(Some("bob".into())),
        "get_weekly_volume",
        json!({}),
    ));
    assert_eq!(named, by_default);
    let listed = ok(&call(&s, "list_athletes", json!({})));
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["in_use"], Value::Null);
}
