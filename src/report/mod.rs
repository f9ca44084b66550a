//! The report folder (SPEC §4). Each output format is one module; all of them only read the
//! analysed results. The folder is written atomically (`staging`): files go to a hidden sibling
//! folder that replaces the old report in one step only once every file is complete and on
//! disk, so a failed, interrupted or killed run never leaves a half-written report in place of
//! a good one, and fleetsim replaces only folders it wrote itself.

pub mod advice;
pub mod baseline;
pub mod breakdown;
pub mod cohorts;
pub mod csv_files;
pub mod folder;
pub mod glance;
pub mod html;
pub mod html_experiment;
pub mod html_run;
pub mod junit;
pub mod markdown;
pub mod perf;
pub mod plots;
pub mod progress;
pub mod render;
pub mod staging;
pub mod summary;
pub mod sweep_files;
pub mod table;
pub mod versioned;

pub use staging::Staging;

/// Formats a float for data files: shortest round-trip text, empty for no value.
pub fn num(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v}"),
        Some(v) if v.is_infinite() => {
            if v > 0.0 {
                "inf".into()
            } else {
                "-inf".into()
            }
        }
        _ => String::new(),
    }
}
