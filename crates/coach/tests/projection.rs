//! The projection is the PMC of the plan's own daily planned TSS, seeded with today's fitness.

mod common;

use coach::projection::{planned_daily_tss, project};
use common::*;
use metrics::pmc::PmcSeed;

#[test]
fn projection_equals_the_pmc_of_the_plans_daily_tss() {
    let plan = plan();
    // Today: the Wednesday of week 3, CTL 55 and ATL 70 from the rides so far.
    let today = add_days(start(), 16);
    let seed = PmcSeed {
        ctl: 55.0,
        atl: 70.0,
    };
    let proj = project(&plan, today, seed);

    // By hand: every planned workout's TSS on its date, the exponential PMC (τ 42 / 7 d,
    // α = 1 − e^(−1/τ)), form = yesterday's CTL − ATL.
    let (a_ctl, a_atl) = (1.0 - (-1.0f64 / 42.0).exp(), 1.0 - (-1.0f64 / 7.0).exp());
    let (mut ctl, mut atl) = (seed.ctl, seed.atl);
    let mut day = add_days(today, 1);
    let mut n = 0;
    while day <= plan.end_date() {
        let load: f64 = plan
            .weeks
            .iter()
            .flat_map(|w| &w.workouts)
            .filter(|p| p.date == day)
            .map(|p| p.tss)
            .sum();
        let tsb = ctl - atl;
        ctl += (load - ctl) * a_ctl;
        atl += (load - atl) * a_atl;
        let got = &proj.days[n];
        assert_eq!(got.date, day);
        assert!(
            (got.load - load).abs() < 1e-9,
            "{day}: load {} vs {load}",
            got.load
        );
        assert!(
            (got.ctl - ctl).abs() < 1e-9,
            "{day}: ctl {} vs {ctl}",
            got.ctl
        );
        assert!((got.atl - atl).abs() < 1e-9, "{day}");
        assert!((got.tsb - tsb).abs() < 1e-9, "{day}");
        day = add_days(day, 1);
        n += 1;
    }
    assert_eq!(n, proj.days.len());
    // The event is the plan's last day: its arrival is that day's projected values.
    let arrival = proj.event.expect("event inside the projection");
    let last = proj.days.last().unwrap();
    assert_eq!(
        (arrival.date, arrival.ctl, arrival.tsb),
        (event(), last.ctl, last.tsb)
    );
    assert_eq!(
        arrival.sentence(),
        format!(
            "arrives on {} with CTL {:.0}, TSB {:+.0}",
            event(),
            last.ctl,
            last.tsb
        )
    );
    // The taper works: form on the event morning is above form at the end of the Peak week.
    let peak_end = proj
        .days
        .iter()
        .find(|d| d.date == add_days(start(), 62))
        .unwrap();
    assert!(
        arrival.tsb > peak_end.tsb + 5.0,
        "{} vs {}",
        arrival.tsb,
        peak_end.tsb
    );
}

#[test]
fn planned_load_agrees_with_the_plans_weekly_totals_to_the_unit() {
    let plan = plan();
    let daily = planned_daily_tss(&plan);
    for w in &plan.weeks {
        let sum: f64 = daily
            .range(w.start_date..=w.end_date())
            .map(|(_, v)| *v)
            .sum();
        assert!(
            (sum - w.planned_tss).abs() < 0.5,
            "week {}: {sum} vs {}",
            w.week,
            w.planned_tss
        );
    }
    // Before the plan starts, the projection rests (load 0) until its first workout.
    let proj = project(
        &plan,
        add_days(start(), -3),
        PmcSeed {
            ctl: 40.0,
            atl: 40.0,
        },
    );
    assert_eq!(proj.days[0].load, 0.0);
    assert!(proj.days[0].ctl < 40.0);
    let total: f64 = proj.days.iter().map(|d| d.load).sum();
    let plan_total: f64 = plan.weeks.iter().map(|w| w.planned_tss).sum();
    assert!((total - plan_total).abs() < 0.5, "{total} vs {plan_total}");
}
