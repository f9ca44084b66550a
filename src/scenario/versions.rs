//! Version rules (SPEC §1.4): which releases a device must install, in which order, to reach a
//! target, given `min_from` and critical `migration` releases; and whether a downgrade is safe.

use crate::scenario::model::Release;

/// The hops from version `from` to `target` (indexes into the sorted version table), or `None`
/// when no chain of defined releases satisfies every `min_from` and migration rule.
///
/// Each hop goes to the highest defined release above the current version that (a) is at most
/// the target, (b) accepts the current version (`min_from`), and (c) does not jump over a
/// critical migration. Taking the highest such release gives the shortest chain.
pub fn upgrade_path(versions: &[Release], from: u8, target: u8) -> Option<Vec<u8>> {
    let mut path = Vec::new();
    let mut cur = from as usize;
    while cur < target as usize {
        let next = (cur + 1..=target as usize).rev().find(|&r| {
            let rel = &versions[r];
            let accepts = rel
                .min_from
                .as_ref()
                .is_none_or(|m| versions[cur].version >= *m);
            let skips_migration =
                (cur + 1..r).any(|m| versions[m].migration && versions[m].defined);
            rel.defined && accepts && !skips_migration
        })?;
        path.push(next as u8);
        cur = next;
    }
    Some(path)
}

/// Whether going from `from` back down to `to` would cross a release whose data migration
/// forbids downgrades (`downgrade = "unsafe"` on any release in `(to, from]`).
pub fn downgrade_refused(versions: &[Release], from: u8, to: u8) -> bool {
    to < from && (to as usize + 1..=from as usize).any(|v| versions[v].downgrade_unsafe)
}

/// The index of the release labelled `label` (a semver version), if the scenario has it.
pub fn version_index(versions: &[Release], label: &str) -> Option<u8> {
    let v = semver::Version::parse(label.trim()).ok()?;
    versions
        .iter()
        .position(|r| r.version == v)
        .map(|i| i as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::dist::Dist;

    fn rel(v: &str, min_from: Option<&str>, migration: bool) -> Release {
        Release {
            version: semver::Version::parse(v).unwrap(),
            label: v.into(),
            defined: true,
            size_mb: 1.0,
            delta_mb: vec![],
            install_time: Dist::Constant(1.0),
            reboot_time: Dist::Constant(1.0),
            resumable: false,
            min_from: min_from.map(|m| semver::Version::parse(m).unwrap()),
            migration,
            requires_api: None,
            downgrade_unsafe: migration,
            defects: vec![],
            config: false,
            fail_safe_ms: None,
            delta_failure: 0.0,
        }
    }

    /// The migration-chain fixture: 2.2.0 must pass 2.9.1 (min_from of 3.0.0) and the 3.0.0
    /// migration (min_from of 3.1.0) before 3.1.0.
    #[test]
    fn migration_chain_fixture_paths() {
        let v = vec![
            rel("2.2.0", None, false),
            rel("2.7.0", None, false),
            rel("2.9.1", None, false),
            rel("3.0.0", Some("2.5.0"), true),
            rel("3.1.0", Some("3.0.0"), false),
        ];
        assert_eq!(upgrade_path(&v, 2, 4), Some(vec![3, 4]));
        assert_eq!(upgrade_path(&v, 1, 4), Some(vec![3, 4]));
        assert_eq!(upgrade_path(&v, 0, 4), Some(vec![2, 3, 4]));
        assert_eq!(upgrade_path(&v, 4, 4), Some(vec![]));
        assert!(downgrade_refused(&v, 4, 2));
        assert!(!downgrade_refused(&v, 4, 3));
    }

    #[test]
    fn a_migration_cannot_be_skipped_even_without_min_from() {
        let v = vec![
            rel("1.0.0", None, false),
            rel("2.0.0", None, true),
            rel("3.0.0", None, false),
        ];
        assert_eq!(upgrade_path(&v, 0, 2), Some(vec![1, 2]));
    }

    #[test]
    fn unreachable_target() {
        let v = vec![
            rel("1.0.0", None, false),
            rel("2.0.0", Some("1.5.0"), false),
        ];
        assert_eq!(upgrade_path(&v, 0, 1), None);
    }
}
