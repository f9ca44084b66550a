//! `schema_version`: the first key of every JSON document fleetsim writes (summary.json,
//! perf.json, baseline.json, compare.json, sweep.json, tune.json, chaos.json, shard.json, the
//! `--format json` documents of check and validate, and each JSON error record), and the check
//! that a reader of such a file understands its version.
//!
//! The version changes only when a reader of the previous version would misread a file: a key
//! removed, renamed or given another meaning or unit. Keys added leave it as it is (readers
//! ignore keys they do not know). Files written before the key existed are version 1.

use crate::error::{Error, Result};
use std::path::Path;

/// The version of the JSON files this fleetsim writes, and the newest it reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The version of a file without `schema_version`: the files of fleetsim before the key was
/// written are the first version.
const UNVERSIONED: u64 = 1;

/// A document with `schema_version` in front of its own keys. `body` serializes as a JSON
/// object (a struct or a map); its keys keep their order.
#[derive(serde::Serialize)]
pub struct Versioned<'a, T: serde::Serialize + ?Sized> {
    schema_version: u32,
    #[serde(flatten)]
    body: &'a T,
}

impl<'a, T: serde::Serialize + ?Sized> Versioned<'a, T> {
    pub fn new(body: &'a T) -> Versioned<'a, T> {
        Versioned {
            schema_version: SCHEMA_VERSION,
            body,
        }
    }
}

/// `body` with `schema_version`, as pretty JSON and a newline (the files' layout).
pub fn pretty<T: serde::Serialize + ?Sized>(body: &T) -> String {
    serde_json::to_string_pretty(&Versioned::new(body)).unwrap_or_default() + "\n"
}

/// `body` with `schema_version`, as one line of JSON.
pub fn line<T: serde::Serialize + ?Sized>(body: &T) -> String {
    serde_json::to_string(&Versioned::new(body)).unwrap_or_default()
}

/// Just the key, read before the rest of a file so that a newer file is refused for its
/// version and not for whichever field happened to change.
#[derive(serde::Deserialize)]
struct Probe {
    #[serde(default)]
    schema_version: Option<serde_json::Value>,
}

/// Refuses the file at `path` (its bytes) when its `schema_version` is newer than this
/// fleetsim's or is not a version at all. Bytes that are not a JSON object are left to the
/// caller's parser, whose message says what the file is not.
pub fn check_readable(bytes: &[u8], path: &Path) -> Result<()> {
    let Ok(probe) = serde_json::from_slice::<Probe>(bytes) else {
        return Ok(());
    };
    let version = match probe.schema_version {
        None => UNVERSIONED,
        Some(v) => v.as_u64().filter(|&v| v >= 1).ok_or_else(|| {
            Error::Usage(format!(
                "{}: schema_version is not a version (a whole number from 1); was the file \
                 edited?",
                path.display()
            ))
        })?,
    };
    if version > u64::from(SCHEMA_VERSION) {
        return Err(Error::Usage(format!(
            "{}: schema_version {version} is newer than this fleetsim reads \
             (schema_version {SCHEMA_VERSION}, fleetsim {}): use the fleetsim that wrote it, \
             or a newer one",
            path.display(),
            env!("CARGO_PKG_VERSION")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Doc {
        zebra: u32,
        apple: &'static str,
    }

    #[test]
    fn the_version_is_the_first_key_and_the_body_keeps_its_order() {
        let doc = Doc {
            zebra: 1,
            apple: "a",
        };
        assert_eq!(
            line(&doc),
            format!("{{\"schema_version\":{SCHEMA_VERSION},\"zebra\":1,\"apple\":\"a\"}}")
        );
        assert!(pretty(&doc).starts_with("{\n  \"schema_version\": 1,\n  \"zebra\": 1,"));
    }

    #[test]
    fn a_file_is_readable_up_to_this_version_and_without_the_key() {
        let p = Path::new("x.json");
        assert!(check_readable(b"{\"a\": 1}", p).is_ok());
        assert!(check_readable(b"{\"schema_version\": 1, \"a\": 1}", p).is_ok());
        assert!(
            check_readable(b"not json", p).is_ok(),
            "the caller says why"
        );
        let newer = format!("{{\"schema_version\": {}}}", SCHEMA_VERSION + 1);
        let e = check_readable(newer.as_bytes(), p).unwrap_err().to_string();
        assert!(e.contains("x.json: schema_version 2 is newer"), "{e}");
        for bad in ["0", "-1", "1.5", "\"1\""] {
            let text = format!("{{\"schema_version\": {bad}}}");
            let e = check_readable(text.as_bytes(), p).unwrap_err().to_string();
            assert!(e.contains("is not a version"), "{bad}: {e}");
        }
    }
}
