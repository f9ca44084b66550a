//! The replication's events: each domain's own event type, packed into one enum for the queue,
//! and the label of each kind for counting (`perf.json`) and tracing (`events.csv`).

use crate::lifecycle::event::DeviceEvent;
use crate::policy::event::{OperatorAct, PolicyEvent};

/// Everything the queue holds. A device event names its device; the others act on the whole
/// rollout. Packed to 16 bytes, so a queue entry stays at 32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Device {
        device: u32,
        event: DeviceEvent,
    },
    Policy(PolicyEvent),
    /// Fault `fault` of the scenario begins.
    FaultStart {
        fault: u32,
    },
    /// The hourly sample of the series (and the periodic invariant checks).
    Sample,
    /// Device `device` joins the fleet.
    Arrival {
        device: u32,
    },
    /// The backend's API version changes (`api_changes`, or a `backend-api` fault begins or
    /// ends): devices on firmware that needs a higher API lose the backend.
    ApiChange,
    /// The fleet-level process of background support tickets opens its next ticket.
    BackgroundTicket,
}

impl From<(u32, DeviceEvent)> for Event {
    #[inline]
    fn from((device, event): (u32, DeviceEvent)) -> Event {
        Event::Device { device, event }
    }
}

impl From<PolicyEvent> for Event {
    fn from(e: PolicyEvent) -> Event {
        Event::Policy(e)
    }
}

/// The kind of an event, for counts and the trace; names are the `event` column of
/// `events.csv` and the keys of `perf.json`'s `events_by_kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    CheckIn,
    DownloadDone,
    DownloadInterrupted,
    InstallStart,
    InstallDone,
    BootDone,
    Timeout,
    HarmOnset,
    Notify,
    StageJudge,
    StageMaxWait,
    OperatorAct,
    WindowClose,
    Sample,
    RolloutStart,
    ShadowJudge,
    ShadowMaxWait,
    FaultStart,
    ReportArrive,
    Arrival,
    ApiChange,
    StageOpen,
    SelfRevert,
    FieldVisit,
    BackgroundTicket,
    Consent,
}

/// How many event kinds there are (`Kind::Consent` is the last).
pub const KIND_COUNT: usize = Kind::Consent as usize + 1;

/// Every event kind, in `Kind as usize` order (for per-kind counts).
pub const KINDS: [Kind; KIND_COUNT] = [
    Kind::CheckIn,
    Kind::DownloadDone,
    Kind::DownloadInterrupted,
    Kind::InstallStart,
    Kind::InstallDone,
    Kind::BootDone,
    Kind::Timeout,
    Kind::HarmOnset,
    Kind::Notify,
    Kind::StageJudge,
    Kind::StageMaxWait,
    Kind::OperatorAct,
    Kind::WindowClose,
    Kind::Sample,
    Kind::RolloutStart,
    Kind::ShadowJudge,
    Kind::ShadowMaxWait,
    Kind::FaultStart,
    Kind::ReportArrive,
    Kind::Arrival,
    Kind::ApiChange,
    Kind::StageOpen,
    Kind::SelfRevert,
    Kind::FieldVisit,
    Kind::BackgroundTicket,
    Kind::Consent,
];

pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::CheckIn => "check_in",
        Kind::DownloadDone => "download_done",
        Kind::DownloadInterrupted => "download_interrupted",
        Kind::InstallStart => "install_start",
        Kind::InstallDone => "install_done",
        Kind::BootDone => "boot_done",
        Kind::Timeout => "timeout",
        Kind::HarmOnset => "harm_onset",
        Kind::Notify => "notify",
        Kind::StageJudge => "stage_judge",
        Kind::StageMaxWait => "stage_max_wait",
        Kind::OperatorAct => "operator",
        Kind::WindowClose => "window_close",
        Kind::Sample => "sample",
        Kind::RolloutStart => "rollout_start",
        Kind::ShadowJudge => "shadow_judge",
        Kind::ShadowMaxWait => "shadow_max_wait",
        Kind::FaultStart => "fault_start",
        Kind::ReportArrive => "report_arrive",
        Kind::Arrival => "arrival",
        Kind::ApiChange => "api_change",
        Kind::StageOpen => "stage_open",
        Kind::SelfRevert => "self_revert",
        Kind::FieldVisit => "field_visit",
        Kind::BackgroundTicket => "background_ticket",
        Kind::Consent => "consent",
    }
}

