//! The synthetic athlete: physiology and equipment (one fixed rider, or a roster's members).

/// Physiology, equipment and home of the demo athlete.
#[derive(Debug, Clone, PartialEq)]
pub struct Athlete {
    pub name: String,
    pub age: u32,
    pub sex: &'static str,
    pub weight_kg: f64,
    pub bike_kg: f64,
    /// Real FTP at the season's start and end (the progression in between is in `plan`).
    pub ftp_start_w: f64,
    pub ftp_end_w: f64,
    /// FTP configured before the first test of the season.
    pub ftp_initial_w: u16,
    /// Anaerobic work capacity (W′) at the season's end, J: with CP = FTP it sets the 1–10 min
    /// range of the power-duration curve.
    pub w_prime_j: f64,
    /// Peak instantaneous power (sprint), W; barely moves with aerobic fitness.
    pub pmax_w: f64,
    pub max_hr_bpm: u8,
    pub resting_hr_bpm: u8,
    pub lthr_bpm: u8,
    /// Running speed at threshold, m/s.
    pub run_threshold_mps: f64,
    pub cda_m2: f64,
    pub crr: f64,
    pub home_lat: f64,
    pub home_lon: f64,
    pub timezone: &'static str,
}

impl Default for Athlete {
    fn default() -> Self {
        Athlete {
            name: "Alex Demo".into(),
            age: 38,
            sex: "male",
            weight_kg: 72.0,
            bike_kg: 8.5,
            ftp_start_w: 240.0,
            ftp_end_w: 270.0,
            ftp_initial_w: 235,
            w_prime_j: 18_000.0,
            pmax_w: 1050.0,
            max_hr_bpm: 186,
            resting_hr_bpm: 48,
            lthr_bpm: 168,
            run_threshold_mps: 4.1,
            cda_m2: 0.32,
            crr: 0.004,
            // Girona: plenty of climbs, and a time zone that is not UTC.
            home_lat: 41.9794,
            home_lon: 2.8214,
            timezone: "Europe/Madrid",
        }
    }
}

/// Fractional loss of sustainable power per e-fold of duration beyond 20 min: the 3-parameter
/// model alone has no fatigue term and would put the 1-hour power above CP, where real riders
/// sit at or a little below FTP.
const LONG_DURATION_DECAY: f64 = 0.04;
const LONG_DURATION_FROM_S: f64 = 1200.0;

impl Athlete {
    /// Member `number` (from 1) of a demo roster: the default rider's physiology scaled so a
    /// roster spans club riders to strong amateurs — FTP at the season's end 194–346 W
    /// (0.72–1.28 × the default rider's), 54–88 kg, 22–64 years, either sex, heart rates by age
    /// — drawn from `seed`, so the same seed and number always give the same rider. Availability, goals and home stay the default rider's: a
    /// coach's roster trains on the same calendar, and one plan answer is valid for all of them
    /// (the roster benchmark's fake model relies on it).
    pub fn roster_member(number: usize, seed: u64) -> Athlete {
        let base = Athlete::default();
        let mut rng = crate::rng::Rng::new(crate::rng::derive_seed(seed, number as u64));
        let power = rng.range(0.72, 1.28);
        let weight_kg = (rng.range(54.0, 88.0) * 10.0).round() / 10.0;
        let age = rng.int(22, 64) as u32;
        let sex = if rng.chance(0.35) { "female" } else { "male" };
        // Tanaka's age-predicted maximum, with a rider's spread around it.
        let max_hr = (208.0 - 0.7 * f64::from(age) + rng.range(-6.0, 6.0)).round();
        let ftp_end_w = (base.ftp_end_w * power).round();
        let gain = rng.range(0.05, 0.14);
        let ftp_start_w = (ftp_end_w / (1.0 + gain)).round();
        Athlete {
            name: format!("Demo Rider {number:03}"),
            age,
            sex,
            weight_kg,
            ftp_start_w,
            ftp_end_w,
            // Set a little below the real start value, as after a winter without a test.
            ftp_initial_w: (ftp_start_w - rng.range(0.0, 12.0)).round() as u16,
            w_prime_j: (base.w_prime_j * rng.range(0.8, 1.25)).round(),
            pmax_w: (base.pmax_w * power.sqrt() * rng.range(0.9, 1.1)).round(),
            max_hr_bpm: max_hr as u8,
            resting_hr_bpm: rng.int(42, 61) as u8,
            lthr_bpm: (max_hr * 0.9).round() as u8,
            run_threshold_mps: base.run_threshold_mps * rng.range(0.85, 1.1),
            // Drag area grows with size, roughly with the frontal area (∝ mass^(2/3)).
            cda_m2: base.cda_m2 * (weight_kg / base.weight_kg).powf(2.0 / 3.0),
            ..base
        }
    }

    /// W′ on a day with true FTP `ftp`: it grows with training less than CP does (square root of
    /// the FTP ratio), so the early season has a slightly smaller anaerobic reserve.
    pub fn w_prime_at(&self, ftp: f64) -> f64 {
        self.w_prime_j * (ftp / self.ftp_end_w).sqrt()
    }

