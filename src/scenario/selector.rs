//! Selectors (`select`, `where`): which devices a stage, a defect or a fault applies to.
//!
//! A selector is a conjunction of clauses over `model`, `region`, `firmware`, `population`,
//! `from` (defects only: the version a device upgraded from) and tags; a clause's value may be a
//! list (any of). `not = { … }` excludes the devices its own selector matches. `{}` matches all.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    Model,
    Region,
    Firmware,
    Population,
    From,
    Tag(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    pub field: Field,
    pub values: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    pub clauses: Vec<Clause>,
    pub not: Option<Box<Selector>>,
}

/// What a selector can see of a device.
pub struct Attrs<'a> {
    pub population: &'a str,
    pub model: &'a str,
    pub region: &'a str,
    pub firmware: &'a str,
    pub from: Option<&'a str>,
    pub tags: &'a [(String, String)],
}

impl Selector {
    pub fn matches(&self, a: &Attrs) -> bool {
        let all = self.clauses.iter().all(|c| {
            let value = match &c.field {
                Field::Model => Some(a.model),
                Field::Region => Some(a.region),
                Field::Firmware => Some(a.firmware),
                Field::Population => Some(a.population),
                Field::From => a.from,
                Field::Tag(t) => a.tags.iter().find(|(k, _)| k == t).map(|(_, v)| v.as_str()),
            };
            value.is_some_and(|v| c.values.iter().any(|w| w == v))
        });
        all && !self.not.as_ref().is_some_and(|n| n.matches(a))
    }

    pub fn uses_from(&self) -> bool {
        self.clauses.iter().any(|c| c.field == Field::From)
            || self.not.as_ref().is_some_and(|n| n.uses_from())
    }

    /// Parses a selector table. `allow_from` is true for defect selectors.
    pub fn parse(table: &toml::Table, allow_from: bool) -> Result<Selector, String> {
        let mut sel = Selector::default();
        for (key, value) in table {
            if key == "not" {
                let inner = value
                    .as_table()
                    .ok_or("`not` must be a table of clauses, e.g. not = { region = \"us\" }")?;
                sel.not = Some(Box::new(
                    Selector::parse(inner, allow_from).map_err(|e| format!("not.{e}"))?,
                ));
                continue;
            }
            let field = match key.as_str() {
                "model" => Field::Model,
                "region" => Field::Region,
                "firmware" => Field::Firmware,
                "population" => Field::Population,
                "from" if allow_from => Field::From,
                "from" => return Err(
                    "`from` (the version a device came from) is only valid in a defect's `where`"
                        .into(),
                ),
                tag => Field::Tag(tag.to_string()),
            };
            let values = match value {
                toml::Value::Array(items) => {
                    items.iter().map(scalar_text).collect::<Result<Vec<_>, _>>()
                }
                other => scalar_text(other).map(|v| vec![v]),
            }
            .map_err(|e| format!("{key}: {e}"))?;
            if values.is_empty() {
                return Err(format!("{key}: an empty list matches nothing"));
            }
            sel.clauses.push(Clause { field, values });
        }
        Ok(sel)
    }
}

/// A tag or selector value as text: strings as they are, numbers and booleans as TOML writes them.
pub fn scalar_text(v: &toml::Value) -> Result<String, String> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        other => Err(format!(
            "expected a string, number or boolean, found {}",
            other.type_str()
        )),
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self
            .clauses
            .iter()
            .map(|c| {
                let name = match &c.field {
                    Field::Model => "model",
                    Field::Region => "region",
                    Field::Firmware => "firmware",
                    Field::Population => "population",
                    Field::From => "from",
                    Field::Tag(t) => t,
                };
                format!("{name}={}", c.values.join("|"))
            })
            .collect();
        if let Some(n) = &self.not {
            parts.push(format!("not({n})"));
        }
        if parts.is_empty() {
            write!(f, "all")
        } else {
            write!(f, "{}", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(src: &str) -> Selector {
        let t: toml::Table = toml::from_str(&format!("s = {src}")).unwrap();
        Selector::parse(t["s"].as_table().unwrap(), true).unwrap()
    }

    #[test]
    fn lists_tags_and_not() {
        let tags = vec![("channel".to_string(), "external".to_string())];
        let a = Attrs {
            population: "p",
            model: "sn-10",
            region: "eu",
            firmware: "2.3.0",
            from: None,
            tags: &tags,
        };
        assert!(sel("{}").matches(&a));
        assert!(sel(r#"{ model = ["gw-200", "sn-10"] }"#).matches(&a));
        assert!(sel(r#"{ channel = "external" }"#).matches(&a));
        assert!(!sel(r#"{ channel = "internal" }"#).matches(&a));
        assert!(!sel(r#"{ model = "sn-10", not = { region = "eu" } }"#).matches(&a));
        assert!(!sel(r#"{ from = "2.3.0" }"#).matches(&a));
    }
}
