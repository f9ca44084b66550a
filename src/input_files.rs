//! Reading the files fleetsim is pointed at besides the scenario: inventories and empirical
//! samples that a scenario names, and the shard and results folders that `merge` and `report`
//! read back. Each is read only if it is a regular file and never past a size cap, so that
//! `/dev/zero`, a named pipe or a directory is refused at once instead of reading forever or
//! waiting for a writer, and a huge file is refused before it is read into memory.
//!
//! Errors name the file and the cap; they never quote the file's contents (see
//! [`json_error_text`]).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// What a file is for, and how large it may be.
#[derive(Clone, Copy, Debug)]
pub struct FileKind {
    /// Said in messages: "an inventory", "an empirical values file".
    pub what: &'static str,
    pub max_bytes: u64,
}

/// `fleet.inventory`: 1 GiB, about 10 million rows of a typical export (≈ 100 bytes a row), half
/// the device limit at the shortest rows; an inventory of the full 20 million devices groups them
/// into populations instead.
pub const INVENTORY: FileKind = FileKind {
    what: "an inventory",
    max_bytes: 1 << 30,
};

/// An empirical distribution's `file`: 64 MiB, several million samples, far more than an
/// empirical distribution needs to be smooth.
pub const EMPIRICAL: FileKind = FileKind {
    what: "an empirical values file",
    max_bytes: 64 << 20,
};

/// `shard.json` and the data files of a results folder: 4 GiB, what a sharded run of the
/// largest replication count writes with room to spare.
pub const RESULTS: FileKind = FileKind {
    what: "a fleetsim data file",
    max_bytes: 4 << 30,
};

/// A rollout system's own document for `fleetsim import` (a job, rollout or deployment
/// definition): 16 MiB, far more than any such document needs.
pub const DOCUMENT: FileKind = FileKind {
    what: "a rollout document",
    max_bytes: 16 << 20,
};

/// A byte count as people read it: `64 MiB`, `1 GiB`, `300 bytes`.
pub fn bytes_text(n: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if n >= size {
            let v = n as f64 / size as f64;
            return if n.is_multiple_of(size) {
                format!("{} {unit}", n / size)
            } else {
                format!("{v:.1} {unit}")
            };
        }
    }
    format!("{n} bytes")
}

/// A reader that fails once more than `max_bytes` have come through: a file that grows while it
/// is read (or whose size the file system does not report) still stops at the cap.
pub struct Capped<R> {
    inner: R,
    left: u64,
    message: String,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Read one byte past the cap so that a file of exactly the cap is still accepted.
        let want = buf
            .len()
            .min(self.left.saturating_add(1).min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            return Err(io::Error::other(self.message.clone()));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Why `path` is not a regular file, in words, or `None` when it is one.
fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("is a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("is a named pipe (FIFO), which could keep fleetsim waiting for a writer");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("is a device, not a file");
        }
        if t.is_socket() {
            return Some("is a socket");
        }
    }
    Some("is not a regular file")
}

/// Opens `path` for reading as a `kind` file: a regular file of at most `kind.max_bytes`.
pub fn open(path: &Path, kind: FileKind) -> Result<Capped<File>, String> {
    let shown = path.display();
    let refuse = |why: &str| format!("{shown}: {why}; {} must be a regular file", kind.what);
    // The type is checked before opening: opening a named pipe would block until a writer comes.
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    if let Some(why) = not_regular(&meta) {
        return Err(refuse(why));
    }
    let too_large = |size: &str| {
        format!(
            "{shown}: {size}more than the {} limit for {}",
            bytes_text(kind.max_bytes),
            kind.what
        )
    };
    if meta.len() > kind.max_bytes {
        return Err(too_large(&format!("{} bytes is ", meta.len())));
    }
    let file = File::open(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    // Checked again on the open file, in case the path was replaced in between.
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    if let Some(why) = not_regular(&meta) {
        return Err(refuse(why));
    }
    Ok(Capped {
        inner: file,
        left: kind.max_bytes,
        message: too_large("it grew while being read and is now "),
    })
}

/// Reads all of `path` as a `kind` file (see [`open`]).
pub fn read(path: &Path, kind: FileKind) -> Result<Vec<u8>, String> {
    let mut reader = open(path, kind)?;
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|e| {
        // The cap's own error already names the file.
        if e.to_string().starts_with(&path.display().to_string()) {
            e.to_string()
        } else {
            format!("cannot read `{}`: {e}", path.display())
        }
    })?;
    Ok(bytes)
}

/// What went wrong in a JSON file, with its line and column but without the text it found:
/// serde's own messages quote the offending value (`invalid type: string "…"`), which for a
/// file that is not what it claims to be would print a piece of it.
pub fn json_error_text(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "it cannot be read".to_string(),
        Category::Syntax => "it is not valid JSON".to_string(),
        Category::Eof => "it ends early".to_string(),
        // A missing field names a field of fleetsim's own schema, not the file's text.
        Category::Data => match e.to_string().split(" at line ").next() {
            Some(m) if m.starts_with("missing field `") => m.to_string(),
            _ => "a value of the wrong type or an unknown name".to_string(),
        },
    };
    format!("line {} column {}: {what}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_shown_in_binary_units() {
        assert_eq!(bytes_text(64 << 20), "64 MiB");
        assert_eq!(bytes_text(1 << 30), "1 GiB");
        assert_eq!(bytes_text(1536), "1.5 KiB");
        assert_eq!(bytes_text(12), "12 bytes");
    }

    #[test]
    fn a_capped_reader_stops_at_the_cap() {
        let kind = FileKind {
            what: "a test file",
            max_bytes: 10,
        };
        let dir = tempfile::tempdir().unwrap();
        let exact = dir.path().join("exact");
        std::fs::write(&exact, [b'x'; 10]).unwrap();
        assert_eq!(read(&exact, kind).unwrap().len(), 10);
        let big = dir.path().join("big");
        std::fs::write(&big, [b'x'; 11]).unwrap();
        let e = read(&big, kind).unwrap_err();
        assert!(
            e.contains("more than the 10 bytes limit for a test file"),
            "{e}"
        );
        let mut capped = Capped {
            inner: io::repeat(b'x'),
            left: 10,
            message: "over".into(),
        };
        let e = capped.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.to_string(), "over");
    }

    #[test]
    fn devices_and_directories_are_refused_before_reading() {
        let e = read(Path::new("/dev/zero"), EMPIRICAL).unwrap_err();
        assert!(e.contains("is a device"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let e = read(dir.path(), INVENTORY).unwrap_err();
        assert!(
            e.contains("is a directory; an inventory must be a regular file"),
            "{e}"
        );
    }

    #[test]
    fn json_errors_do_not_quote_the_file() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct S {
            n: u64,
        }
        let e = serde_json::from_str::<S>(r#"{"n": "root:x:0:0:SECRET"}"#).unwrap_err();
        let text = json_error_text(&e);
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.starts_with("line 1 column"), "{text}");
        let e = serde_json::from_str::<S>("{}").unwrap_err();
        assert!(json_error_text(&e).contains("missing field `n`"));
    }
}
