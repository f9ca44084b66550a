//! Scenario text made portable: the relative file paths it names (`fleet.inventory`, an
//! empirical distribution's `file`) resolved against the scenario's folder, so that the text
//! still loads when written elsewhere — a chaos reproducer in `<out>/violations/`.

use crate::error::{Error, InputError, Result};
use std::path::Path;
use toml_edit::{DocumentMut, Item, TableLike, Value};

/// `text` with every relative `fleet.inventory` and empirical `file` path made absolute against
/// `base_dir`; comments and layout are kept. Text without such paths comes back byte for byte.
pub fn absolute_paths(text: &str, label: &str, base_dir: &Path) -> Result<String> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        Error::Input(vec![InputError {
            file: label.into(),
            key_path: String::new(),
            position: e.span().map(|s| super::line_col(text, s.start)),
            message: e.message().to_string(),
        }])
    })?;
    let mut changed = false;
    if let Some(fleet) = doc.get_mut("fleet").and_then(Item::as_table_like_mut) {
        if let Some(inventory) = fleet.get_mut("inventory") {
            absolutize(inventory, base_dir, &mut changed);
        }
    }
    rewrite_table(doc.as_table_mut(), base_dir, &mut changed);
    Ok(if changed {
        doc.to_string()
    } else {
        text.to_string()
    })
}

/// Walks a table: an empirical distribution's `file` is rewritten, everything else searched.
fn rewrite_table(t: &mut dyn TableLike, base_dir: &Path, changed: &mut bool) {
    let empirical = t.get("dist").and_then(Item::as_str) == Some("empirical");
    for (key, item) in t.iter_mut() {
        if empirical && key.get() == "file" {
            absolutize(item, base_dir, changed);
        } else {
            rewrite_item(item, base_dir, changed);
        }
    }
}

fn rewrite_item(item: &mut Item, base_dir: &Path, changed: &mut bool) {
    match item {
        Item::Table(t) => rewrite_table(t, base_dir, changed),
        Item::ArrayOfTables(a) => a
            .iter_mut()
            .for_each(|t| rewrite_table(t, base_dir, changed)),
        Item::Value(v) => rewrite_value(v, base_dir, changed),
        Item::None => {}
    }
}

fn rewrite_value(v: &mut Value, base_dir: &Path, changed: &mut bool) {
    match v {
        Value::InlineTable(t) => rewrite_table(t, base_dir, changed),
        Value::Array(a) => a
            .iter_mut()
            .for_each(|x| rewrite_value(x, base_dir, changed)),
        _ => {}
    }
}

/// Replaces a relative path string by its absolute form, keeping the value's decor.
fn absolutize(item: &mut Item, base_dir: &Path, changed: &mut bool) {
    let Some(Value::String(s)) = item.as_value() else {
        return;
    };
    let path = Path::new(s.value());
    if path.is_absolute() {
        return;
    }
    let joined = base_dir.join(path);
    let absolute = std::path::absolute(&joined).unwrap_or(joined);
    let decor = s.decor().clone();
    let mut new = Value::from(absolute.to_string_lossy().as_ref());
    *new.decor_mut() = decor;
    *item = Item::Value(new);
    *changed = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_inventory_and_empirical_files_become_absolute() {
        let text = r#"# a comment that stays
[fleet]
inventory = "devices.csv"   # the fleet

[[population]]
name = "p"
storage_free_mb = { dist = "empirical", file = "data/storage.csv" }
tags = { file = "not-a-path" }

[[release]]
version = "1.0.0"
install_time = { dist = "empirical", file = "/abs/install.csv" }
"#;
        let out = absolute_paths(text, "t.toml", Path::new("/base/dir")).unwrap();
        assert!(out.starts_with("# a comment that stays\n"), "{out}");
        assert!(
            out.contains("inventory = \"/base/dir/devices.csv\"   # the fleet"),
            "{out}"
        );
        assert!(
            out.contains("file = \"/base/dir/data/storage.csv\""),
            "{out}"
        );
        assert!(
            out.contains("tags = { file = \"not-a-path\" }"),
            "a tag is not a path: {out}"
        );
        assert!(out.contains("file = \"/abs/install.csv\""), "{out}");
    }

    #[test]
    fn a_relative_base_folder_is_made_absolute_too() {
        let out =
            absolute_paths("fleet = { inventory = \"d.csv\" }\n", "t", Path::new("x")).unwrap();
        let expected = std::env::current_dir().unwrap().join("x").join("d.csv");
        assert!(out.contains(&*expected.to_string_lossy()), "{out}");
    }

    #[test]
    fn text_without_relative_paths_is_unchanged() {
        let text = "[simulation]\nname   =  \"x\"  # odd spacing\n";
        assert_eq!(absolute_paths(text, "t", Path::new("/b")).unwrap(), text);
    }
}
