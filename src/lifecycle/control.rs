//! The one seam between the device lifecycle and the rollout controller, [`Control`]: the
//! lifecycle asks the controller for its [`Stance`] and tells it about results and freed
//! capacity. Everything else the two share is backend data (`crate::backend`). Controllers of
//! other systems plug in here; the lifecycle's unit tests use a scripted one.

use super::world::World;
use crate::engine::time::SimTime;

/// Where the rollout stands, as the devices see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Stance {
    /// The rollout runs (not halted, not rolling back).
    pub running: bool,
    /// Halted by a pause: devices that learn of the update now are held (parked).
    pub paused: bool,
    pub rolling_back: bool,
    /// The rollout window has closed: no device is notified any more.
    pub window_closed: bool,
    /// Devices already notified may still start the update after the window's close
    /// (`end_behavior = "stop"`, AWS `STOP_ROLLOUT`): their queued executions stay open.
    pub queued_go_on: bool,
    /// When the current halt began (`None` while running).
    pub halted_since: Option<SimTime>,
}

impl Stance {
    /// Whether a device that learns of the update may start it now.
    #[inline]
    pub fn accepting_updates(&self) -> bool {
        self.running && (!self.window_closed || self.queued_go_on)
    }
}

/// What the lifecycle needs of a rollout controller.
pub trait Control<E> {
    /// The controller's stance now.
    fn stance(&self) -> Stance;
    /// The backend has just recorded a result of device `d`'s update (a report or a
    /// time-out): abort rules and gates may act.
    fn on_result(&mut self, w: &mut World<'_, E>, d: u32);
    /// An execution left flight: the controller may notify more devices.
    fn on_capacity_freed(&mut self, w: &mut World<'_, E>);
}
