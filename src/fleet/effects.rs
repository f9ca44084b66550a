//! Defect effects active on a device: a side table of the fleet, since few devices have any.
//! A device's record points into it (`Device::effects`); an entry belongs to one release and
//! acts only while the device runs it.

/// The effects of one release's defects on one device.
#[derive(Clone, Copy, Debug)]
pub struct Effects {
    /// The release these effects belong to: they act only while the device runs it.
    pub version: u8,
    pub down_from: u64,
    pub down_until: u64,
    pub crash_factor: f64,
    pub crash_onset: u64,
    pub loop_onset: u64,
    pub availability: f64,
    pub telemetry_onset: u64,
    pub command_rate: f64,
    pub command_onset: u64,
    pub drain_factor: f64,
    /// When a battery-drain defect starts to act (boot plus its `after` delay).
    pub drain_onset: u64,
    /// When the device left `version` (`u64::MAX` while it still runs it).
    pub left_at: u64,
}

impl Effects {
    pub fn new(version: u8) -> Effects {
        Effects {
            version,
            down_from: u64::MAX,
            down_until: 0,
            crash_factor: 1.0,
            crash_onset: u64::MAX,
            loop_onset: u64::MAX,
            availability: 1.0,
            telemetry_onset: u64::MAX,
            command_rate: 0.0,
            command_onset: u64::MAX,
            drain_factor: 1.0,
            drain_onset: u64::MAX,
            left_at: u64::MAX,
        }
    }
}