    /// The best mean power (W) the athlete can hold for `dur_s` seconds when fresh, with true
    /// FTP `ftp`: the mean of a fresh all-out effort ([`Athlete::all_out_w`]) over its first
    /// `dur_s` seconds: Morton's 3-parameter critical-power
    /// model, P(t) = CP + W′ / (t + k) with k = W′ / (Pmax − CP) and CP = FTP, plus the sprint
    /// term's extra work spread over t; beyond 20 min a
    /// slow logarithmic decay puts the hour at ≈ 97 % of FTP.
    pub fn capacity_w(&self, ftp: f64, dur_s: f64) -> f64 {
        let dur_s = dur_s.max(1.0);
        let (cp, w) = (ftp, self.w_prime_at(ftp));
        let k = w / (self.pmax_w - cp);
        // Work the sprint term adds on top of the model's, J (midpoint rule, 1 s steps); it is
        // all done in the first ≈ 20 s, so for longer efforts it simply adds surplus / t.
        let surplus: f64 = (0..dur_s.min(SPRINT_RANGE_S).round() as u32)
            .map(|t| {
                let t = f64::from(t) + 0.5;
                self.all_out_w(ftp, t) - (cp + (self.pmax_w - cp) * (k / (t + k)).powi(2))
            })
            .sum();
        let p = cp + w / (dur_s + k) + surplus / dur_s;
        if dur_s > LONG_DURATION_FROM_S {
            p * (1.0 - LONG_DURATION_DECAY * (dur_s / LONG_DURATION_FROM_S).ln())
        } else {
            p
        }
    }

    /// Instantaneous power `t_s` seconds into a fresh all-out effort. Two sources, the larger
    /// wins: the derivative of t·P(t) for the 3-parameter model, CP + (Pmax − CP)·(k/(t+k))²,
    /// whose running mean is exactly the model; and a sprint (phosphocreatine) term that holds
    /// Pmax for a couple of seconds then fades ≈ 4.5 %/s, without which the model puts the 10-s power
    /// of a trained rider far too low.
    pub fn all_out_w(&self, ftp: f64, t_s: f64) -> f64 {
        let (cp, w) = (ftp, self.w_prime_at(ftp));
        let k = w / (self.pmax_w - cp);
        let t = t_s.max(0.0);
        let aerobic_anaerobic = cp + (self.pmax_w - cp) * (k / (t + k)).powi(2);
        let sprint = self.pmax_w * (1.0 - SPRINT_FADE_PER_S * (t - SPRINT_HOLD_S).max(0.0));
        aerobic_anaerobic.max(sprint)
    }
}

/// Seconds a sprint holds peak power, and the fraction of it lost per second afterwards.
const SPRINT_HOLD_S: f64 = 2.0;
const SPRINT_FADE_PER_S: f64 = 0.045;
/// The sprint term is below the 3-parameter term from ≈ 11 s on: its surplus is summed up to here.
const SPRINT_RANGE_S: f64 = 40.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_has_a_trained_riders_shape() {
        let a = Athlete::default();
        let ftp = a.ftp_end_w;
        let at = |s: f64| a.capacity_w(ftp, s) / ftp;
        for s in [
            1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0,
        ] {
            println!("{s} s: {:.0} W", a.capacity_w(ftp, s));
        }
        assert!((a.capacity_w(ftp, 1.0) / a.pmax_w - 1.0).abs() < 0.01);
        assert!((3.2..3.5).contains(&at(10.0)), "10 s {}", at(10.0));
        assert!((1.75..2.4).contains(&at(30.0)), "30 s {}", at(30.0));
        assert!((1.6..1.9).contains(&at(60.0)), "1 min {}", at(60.0));
        assert!((1.15..1.25).contains(&at(300.0)), "5 min {}", at(300.0));
        assert!((1.04..1.07).contains(&at(1200.0)), "20 min {}", at(1200.0));
        assert!((0.95..1.0).contains(&at(3600.0)), "1 h {}", at(3600.0));
        // Non-increasing everywhere, continuous at the decay's start.
        let mut last = f64::INFINITY;
        for s in (0..4 * 3600).step_by(7) {
            let p = a.capacity_w(ftp, f64::from(s));
            assert!(p <= last + 1e-9, "rises at {s} s");
            last = p;
        }
    }

    #[test]
    fn an_all_out_effort_averages_to_the_capacity() {
        let a = Athlete::default();
        let ftp = 260.0;
        for d in [1u32, 5, 10, 30, 39, 40, 41, 60, 300, 1200] {
            // Midpoint rule over 1 s steps.
            let mean = (0..d)
                .map(|t| a.all_out_w(ftp, f64::from(t) + 0.5))
                .sum::<f64>()
                / f64::from(d);
            let cap = a.capacity_w(ftp, f64::from(d));
            assert!((mean / cap - 1.0).abs() < 0.01, "{d} s: {mean} vs {cap}");
        }
    }
}
