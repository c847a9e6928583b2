//! The synthetic athlete: fixed physiology and equipment.

/// Physiology, equipment and home of the demo athlete.
#[derive(Debug, Clone, PartialEq)]
pub struct Athlete {
    pub name: &'static str,
    pub age: u32,
    pub sex: &'static str,
    pub weight_kg: f64,
    pub bike_kg: f64,
    /// Real FTP at the season's start and end (the progression in between is in `plan`).
    pub ftp_start_w: f64,
    pub ftp_end_w: f64,
    /// FTP configured before the first test of the season.
    pub ftp_initial_w: u16,
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
            name: "Alex Demo",
            age: 38,
            sex: "male",
            weight_kg: 72.0,
            bike_kg: 8.5,
            ftp_start_w: 240.0,
            ftp_end_w: 270.0,
            ftp_initial_w: 235,
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