impl Event {
    pub fn kind(&self) -> Kind {
        match self {
            Event::Device { event, .. } => match event {
                DeviceEvent::CheckIn { .. } => Kind::CheckIn,
                DeviceEvent::DownloadDone { .. } => Kind::DownloadDone,
                DeviceEvent::DownloadInterrupted { .. } => Kind::DownloadInterrupted,
                DeviceEvent::InstallStart { .. } => Kind::InstallStart,
                DeviceEvent::InstallDone { .. } => Kind::InstallDone,
                DeviceEvent::BootDone { .. } => Kind::BootDone,
                DeviceEvent::Timeout { .. } => Kind::Timeout,
                DeviceEvent::HarmOnset { .. } => Kind::HarmOnset,
                DeviceEvent::ReportArrive { .. } => Kind::ReportArrive,
                DeviceEvent::SelfRevert { .. } => Kind::SelfRevert,
                DeviceEvent::FieldVisit => Kind::FieldVisit,
                DeviceEvent::Consent { .. } => Kind::Consent,
            },
            Event::Policy(p) => match p {
                PolicyEvent::RolloutStart => Kind::RolloutStart,
                PolicyEvent::Notify => Kind::Notify,
                PolicyEvent::StageJudge { .. } => Kind::StageJudge,
                PolicyEvent::StageMaxWait { .. } => Kind::StageMaxWait,
                PolicyEvent::StageOpen { .. } => Kind::StageOpen,
                PolicyEvent::ShadowJudge { .. } => Kind::ShadowJudge,
                PolicyEvent::ShadowMaxWait { .. } => Kind::ShadowMaxWait,
                PolicyEvent::Operator(_) => Kind::OperatorAct,
                PolicyEvent::WindowClose => Kind::WindowClose,
            },
            Event::FaultStart { .. } => Kind::FaultStart,
            Event::Sample => Kind::Sample,
            Event::Arrival { .. } => Kind::Arrival,
            Event::ApiChange => Kind::ApiChange,
            Event::BackgroundTicket => Kind::BackgroundTicket,
        }
    }

    /// The device a device event (or an arrival) is about.
    pub fn device(&self) -> Option<u32> {
        match self {
            Event::Device { device, .. } | Event::Arrival { device } => Some(*device),
            _ => None,
        }
    }

    /// The `detail` of a rollout-wide event in `events.csv`: the index it acts on (stage,
    /// shadow gate, fault), or the operator's act (approval `2^29 + stage`, a pause `2^30`,
    /// the numbers the trace has always shown), 0 for the rest.
    pub fn trace_detail(&self) -> u32 {
        match self {
            Event::Policy(p) => match p {
                PolicyEvent::StageJudge { stage }
                | PolicyEvent::StageMaxWait { stage }
                | PolicyEvent::StageOpen { stage } => *stage,
                PolicyEvent::ShadowJudge { shadow } | PolicyEvent::ShadowMaxWait { shadow } => {
                    *shadow
                }
                PolicyEvent::Operator(OperatorAct::Approve { stage }) => 1 << 29 | *stage,
                PolicyEvent::Operator(OperatorAct::OnPause) => 1 << 30,
                _ => 0,
            },
            Event::FaultStart { fault } => *fault,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_listed_in_their_index_order() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(*k as usize, i, "{}", kind_name(*k));
        }
    }

    /// The queue's entry is a 16-byte key and the event: 32 bytes as long as events pack into 16.
    #[test]
    fn an_event_packs_into_sixteen_bytes() {
        assert!(
            std::mem::size_of::<Event>() <= 16,
            "{}",
            std::mem::size_of::<Event>()
        );
    }
}
