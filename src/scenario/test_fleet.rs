//! A ten-device world for the unit tests of the parts of a replication (gates, the fault
//! plan): always online, checking in every 15 minutes, one release `1.0.0` → `1.1.0`. Each test
//! brings its populations and its stages (and faults).

use super::Scenario;

/// One population of ten devices (`plc`, model `plc-1`, region `north`, on `1.0.0`, `lan`): the
/// fleet most unit tests need.
pub(crate) const TEN_PLC: &str = r#"[[population]]
name = "plc"
count = 10
model = "plc-1"
region = "north"
firmware = "1.0.0"
connectivity = "lan""#;

/// The scenario of `populations` (TOML `[[population]]` tables on the `lan` profile) under a
/// policy to `1.1.0` whose stages, gates and any `[[fault]]` tables are `plan`.
pub(crate) fn ten_devices(populations: &str, plan: &str) -> Scenario {
    let text = format!(
        r#"
[simulation]
name = "unit"
seed = 1
horizon = "2d"

[connectivity.lan]
online = {{ dist = "constant", value = "100d" }}
offline = {{ dist = "constant", value = "1m" }}
check_in = "15m"
bandwidth_kbps = 2000

{populations}

[[release]]
version = "1.0.0"
size_mb = 1

[[release]]
version = "1.1.0"
size_mb = 1

[policy]
target = "1.1.0"
rate = {{ per_minute = 10 }}

{plan}
"#
    );
    super::load_str(&text, "unit", std::path::Path::new("."), &[]).unwrap()
}
