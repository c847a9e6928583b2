//! FIT `sport` / `sub_sport` → [`SportKind`].
//!
//! Decisions worth knowing (the FIT profile has ~90 sports and ~150 sub-sports; we keep what
//! matters for training load):
//! - `cycling`: `virtual_activity` → virtual; `indoor_cycling`, `spin`, `indoor_hand_cycling` →
//!   indoor; `e_bike_*` sub-sports → e-bike; everything else (road, mountain, gravel, track…) outdoor.
//! - `e_biking` is always an e-bike ride (indoor when the sub-sport says so).
//! - `training` (and the `hiit` sport) is general gym work: counted as **Strength**, indoors,
//!   whatever the sub-sport (strength, cardio, flexibility, yoga…), because none of it is endurance
//!   volume in a sport we track separately.
//! - `fitness_equipment` is classified by the machine: rowing machine → Rowing, spin bike →
//!   Ride, treadmill → Run, indoor walking → Walk, ski erg → Ski, strength → Strength; elliptical,
//!   stair climber and unknown machines → Other. All indoor.
//! - `swimming`: `lap_swimming` → indoor (pool), `open_water` or unspecified → outdoor.
//! - `generic` (and a missing sport) falls back to what the sub-sport alone implies, else Other.

use crate::model::{Environment, Sport, SportKind};

/// Classify a FIT activity from its profile names, e.g. `("cycling", Some("virtual_activity"))`.
///
/// Names are the FIT profile's snake_case names as rustyfit and the FIT SDK print them; unknown
/// names map to [`Sport::Other`].
pub fn map_sport(fit_sport: &str, fit_sub_sport: Option<&str>) -> SportKind {
    use Environment::{Indoor, Outdoor, Virtual};
    let sub = fit_sub_sport.unwrap_or("generic");
    let kind = SportKind::with_env;
    match fit_sport {
        "cycling" => match sub {
            "virtual_activity" => kind(Sport::Ride, Virtual),
            "indoor_cycling" | "spin" | "indoor_hand_cycling" => kind(Sport::Ride, Indoor),
            "e_bike_fitness" | "e_bike_mountain" | "e_bike_enduro" => e_bike(Outdoor),
            _ => kind(Sport::Ride, Outdoor),
        },
        "e_biking" => match sub {
            "indoor_cycling" | "spin" => e_bike(Indoor),
            "virtual_activity" => e_bike(Virtual),
            _ => e_bike(Outdoor),
        },
        "running" => match sub {
            "treadmill" | "indoor_running" => kind(Sport::Run, Indoor),
            "virtual_activity" => kind(Sport::Run, Virtual),
            _ => kind(Sport::Run, Outdoor),
        },
        "training" | "hiit" => kind(Sport::Strength, Indoor),
        "fitness_equipment" => match sub {
            "indoor_rowing" => kind(Sport::Rowing, Indoor),
            "indoor_cycling" | "spin" | "indoor_hand_cycling" => kind(Sport::Ride, Indoor),
            "virtual_activity" => kind(Sport::Ride, Virtual),
            "treadmill" | "indoor_running" => kind(Sport::Run, Indoor),
            "indoor_walking" => kind(Sport::Walk, Indoor),
            "indoor_skiing" => kind(Sport::Ski, Indoor),
            "strength_training" => kind(Sport::Strength, Indoor),
            _ => kind(Sport::Other, Indoor),
        },
        "rowing" => match sub {
            "indoor_rowing" => kind(Sport::Rowing, Indoor),
            _ => kind(Sport::Rowing, Outdoor),
        },
        "swimming" => match sub {
            "lap_swimming" => kind(Sport::Swim, Indoor),
            _ => kind(Sport::Swim, Outdoor),
        },
        "walking" => match sub {
            "indoor_walking" | "treadmill" => kind(Sport::Walk, Indoor),
            _ => kind(Sport::Walk, Outdoor),
        },
        "hiking" | "mountaineering" | "snowshoeing" => kind(Sport::Hike, Outdoor),
        "cross_country_skiing" | "alpine_skiing" | "snowboarding" => match sub {
            "indoor_skiing" => kind(Sport::Ski, Indoor),
            _ => kind(Sport::Ski, Outdoor),
        },
        "generic" | "" => from_sub_sport_alone(sub),
        _ => kind(Sport::Other, Outdoor),
    }
}

fn e_bike(environment: Environment) -> SportKind {
    SportKind {
        sport: Sport::Ride,
        environment,
        e_bike: true,
    }
}

