"""Open a cycling-ai HTML report in real headless Chromium and check what a reader would see.

Checks: the page loads without JavaScript or console errors; it requests nothing but its own file
(no network at all); every section heading is present; every chart SVG is rendered with a real
size; optional: a given text (an activity name with markup) is shown as text and no dialog opens.
Saves a full-page screenshot next to the report as `screenshot.png` (the test artifact).

With --expect-projection: the fitness chart shows the actual CTL line and the plan's projected
CTL line (both drawn, the projection starting where the actual line ends) and the event marked
with the fitness and form it arrives with.

usage: check_report.py REPORT_DIR [--expect-text TEXT] [--min-charts N] [--expect-projection]
"""

import argparse
import pathlib
import sys

from playwright.sync_api import sync_playwright

SECTIONS = [
    "Athlete",
    "Period comparison",
    "Fitness, fatigue and form",
    "Power-duration curve",
    "Time in zones",
    "Weekly volume",
    "Analysis",
    "Training plan",
    "Plan vs actual",
]


def polyline_points(page, selector: str) -> list[tuple[float, float]]:
    loc = page.locator(selector)
    if loc.count() != 1:
        return []
    raw = loc.first.get_attribute("points") or ""
    return [tuple(float(v) for v in p.split(",")) for p in raw.split()]


def check_projection(page) -> list[str]:
    """The fitness chart's actual and projected CTL lines, rendered and joined, and the event."""
    out: list[str] = []
    chart = "svg.chart.fitness"
    if page.locator(chart).count() != 1:
        return [f"no fitness chart ({chart})"]
    actual = polyline_points(page, f"{chart} polyline.ctl")
    projected = polyline_points(page, f"{chart} polyline.ctl-proj")
    if len(actual) < 2:
        out.append("fitness chart: the actual CTL line is missing")
    if len(projected) < 2:
        out.append("fitness chart: the projected CTL line is missing")
    if actual and projected:
        if projected[0] != actual[-1]:
            out.append(f"projected CTL starts at {projected[0]}, not where the actual line ends {actual[-1]}")
        if projected[-1][0] <= actual[-1][0]:
            out.append("the projected CTL line does not run past today")
    for sel in (f"{chart} polyline.ctl", f"{chart} polyline.ctl-proj"):
        if page.locator(sel).count() == 1:
            box = page.locator(sel).first.bounding_box()
            if not box or box["width"] < 20:
                out.append(f"{sel} is not visibly drawn: {box}")
    event = page.locator(f"{chart} text.event-label")
    if event.count() != 1 or "arrives with CTL" not in (event.first.text_content() or ""):
        out.append("the event is not marked on the fitness chart with its CTL and TSB")
    if "arrives with CTL" not in page.inner_text("#fitness"):
        out.append("the fitness section does not say how the plan arrives at the event")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("report_dir", type=pathlib.Path)
    ap.add_argument("--expect-text", default=None)
    ap.add_argument("--min-charts", type=int, default=5)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--expect-projection", action="store_true")
    args = ap.parse_args()

    index = (args.report_dir / "index.html").resolve()
    if not index.is_file():
        print(f"FAIL: {index} does not exist")
        return 1
    problems: list[str] = []
    requests: list[str] = []
    dialogs: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=args.chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: m.type in ("error", "warning") and problems.append(f"console {m.type}: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(index.as_uri(), wait_until="load")
        page.wait_for_timeout(300)

        headings = page.locator("h2").all_inner_texts()
        for s in SECTIONS:
            if not any(h.strip().startswith(s) for h in headings):
                problems.append(f"section heading {s!r} missing (have {headings})")

        charts = page.locator("svg.chart")
        n = charts.count()
        if n < args.min_charts:
            problems.append(f"{n} charts rendered, expected at least {args.min_charts}")
        for i in range(n):
            box = charts.nth(i).bounding_box()
            if not box or box["width"] < 100 or box["height"] < 50:
                problems.append(f"chart {i} has no real size: {box}")

        if args.expect_projection:
            problems.extend(check_projection(page))

        if args.expect_text is not None:
            body = page.inner_text("body")
            if args.expect_text not in body:
                problems.append(f"text {args.expect_text!r} is not shown as text")

        shot = args.report_dir / "screenshot.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()

    foreign = [u for u in requests if not u.startswith(("file://", "data:", "about:"))]
    if foreign:
        problems.append(f"network requests: {foreign}")
    if dialogs:
        problems.append(f"dialogs opened (injected script ran?): {dialogs}")

    print(f"{index}: {len(requests)} request(s), {n} charts, screenshot {shot}")
    for pr in problems:
        print(f"FAIL: {pr}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
