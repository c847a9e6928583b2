"""Drives `cycling-ai mcp` with the official MCP Python SDK (`mcp` from PyPI), a client we did
not write, over stdio or streamable HTTP, on a data directory holding the demo season:

- initialise; list tools (with their annotations), resources, resource templates and prompts;
- read the resources and get every prompt;
- call every read-only tool, checking its figures against `cycling-ai analyze --json` over the
  same dates;
- malformed calls (unknown tool, wrong argument types, oversized input) come back as tool
  errors and the session keeps serving;
- the preview -> confirm flow of a write (`save_athlete_profile`).

    python tests/mcp/mcp_client.py --binary target/debug/cycling-ai --data-dir DIR stdio
    python tests/mcp/mcp_client.py --binary ... --data-dir DIR http --url URL --token TOKEN

Exits non-zero with every failed check listed.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys

import httpx
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

READ_ONLY = {
    "get_athlete_profile",
    "list_activities",
    "get_activity",
    "compare_periods",
    "time_in_zones",
    "get_fitness_trend",
    "get_power_curve",
    "get_cross_training",
    "calculate_zones",
    "estimate_thresholds",
    "get_weekly_volume",
    "get_training_plan",
    "plan_compliance",
    "plan_status",
    "fitness_projection",
    "list_athletes",
}
# Writes that replace what is stored (destructive), and one that adds a plan version and keeps the
# old one (a write, not destructive).
WRITES = {"save_athlete_profile", "create_plan_overview"}
ADDITIVE = {"adapt_plan"}
PROMPTS = {"weekly_review", "plan_next_week", "analyse_last_ride"}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL {what}", file=sys.stderr)


def close(got, want, tol, what):
    ok = got is not None and want is not None and abs(float(got) - float(want)) <= tol
    check(ok, f"{what}: MCP {got} vs analyze {want} (tolerance {tol})")


def analyze(args, what, *extra):
    cmd = [args.binary, "--data-dir", args.data_dir, "--json", "analyze", what, *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def structured(result, what):
    check(not result.isError, f"{what} succeeded: {texts(result)[:300]}")
    check(result.structuredContent is not None, f"{what} has structured content")
    t = texts(result)
    check(len(result.content) == 2, f"{what}: a one-line rendering and the JSON text")
    if result.structuredContent is not None and len(result.content) == 2:
        check("\n" not in result.content[0].text, f"{what}: the rendering is one line")
        check(json.loads(result.content[1].text) == result.structuredContent,
              f"{what}: the JSON text is the structured content")
    return result.structuredContent or {}


def texts(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def call(session, name, arguments):
    return await session.call_tool(name, arguments)


async def tool_error(session, name, arguments, expect, what):
    r = await call(session, name, arguments)
    check(r.isError, f"{what}: a tool error")
    check(expect in texts(r), f"{what}: message contains {expect!r}, got {texts(r)[:300]!r}")


async def exercise(session, args):
    init = await session.initialize()
    check(init.serverInfo.name == "cycling-ai", f"server name {init.serverInfo.name}")
    caps = init.capabilities
    check(caps.tools is not None and caps.resources is not None and caps.prompts is not None,
          "tools, resources and prompts announced")

    tools = {t.name: t for t in (await session.list_tools()).tools}
    check(set(tools) == READ_ONLY | WRITES | ADDITIVE, f"tools offered: {sorted(tools)}")
    for name, t in tools.items():
        a = t.annotations
        check(a is not None and a.readOnlyHint == (name in READ_ONLY), f"{name} readOnlyHint")
        check(a is not None and a.destructiveHint == (name in WRITES), f"{name} destructiveHint")
        check("athlete" in t.inputSchema["properties"] or name == "list_athletes",
              f"{name} takes `athlete`")
    check(tools["create_plan_overview"].annotations.idempotentHint is False,
          "create_plan_overview is not idempotent")
    check(tools["save_athlete_profile"].annotations.idempotentHint is True,
          "save_athlete_profile is idempotent")

    athletes = structured(await call(session, "list_athletes", {}), "list_athletes")
    me = athletes.get("in_use")
    check(athletes.get("total") == 1 and me, f"one athlete in use: {athletes}")

    # Resources.
    resources = {str(r.uri): r for r in (await session.list_resources()).resources}
    base = "cycling-ai://athlete/" + me.replace(" ", "%20")
    for kind in ["profile", "plan", "activities/recent", "report/latest.md"]:
        check(f"{base}/{kind}" in resources, f"resource {kind} listed: {sorted(resources)}")
    templates = (await session.list_resource_templates()).resourceTemplates
    check(len(templates) == 4, f"4 resource templates, got {len(templates)}")
    profile_res = json.loads((await session.read_resource(f"{base}/profile")).contents[0].text)
    profile_tool = structured(await call(session, "get_athlete_profile", {}), "get_athlete_profile")
    check(profile_res == profile_tool, "profile resource = get_athlete_profile")
    recent = json.loads((await session.read_resource(f"{base}/activities/recent")).contents[0].text)
    check(0 < len(recent.get("activities", [])) <= 20, "recent activities bounded to 20")
    report = (await session.read_resource(f"{base}/report/latest.md")).contents[0]
    check(report.mimeType == "text/markdown" and report.text.startswith("#"),
          "latest report is Markdown")

    # Prompts.
    prompts = {p.name for p in (await session.list_prompts()).prompts}
    check(prompts == PROMPTS, f"prompts: {sorted(prompts)}")
    for p in sorted(PROMPTS):
        got = await session.get_prompt(p, {})
        text = got.messages[0].content.text
        check("experienced cycling coach" in text and "## Request" in text,
              f"prompt {p} carries chat's coaching instructions and the request")
        check("get_fitness_trend" in text and "Athlete snapshot" in text,
              f"prompt {p} lists the tools and the athlete snapshot")

    # Every read-only tool, over the demo season's last weeks; figures against analyze --json.
    fitness_a = analyze(args, "fitness", "--weeks", "6")
    last = fitness_a["to"]
    period = {"to": last, "weeks": 6}

    fit = structured(await call(session, "get_fitness_trend", period), "get_fitness_trend")
    cur_a = fitness_a["current"]
    close(fit["current"]["ctl"], cur_a["ctl"], 0.051, "CTL")
    close(fit["current"]["atl"], cur_a["atl"], 0.051, "ATL")
    close(fit["current"]["tsb"], cur_a["tsb"], 0.051, "TSB")
    check(fit["current"]["date"] == last, "fitness as of the last activity")

    curve_a = analyze(args, "power-curve", "--weeks", "6", "--to", last)
    curve = structured(await call(session, "get_power_curve", period), "get_power_curve")
    best = {b["duration"]: b["w"] for b in curve["best"]}
    close(best.get("5min"), curve_a["best_w"].get("300"), 0.51, "best 5 min power")
    close(best.get("20min"), curve_a["best_w"].get("1200"), 0.51, "best 20 min power")
    check(curve["rides_with_power"] == curve_a["rides_with_power"], "rides with power")
    if curve_a.get("eftp"):
        close(curve["eftp"]["ftp_w"], curve_a["eftp"]["ftp_w"], 0.51, "eFTP")

    zones_a = analyze(args, "zones", "--weeks", "6", "--to", last)
    zones = structured(await call(session, "time_in_zones", period), "time_in_zones")
    power_h_a = sum(zones_a["totals"]["power_zones_s"]) / 3600
    close(zones["power_hours"], power_h_a, 0.051, "hours with power zones")
    close(zones["ftp_w"], zones_a["ftp_w"], 0.51, "FTP of the zones")

    perf_a = analyze(args, "performance", "--weeks", "4", "--to", last)
    perf = structured(await call(session, "compare_periods", {"weeks": 4, "end": last}),
                      "compare_periods")
    check(perf["recent"]["activities"] == perf_a["rides"]["recent"]["count"],
          f"rides in the recent 4 weeks: {perf['recent']['activities']} vs {perf_a['rides']['recent']}")
    close(perf["recent"]["hours"], perf_a["rides"]["recent"]["hours"], 0.051,
          "ride hours in the recent 4 weeks")
    close(perf["recent"]["load_tss"], perf_a["rides"]["recent"]["load"], 0.51,
          "ride load in the recent 4 weeks")
    close(perf["previous"]["hours"], perf_a["rides"]["previous"]["hours"], 0.051,
          "ride hours in the 4 weeks before")

    cross_a = analyze(args, "cross-training", "--weeks", "6", "--to", last)
    cross = structured(await call(session, "get_cross_training", period), "get_cross_training")
    check(cross["activities"] == cross_a["total_count"], "cross-training activity count")
    close(cross["load_tss"], cross_a["total_load"], 0.51, "cross-training load")

    listed = structured(await call(session, "list_activities", {"to": last, "limit": 3}),
                        "list_activities")
    check(len(listed["activities"]) == 3, "list_activities honours limit")
    first = listed["activities"][0]
    detail = structured(await call(session, "get_activity", {"activity_id": first["id"]}),
                        "get_activity")
    check(detail.get("id") == first["id"], "get_activity returns that activity")

    zc = structured(await call(session, "calculate_zones", {"ftp_w": 250, "lthr_bpm": 165}),
                    "calculate_zones")
    check(zc["power_zones"][1]["lo_w"] == 138 and zc["sweet_spot"]["lo_w"] == 220,
          f"Z2 from 55 % of 250 W, sweet spot from 88 %: {zc['power_zones'][1]}, {zc['sweet_spot']}")
    est = structured(await call(session, "estimate_thresholds", period), "estimate_thresholds")
    check(est["profile_ftp_w"] == profile_tool["ftp_w"], "estimate_thresholds sees the profile FTP")
    weekly = structured(await call(session, "get_weekly_volume", {"to": last, "weeks": 4}),
                        "get_weekly_volume")
    check(len(weekly["weeks"]) == 4, "four weeks of volume")
    # The demo's report stored its plan: the tool, the resource and plan.json agree.
    plan = structured(await call(session, "get_training_plan", {}), "get_training_plan")
    with open(os.path.join(args.reports, "plan.json")) as f:
        plan_file = json.load(f)
    check(plan.get("has_plan") is True and plan.get("start_date") == plan_file["start_date"],
          f"stored plan starts {plan.get('start_date')}, plan.json {plan_file['start_date']}")
    check(len(plan.get("weeks", [])) == len(plan_file["weeks"]), "plan weeks")
    plan_res = json.loads((await session.read_resource(f"{base}/plan")).contents[0].text)
    check(plan_res == plan, "plan resource = get_training_plan")
    compliance = structured(await call(session, "plan_compliance", {}), "plan_compliance")
    check(compliance.get("plan_id") == plan.get("plan_id"), "compliance of the stored plan")
    status = structured(await call(session, "plan_status", {}), "plan_status")
    check(status.get("plan_id") == plan.get("plan_id"), "plan status of the stored plan")
    check(len(status.get("weeks", [])) <= len(plan_file["weeks"]), "plan status weeks bounded")
    proj = structured(await call(session, "fitness_projection", {}), "fitness_projection")
    check(proj.get("plan_id") == plan.get("plan_id"), "projection of the stored plan")
    # The same projection from the command line, seeded on the same day.
    proj_a = analyze(args, "fitness", "--projection", "--to", proj["from"]).get("projection") or {}
    check(proj_a.get("plan_id") == proj["plan_id"] and proj_a.get("plan_end") == proj["plan_end"],
          f"projection plan and end = analyze --projection: {proj_a.get('plan_end')} vs {proj['plan_end']}")
    close(proj["planned_tss_total"], proj_a.get("planned_tss"), 0.51, "projected planned TSS")
    close(proj["today"]["ctl"], (proj_a.get("seed") or {}).get("ctl"), 0.051, "projection seed CTL")
    if proj.get("end"):
        last_a = (proj_a.get("days") or [{}])[-1]
        check(proj["end"]["date"] == last_a.get("date"), "projection's last day")
        close(proj["end"]["ctl"], last_a.get("ctl"), 0.051, "projected CTL at the end")
        close(proj["end"]["tsb"], last_a.get("tsb"), 0.051, "projected TSB at the end")
    weekly_tss = sum(w["planned_tss"] for w in proj.get("weeks", []))
    check(abs(weekly_tss - proj.get("planned_tss_total", -1)) <= len(proj.get("weeks", [])),
          f"projected weeks add up to the planned total: {weekly_tss} vs {proj.get('planned_tss_total')}")
    check(profile_tool["ftp_w"] is not None, "the demo profile has an FTP")

    # Malformed calls: tool errors, and the session keeps serving.
    await tool_error(session, "delete_everything", {}, "unknown tool `delete_everything`",
                     "unknown tool")
    await tool_error(session, "list_activities", {"limit": "ten"},
                     "`limit`: expected a whole number", "wrong argument type")
    await tool_error(session, "get_activity", {"activity_id": "x' OR 1=1"},
                     "`activity_id`: expected a whole number", "wrong argument type")
    await tool_error(session, "list_activities", {"text": "x" * 70_000},
                     "at most 65536 are accepted", "oversized input")
    await tool_error(session, "get_fitness_trend", {"athlete": "nobody"},
                     "no athlete named `nobody`", "unknown athlete")
    again = structured(await call(session, "get_fitness_trend", period), "after the errors")
    check(again == fit, "the server keeps serving the same answers")

    # A write: preview, then confirm; nothing changes before the confirmation.
    new_ftp = int(profile_tool["ftp_w"]) + 7
    preview = structured(await call(session, "save_athlete_profile", {"ftp_w": new_ftp}),
                         "save_athlete_profile preview")
    check(preview.get("applied") is False and preview.get("ftp_w") == new_ftp,
          f"preview shows the new FTP: {preview}")
    unchanged = structured(await call(session, "get_athlete_profile", {}), "profile after preview")
    check(unchanged["ftp_w"] == profile_tool["ftp_w"], "a preview stores nothing")
    token = preview.get("preview_token")
    applied = structured(await call(session, "save_athlete_profile",
                                    {"confirm": True, "preview_token": token}),
                         "save_athlete_profile confirm")
    check(applied.get("applied") is True and applied.get("saved") is True, "confirmed and saved")
    changed = structured(await call(session, "get_athlete_profile", {}), "profile after confirm")
    check(changed["ftp_w"] == new_ftp, f"FTP now {changed['ftp_w']}, want {new_ftp}")
    await tool_error(session, "save_athlete_profile", {"confirm": True, "preview_token": token},
                     "no pending preview", "a token works once")
    # Put the profile back so the other transport's run sees the demo's FTP.
    back = structured(await call(session, "save_athlete_profile",
                                 {"ftp_w": profile_tool["ftp_w"]}), "restore preview")
    structured(await call(session, "save_athlete_profile",
                          {"confirm": True, "preview_token": back["preview_token"]}),
               "restore confirm")


async def run_stdio(args):
    params = StdioServerParameters(
        command=args.binary, args=["--data-dir", args.data_dir, "mcp", "--reports", args.reports]
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await exercise(session, args)


async def run_http(args):
    headers = {"Authorization": f"Bearer {args.token}"}
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        async with streamable_http_client(args.url, http_client=client) as (read, write, _):
            async with ClientSession(read, write) as session:
                await exercise(session, args)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--reports", default="reports")
    sub = p.add_subparsers(dest="transport", required=True)
    sub.add_parser("stdio")
    h = sub.add_parser("http")
    h.add_argument("--url", required=True)
    h.add_argument("--token", required=True)
    args = p.parse_args()
    asyncio.run(run_stdio(args) if args.transport == "stdio" else run_http(args))
    if failures:
        print(f"{len(failures)} check(s) failed over {args.transport}", file=sys.stderr)
        sys.exit(1)
    print(f"all checks passed over {args.transport}")


if __name__ == "__main__":
    main()