/// Some devices write `sport = generic` and put the whole information in the sub-sport.
fn from_sub_sport_alone(sub: &str) -> SportKind {
    use Environment::{Indoor, Outdoor, Virtual};
    let kind = SportKind::with_env;
    match sub {
        "indoor_cycling" | "spin" => kind(Sport::Ride, Indoor),
        "virtual_activity" => kind(Sport::Other, Virtual),
        "road" | "mountain" | "gravel_cycling" | "cyclocross" | "track_cycling" => {
            kind(Sport::Ride, Outdoor)
        }
        "e_bike_fitness" | "e_bike_mountain" | "e_bike_enduro" => e_bike(Outdoor),
        "treadmill" | "indoor_running" => kind(Sport::Run, Indoor),
        "indoor_rowing" => kind(Sport::Rowing, Indoor),
        "lap_swimming" => kind(Sport::Swim, Indoor),
        "open_water" => kind(Sport::Swim, Outdoor),
        "strength_training" | "cardio_training" => kind(Sport::Strength, Indoor),
        "indoor_walking" => kind(Sport::Walk, Indoor),
        _ => kind(Sport::Other, Outdoor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Environment::{Indoor, Outdoor, Virtual};

    #[test]
    fn mapping_table() {
        let ride = |env| SportKind::with_env(Sport::Ride, env);
        let ebike = |env| SportKind {
            sport: Sport::Ride,
            environment: env,
            e_bike: true,
        };
        let cases: &[(&str, Option<&str>, SportKind)] = &[
            ("cycling", None, ride(Outdoor)),
            ("cycling", Some("road"), ride(Outdoor)),
            ("cycling", Some("mountain"), ride(Outdoor)),
            ("cycling", Some("gravel_cycling"), ride(Outdoor)),
            ("cycling", Some("virtual_activity"), ride(Virtual)),
            ("cycling", Some("indoor_cycling"), ride(Indoor)),
            ("cycling", Some("spin"), ride(Indoor)),
            ("cycling", Some("e_bike_fitness"), ebike(Outdoor)),
            ("cycling", Some("e_bike_mountain"), ebike(Outdoor)),
            ("e_biking", None, ebike(Outdoor)),
            ("e_biking", Some("e_bike_mountain"), ebike(Outdoor)),
            (
                "running",
                Some("treadmill"),
                SportKind::with_env(Sport::Run, Indoor),
            ),
            (
                "running",
                Some("indoor_running"),
                SportKind::with_env(Sport::Run, Indoor),
            ),
            (
                "running",
                Some("trail"),
                SportKind::with_env(Sport::Run, Outdoor),
            ),
            (
                "running",
                Some("street"),
                SportKind::with_env(Sport::Run, Outdoor),
            ),
            ("running", None, SportKind::with_env(Sport::Run, Outdoor)),
            (
                "training",
                Some("strength_training"),
                SportKind::with_env(Sport::Strength, Indoor),
            ),
            (
                "training",
                Some("generic"),
                SportKind::with_env(Sport::Strength, Indoor),
            ),
            (
                "training",
                Some("cardio_training"),
                SportKind::with_env(Sport::Strength, Indoor),
            ),
            (
                "training",
                None,
                SportKind::with_env(Sport::Strength, Indoor),
            ),
            (
                "fitness_equipment",
                Some("indoor_rowing"),
                SportKind::with_env(Sport::Rowing, Indoor),
            ),
            ("fitness_equipment", Some("indoor_cycling"), ride(Indoor)),
            (
                "fitness_equipment",
                Some("treadmill"),
                SportKind::with_env(Sport::Run, Indoor),
            ),
            (
                "fitness_equipment",
                Some("elliptical"),
                SportKind::with_env(Sport::Other, Indoor),
            ),
            (
                "fitness_equipment",
                Some("stair_climbing"),
                SportKind::with_env(Sport::Other, Indoor),
            ),
            ("rowing", None, SportKind::with_env(Sport::Rowing, Outdoor)),
            (
                "rowing",
                Some("indoor_rowing"),
                SportKind::with_env(Sport::Rowing, Indoor),
            ),
            (
                "swimming",
                Some("lap_swimming"),
                SportKind::with_env(Sport::Swim, Indoor),
            ),
            (
                "swimming",
                Some("open_water"),
                SportKind::with_env(Sport::Swim, Outdoor),
            ),
            ("walking", None, SportKind::with_env(Sport::Walk, Outdoor)),
            (
                "walking",
                Some("indoor_walking"),
                SportKind::with_env(Sport::Walk, Indoor),
            ),
            ("hiking", None, SportKind::with_env(Sport::Hike, Outdoor)),
            (
                "cross_country_skiing",
                Some("skate_skiing"),
                SportKind::with_env(Sport::Ski, Outdoor),
            ),
            (
                "alpine_skiing",
                Some("resort"),
                SportKind::with_env(Sport::Ski, Outdoor),
            ),
            ("generic", Some("indoor_cycling"), ride(Indoor)),
            ("generic", None, SportKind::with_env(Sport::Other, Outdoor)),
            ("tennis", None, SportKind::with_env(Sport::Other, Outdoor)),
            (
                "Sport(250)",
                None,
                SportKind::with_env(Sport::Other, Outdoor),
            ),
        ];
        for &(sport, sub, expected) in cases {
            assert_eq!(
                map_sport(sport, sub),
                expected,
                "map_sport({sport:?}, {sub:?})"
            );
        }
    }

    #[test]
    fn e_bike_flag_only_on_e_bikes() {
        assert!(!map_sport("cycling", Some("virtual_activity")).e_bike);
        assert!(!map_sport("cycling", Some("road")).e_bike);
        assert!(map_sport("cycling", Some("e_bike_fitness")).e_bike);
        assert!(map_sport("e_biking", Some("generic")).e_bike);
    }
}
