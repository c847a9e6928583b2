//! Where the plan takes fitness: CTL / ATL / TSB projected from today's actual values through
//! the plan's planned daily load to the end of the plan (and the event, if later).
//!
//! Planned load is the workouts' own planned TSS ([`PlannedWorkout::tss`], the figure the plan
//! shows), summed per day, so the plan's weekly totals and the projection agree to the unit; the
//! model is the same PMC as the actual one ([`metrics::pmc::pmc`]), seeded with today's CTL and
//! ATL, so the two lines join without a step.

use std::collections::BTreeMap;

use jiff::civil::Date;
use metrics::pmc::{PmcDay, PmcSeed, pmc};
use serde::Serialize;

use crate::plan::TrainingPlan;

/// Planned TSS per date (days without a workout are absent: load 0).
pub fn planned_daily_tss(plan: &TrainingPlan) -> BTreeMap<Date, f64> {
    let mut out = BTreeMap::new();
    for p in plan.weeks.iter().flat_map(|w| &w.workouts) {
        if p.tss.is_finite() && p.tss > 0.0 {
            *out.entry(p.date).or_insert(0.0) += p.tss;
        }
    }
    out
}

/// The event day as the projection sees it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Arrival {
    pub date: Date,
    pub ctl: f64,
    pub atl: f64,
    /// Form on the event morning (yesterday's CTL − ATL).
    pub tsb: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    /// The last actual day (the seed's day).
    pub from: Date,
    pub seed: PmcSeed,
    /// One day per date from the day after `from` to the plan's end or the event, whichever is
    /// later.
    pub days: Vec<PmcDay>,
    pub event: Option<Arrival>,
    /// The plan's last day.
    pub plan_end: Date,
}

/// Projects from `today` (whose actual CTL/ATL are `seed`, its load already counted) to the end
/// of the plan or its event. Empty `days` when the plan ends today or earlier.
pub fn project(plan: &TrainingPlan, today: Date, seed: PmcSeed) -> Projection {
    let plan_end = plan.end_date();
    let end = plan.event_date.map_or(plan_end, |e| e.max(plan_end));
    let daily = planned_daily_tss(plan);
    let days = match today.tomorrow() {
        Ok(first) => pmc(&daily, first, end, seed),
        Err(_) => Vec::new(),
    };
    let event = plan.event_date.and_then(|e| {
        days.iter().find(|d| d.date == e).map(|d| Arrival {
            date: e,
            ctl: d.ctl,
            atl: d.atl,
            tsb: d.tsb,
        })
    });
    Projection {
        from: today,
        seed,
        days,
        event,
        plan_end,
    }
}

impl Arrival {
    /// "arrives on 2026-05-17 with CTL 86, TSB +14".
    pub fn sentence(&self) -> String {
        format!(
            "arrives on {} with CTL {:.0}, TSB {:+.0}",
            self.date, self.ctl, self.tsb
        )
    }
}
