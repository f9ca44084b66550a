//! Harm and failures by model, region and stage: `breakdown.csv` (per population and stage,
//! the mean device counts at the end of a run) rolled up along one dimension at a time, for the
//! report's tables and for "what to do next".

use super::folder::Table;

/// One row of a roll-up: the group's name and its mean device counts per run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    pub name: String,
    pub devices: f64,
    pub targeted: f64,
    pub updated: f64,
    pub exposed: f64,
    pub harmed: f64,
    pub bricked: f64,
    pub rolled_back: f64,
    pub failed: f64,
}

/// Sums the rows of `breakdown.csv` by the values of `column` (`model`, `region`, `stage`),
/// in the order each value first appears.
pub fn roll_up(t: &Table, column: &str) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    let x = |i: usize, c: &str| super::folder::finite(t.cell(i, c)).unwrap_or(0.0);
    for i in 0..t.rows.len() {
        let key = t.cell(i, column);
        let at = match out.iter().position(|g| g.name == key) {
            Some(at) => at,
            None => {
                out.push(Group {
                    name: key.to_string(),
                    ..Group::default()
                });
                out.len() - 1
            }
        };
        let g = &mut out[at];
        g.devices += x(i, "devices");
        g.targeted += x(i, "targeted");
        g.updated += x(i, "updated");
        g.exposed += x(i, "exposed");
        g.harmed += x(i, "harmed");
        g.bricked += x(i, "bricked");
        g.rolled_back += x(i, "rolled_back");
        g.failed += x(i, "failed");
    }
    out
}

/// The group with the most harm and its share of all harm (`None` when nothing was harmed).
pub fn most_harmed(groups: &[Group]) -> Option<(&Group, f64)> {
    let total: f64 = groups.iter().map(|g| g.harmed).sum();
    let top = groups.iter().max_by(|a, b| a.harmed.total_cmp(&b.harmed))?;
    (total > 0.0).then_some((top, top.harmed / total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let row = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Table {
            header: row(&[
                "population",
                "model",
                "region",
                "stage",
                "devices",
                "targeted",
                "updated",
                "exposed",
                "harmed",
                "bricked",
                "rolled_back",
                "failed",
            ]),
            rows: vec![
                row(&[
                    "a", "m1", "eu", "canary", "10", "10", "2", "8", "3", "1", "5", "0",
                ]),
                row(&[
                    "a", "m1", "eu", "wave", "90", "90", "0", "0", "0", "0", "0", "0",
                ]),
                row(&[
                    "b", "m2", "eu", "canary", "5", "5", "5", "5", "1", "0", "0", "0.5",
                ]),
            ],
        }
    }

    #[test]
    fn rolls_up_by_each_dimension_in_first_seen_order() {
        let t = table();
        let by_stage = roll_up(&t, "stage");
        assert_eq!(by_stage.len(), 2);
        assert_eq!(
            (by_stage[0].name.as_str(), by_stage[0].harmed),
            ("canary", 4.0)
        );
        assert_eq!(by_stage[0].failed, 0.5);
        let by_region = roll_up(&t, "region");
        assert_eq!((by_region.len(), by_region[0].devices), (1, 105.0));
        let (top, share) = most_harmed(&by_stage).unwrap();
        assert_eq!((top.name.as_str(), share), ("canary", 1.0));
        let by_model = roll_up(&t, "model");
        assert_eq!(most_harmed(&by_model).unwrap().1, 0.75);
    }

    #[test]
    fn nothing_harmed_has_no_most_harmed_group() {
        let mut t = table();
        for r in &mut t.rows {
            r[8] = "0".into();
        }
        assert!(most_harmed(&roll_up(&t, "stage")).is_none());
    }
}
