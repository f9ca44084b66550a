//! The error collector of validation: every problem of a file with its key path, line and
//! column, and a fix, so that one run reports them all instead of stopping at the first.

use super::dist::{parse_dist, Dist, Unit};
use super::line_col;
use super::raw::SValue;
use super::selector::Selector;
use crate::error::InputError;
use std::ops::Range;
use std::path::Path;

/// Where the table that holds `key_path` starts in `text`, when it is written as a table
/// header: `population[2].count` → the third `[[population]]`, `simulation.name` →
/// `[simulation]`. `None` for keys of inline tables, of `--set` overrides and of whole sections.
pub(crate) fn table_offset(text: &str, key_path: &str) -> Option<usize> {
    let (header, nth) = match key_path.find('[') {
        Some(open) => {
            let close = open + key_path[open..].find(']')?;
            let index: usize = key_path[open + 1..close].parse().ok()?;
            (format!("[[{}]]", &key_path[..open]), index)
        }
        None => (format!("[{}]", key_path.rsplit_once('.')?.0), 0),
    };
    let mut offset = 0;
    let mut seen = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.split('#').next().unwrap_or("").trim();
        if bare == header {
            if seen == nth {
                return Some(offset + line.len() - line.trim_start().len());
            }
            seen += 1;
        }
        offset += line.len();
    }
    None
}

/// Collects every problem of a file with its key path and position.
pub struct Ctx<'a> {
    pub text: &'a str,
    pub file: &'a str,
    pub base_dir: &'a Path,
    pub errors: Vec<InputError>,
}

impl Ctx<'_> {
    pub fn err(
        &mut self,
        path: impl Into<String>,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) {
        let path = path.into();
        // A missing key has no span of its own: point at the table it is missing from.
        let position = span
            .filter(|s| s.end > s.start)
            .map(|s| s.start)
            .or_else(|| table_offset(self.text, &path))
            .map(|offset| line_col(self.text, offset));
        self.errors.push(InputError {
            file: self.file.to_string(),
            key_path: path,
            position,
            message: message.into(),
        });
    }
    pub fn dist(&mut self, path: &str, v: &SValue, unit: Unit) -> Dist {
        match parse_dist(v.get_ref(), unit, self.base_dir) {
            Ok(d) => d,
            Err(m) => {
                self.err(path, Some(v.span()), m);
                Dist::Constant(0.0)
            }
        }
    }
    pub fn fraction(&mut self, path: &str, v: &toml::Spanned<f64>) -> f64 {
        let x = *v.get_ref();
        if !(0.0..=1.0).contains(&x) {
            self.err(
                path,
                Some(v.span()),
                format!("{x} is outside 0..1: write a fraction, e.g. 0.02 for 2 %"),
            );
        }
        x
    }
    pub fn non_negative(&mut self, path: &str, v: &toml::Spanned<f64>) -> f64 {
        let x = *v.get_ref();
        if !(x >= 0.0 && x.is_finite()) {
            self.err(
                path,
                Some(v.span()),
                format!("{x} must be a finite number ≥ 0"),
            );
        }
        x
    }
    pub fn selector(
        &mut self,
        path: &str,
        t: &toml::Spanned<toml::Table>,
        allow_from: bool,
    ) -> Selector {
        Selector::parse(t.get_ref(), allow_from).unwrap_or_else(|m| {
            self.err(path, Some(t.span()), m);
            Selector::default()
        })
    }
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}
