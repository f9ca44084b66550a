//! Changes that hit every device at once: a power outage that starts while devices install or
//! reboot interrupts them (each finishes its install at once with a power loss: an A/B device
//! reverts, another is bricked; `on_install_done` decides), and a backend API that drops below
//! what a device's firmware needs cuts it off.

use super::event::DeviceEvent;
use super::world::{DeviceEvents, World};
use crate::fleet::device::{Failure, Phase};
use crate::scenario::model::FaultKind;

impl<E: DeviceEvents> World<'_, E> {
    /// Power outages interrupt installs and reboots in progress when they start.
    pub fn on_fault_start(&mut self, k: usize) {
        if !matches!(self.scenario.faults[k].kind, FaultKind::PowerOutage { .. }) {
            return;
        }
        for d in 0..self.fleet.len() as u32 {
            let phase = self.fleet.dev(d).phase;
            if matches!(phase, Phase::Installing | Phase::Rebooting)
                && self.faults.faults_of(&self.fleet, d).any(|j| j == k)
            {
                let dv = self.fleet.dev_mut(d);
                dv.pending_failure = Some(Failure::PowerLoss);
                dv.enter(Phase::Installing);
                let gen = dv.gen;
                self.schedule_device(self.now, d, DeviceEvent::InstallDone { gen });
            }
        }
    }

    /// The backend's API dropped: every device present on firmware that needs more loses the
    /// backend until it is back (its overlay says so) and is harmed (SPEC §1.4b).
    pub fn on_api_change(&mut self) {
        for d in 0..self.fleet.len() as u32 {
            let dv = self.fleet.dev(d);
            if self.fleet.present(d, self.now)
                && !dv.has(crate::fleet::device::flag::HARMED)
                && self.faults.api_incompatible(dv.version, self.now)
            {
                self.harm(d);
            }
        }
    }
}
