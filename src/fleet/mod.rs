//! The fleet of one replication, and its owner [`Fleet`]: the compact per-device records
//! (`device`), the side table of defect effects (`effects`), each device's deterministic
//! connectivity timeline (`connectivity`), the devices that join later, and how many devices
//! run each version.
//!
//! The fleet is the ground truth of what devices *are doing*; what the backend has heard of
//! them lives in `crate::backend`. Its fields are private: the lifecycle changes a device's
//! record through [`Fleet::dev_mut`] and its version only through [`Fleet::set_version`], which
//! keeps the per-version counts and the effects' `left_at` in step.

pub mod background;
pub mod battery;
pub mod connectivity;
pub mod device;
pub mod download;
pub mod effects;

use crate::engine::pages::advise_huge;
use crate::engine::rng::{device_key, population_key, replication_key, Purpose, Stream};
use crate::engine::time::{SimTime, DAY_MS};
use crate::error::{Error, Result};
use crate::scenario::limits::{MAX_DEVICES, MAX_POPULATIONS};
use crate::scenario::model::{pick_cumulative, Mixes, Population};
use crate::scenario::Scenario;
use battery::Battery;
use connectivity::{Overlay, Timeline};
use device::{Device, NO_EFFECTS, NO_STAGE};
use download::{Download, Downloads};
pub use effects::Effects;
use std::cell::Cell;

/// The devices of one replication and what belongs to each.
pub struct Fleet<'s> {
    sc: &'s Scenario,
    /// `(seed, replication)`'s share of every device stream key, worked out once.
    rep_key: u64,
    devices: Vec<Device>,
    effects: Vec<Effects>,
    /// Per version: how many devices present in the fleet run it now.
    version_count: Vec<u64>,
    /// Devices `base..` join the fleet later (`arrivals_per_day`), at `arrivals[d - base]`.
    base: u32,
    arrivals: Vec<u64>,
    /// Whether arrival `k` has joined the fleet (its `Arrival` event has happened).
    arrived: Vec<bool>,
    /// Per device, its battery level at time zero, drawn from its own stream the first time
    /// anything asks (most devices of a halted rollout never are): `!bits` of the level, and 0
    /// (the complement of a NaN no clamped level can be) for "not drawn yet". Empty when no
    /// population runs on a battery.
    battery_initial: Vec<Cell<u64>>,
    /// The state of the downloads under way, in slots the device records name.
    downloads: Downloads,
}

/// Device `i` of population `pop` (a population's first variant) in its state at time zero:
/// its variant drawn from the population's mixes and its firmware from the firmware mix, each
/// with the device's own stream (`rep_key`: the replication's [`replication_key`]).
fn new_device(rep_key: u64, population: u16, pop: &Population, i: u64) -> Device {
    let population = match &pop.mixes {
        None => population,
        Some(m) => population + variant_offset(rep_key, i, m),
    };
    let u = Stream::new(device_key(rep_key, i, Purpose::Firmware)).uniform();
    let version = pop
        .firmware_mix
        .iter()
        .find(|(_, c)| u <= *c)
        .map_or(pop.firmware_mix.last().map_or(0, |x| x.0), |x| x.0);
    Device {
        population,
        effects: NO_EFFECTS,
        stage: NO_STAGE,
        version,
        initial_version: version,
        previous_version: version,
        ..Device::default()
    }
}

/// The variant device `i` draws from mixes `m`: one draw per mixed attribute, each from a
/// stream of its own purpose, so that a mix moves no other draw and no policy moves a mix.
/// Validation keeps every variant index within the `u16` population index.
fn variant_offset(rep_key: u64, i: u64, m: &Mixes) -> u16 {
    let pick = |purpose, cum: &mut dyn ExactSizeIterator<Item = f64>| {
        if cum.len() <= 1 {
            return 0;
        }
        pick_cumulative(cum, Stream::new(device_key(rep_key, i, purpose)).uniform())
    };
    let idx = [
        pick(Purpose::MixModel, &mut m.model.iter().map(|x| x.1)),
        pick(Purpose::MixRegion, &mut m.region.iter().map(|x| x.1)),
        pick(
            Purpose::MixConnectivity,
            &mut m.connectivity.iter().map(|x| x.1),
        ),
        pick(Purpose::MixPower, &mut m.power.iter().map(|x| x.1)),
    ];
    m.offset(idx) as u16
}

/// Population `p`'s index in a device record. Validation caps populations at
/// `MAX_POPULATIONS`; the checked conversion keeps a scenario built some other way from
/// wrapping the index (devices would take another population's settings).
fn population_index(p: usize) -> Result<u16> {
    u16::try_from(p).map_err(|_| {
        Error::Limit(format!(
            "population {p} does not fit the u16 population index (at most {MAX_POPULATIONS} populations)"
        ))
    })
}

impl<'s> Fleet<'s> {
    /// Builds the fleet of replication `rep` in its state at time zero: the base devices, then
    /// every device that joins before the horizon.
    pub fn new(sc: &'s Scenario, rep: u64) -> Result<Fleet<'s>> {
        let n = sc.device_count();
        if n > u32::MAX as u64 - 1 {
            return Err(Error::Limit(format!(
                "{n} devices do not fit the device index"
            )));
        }
        let mut devices = Vec::new();
        devices
            .try_reserve_exact(n as usize)
            .map_err(|_| Error::Limit(format!("cannot allocate {n} device records")))?;
        advise_huge(&devices);
        let mut version_count = vec![0u64; sc.versions.len()];
        let rep_key = replication_key(sc.seed, rep);
        for (p, pop) in sc.populations.iter().enumerate() {
            let population = population_index(p)?;
            for _ in 0..pop.count {
                let d = new_device(rep_key, population, pop, devices.len() as u64);
                version_count[d.version as usize] += 1;
                devices.push(d);
            }
        }
        let base = devices.len() as u32;
        let arrivals = Self::add_arrivals(sc, rep, &mut devices)?;
        let mut fleet = Fleet {
            sc,
            rep_key,
            devices,
            effects: Vec::new(),
            version_count,
            base,
            arrived: vec![false; arrivals.len()],
            arrivals,
            battery_initial: Vec::new(),
            downloads: Downloads::default(),
        };
        fleet.draw_batteries();
        for d in 0..fleet.devices.len() as u32 {
            let tl = fleet.timeline(d);
            tl.init(&mut fleet.devices[d as usize]);
        }
        // A device that has not joined yet is unreachable, and counted from its arrival on.
        for k in 0..fleet.arrivals.len() {
            let d = fleet.base + k as u32;
            let (v, at) = (fleet.devices[d as usize].version, fleet.arrivals[k]);
            let fx = fleet.effects_mut(d, v);
            fx.down_from = 0;
            fx.down_until = at;
        }
        Ok(fleet)
    }

    /// Makes room for every device's battery level at time zero, none drawn yet (see
    /// `battery_initial`).
    fn draw_batteries(&mut self) {
        let sc = self.sc;
        if !sc.populations.iter().any(|p| sc.power[p.power].battery) {
            return;
        }
        let mut initial = Vec::with_capacity(self.devices.len());
        advise_huge(&initial);
        initial.resize_with(self.devices.len(), || Cell::new(0));
        self.battery_initial = initial;
    }

    /// Device `d`'s battery level at time zero: from its own stream, whenever it is drawn, so
    /// drawing it late or never changes no other draw.
    fn battery_level_at_zero(&self, d: u32, level: &crate::scenario::dist::Dist) -> Option<f64> {
        let cell = self.battery_initial.get(d as usize)?;
        match cell.get() {
            0 => {
                let x = level
                    .sample(&mut Stream::new(self.key(d, Purpose::Battery)))
                    .clamp(0.0, 1.0);
                cell.set(!x.to_bits());
                Some(x)
            }
            bits => Some(f64::from_bits(!bits)),
        }
    }

    /// Device `d`'s battery (`None` on mains).
    pub fn battery(&self, d: u32) -> Option<Battery> {
        let dv = &self.devices[d as usize];
        let pw = &self.sc.power[self.sc.populations[dv.population as usize].power];
        if !pw.battery {
            return None;
        }
        let initial = self.battery_level_at_zero(d, &pw.level)?;
        let (factor, onset, left_at) = self.effects_of(d).map_or((1.0, u64::MAX, u64::MAX), |fx| {
            (fx.drain_factor, fx.drain_onset, fx.left_at)
        });
        Some(Battery {
            initial,
            every: pw.recharge_every_ms,
            recharge_to: pw.recharge_to,
            drain_per_day: pw.drain_per_day,
            factor,
            onset,
            left_at,
            spent: dv.battery_spent as f64,
            spent_epoch: dv.battery_epoch as u64,
        })
    }

    /// Appends the devices that join before the horizon (a Poisson process per population,
    /// from the population's own stream) and returns their arrival times.
    fn add_arrivals(sc: &Scenario, rep: u64, devices: &mut Vec<Device>) -> Result<Vec<u64>> {
        let mut arrivals = Vec::new();
        for (p, pop) in sc
            .populations
            .iter()
            .enumerate()
            .filter(|(_, p)| p.arrivals_per_day > 0.0)
        {
            let mut s = Stream::new(population_key(sc.seed, rep, p, Purpose::Arrival));
            let mean_gap_ms = DAY_MS as f64 / pop.arrivals_per_day;
            let mut t = 0.0;
            loop {
                t += mean_gap_ms * s.exp1();
                if t >= sc.horizon.0 as f64 {
                    break;
                }
                // Validation bounds the expected arrivals by the device limit; a draw far in
                // the Poisson tail still stops here rather than exhausting memory.
                if devices.len() as u64 >= MAX_DEVICES {
                    return Err(Error::Limit(format!(
                        "arrivals of population `{}` take the fleet past {MAX_DEVICES} devices",
                        pop.name
                    )));
                }
                let population = population_index(p)?;
                devices.push(new_device(
                    replication_key(sc.seed, rep),
                    population,
                    pop,
                    devices.len() as u64,
                ));
                arrivals.push(t as u64);
            }
        }
        Ok(arrivals)
    }

    /// The record of device `d`.
    #[inline]
    pub fn dev(&self, d: u32) -> &Device {
        &self.devices[d as usize]
    }

    /// The record of device `d`, to change. Its version changes only through
    /// [`Fleet::set_version`].
    #[inline]
    pub fn dev_mut(&mut self, d: u32) -> &mut Device {
        &mut self.devices[d as usize]
    }

    /// Device `d`'s download under way, if it has one (see `download`).
    #[inline]
    pub fn download(&self, d: u32) -> Option<&Download> {
        self.downloads.get(self.devices[d as usize].download)
    }

    /// Device `d`'s download under way, opened (nothing downloaded yet) if it has none.
    #[inline]
    pub fn download_mut(&mut self, d: u32) -> &mut Download {
        let dv = &mut self.devices[d as usize];
        if dv.download == 0 {
            dv.download = self.downloads.open();
        }
        self.downloads.get_mut(dv.download)
    }

    /// Device `d` is done with its download's state: its install started, or the download
    /// was given up (nothing of it is kept).
    #[inline]
    pub fn close_download(&mut self, d: u32) {
        let dv = &mut self.devices[d as usize];
        self.downloads.close(std::mem::take(&mut dv.download));
    }

    /// Download entries in use.
    pub fn downloads_open(&self) -> usize {
        self.downloads.open_count()
    }

    /// Every device record, base devices first, then arrivals in the order they join.
    #[inline]
    pub fn devices(&self) -> &[Device] {
        &self.devices
    }

    /// How many devices the replication has (including those not joined yet).
    #[inline]
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    /// Whether the fleet has no device at all.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// The key of device `d`'s stream for `purpose` in this replication.
    #[inline]
    pub fn key(&self, d: u32, purpose: Purpose) -> u64 {
        device_key(self.rep_key, d as u64, purpose)
    }

    /// Asks the processor to start loading what an event of device `d` reads first (its record
    /// and its battery level), so that the miss overlaps the event before it: with a million
    /// devices neither is in cache, and the load is most of a check-in's time. Only a hint:
    /// nothing it does is visible.
    #[inline]
    pub fn prefetch(&self, d: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            // SAFETY: SSE is part of the x86_64 baseline, and a prefetch reads nothing: it
            // neither faults nor changes memory, whatever the address.
            unsafe {
                if let Some(dv) = self.devices.get(d as usize) {
                    let p = (dv as *const Device).cast::<i8>();
                    // A record spans two cache lines at most.
                    _mm_prefetch::<_MM_HINT_T0>(p);
                    _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(std::mem::size_of::<Device>() - 1));
                }
                if let Some(b) = self.battery_initial.get(d as usize) {
                    _mm_prefetch::<_MM_HINT_T0>(b.as_ptr().cast::<i8>().cast_const());
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = d;
    }

    /// Device `d`'s connectivity timeline.
    #[inline]
    pub fn timeline(&self, d: u32) -> Timeline<'s> {
        let pop = &self.sc.populations[self.devices[d as usize].population as usize];
        Timeline {
            profile: &self.sc.connectivity[pop.connectivity],
            key: self.key(d, Purpose::Connectivity),
            telemetry_ms: pop.telemetry_interval_ms,
            horizon_ms: self.sc.horizon.0,
        }
    }

    /// What device `d`'s defect effects and battery do to its reachability (faults add their
    /// windows on top, in `crate::fault`).
    #[inline]
    pub fn effects_overlay(&self, d: u32) -> Overlay {
        let battery = self.battery(d);
        let Some(fx) = self.effects_of(d) else {
            return Overlay {
                battery,
                ..Overlay::NONE
            };
        };
        let loop_active = fx.loop_onset < fx.left_at;
        Overlay {
            down_from: fx.down_from,
            down_until: fx.down_until,
            loop_onset: if loop_active { fx.loop_onset } else { u64::MAX },
            loop_end: fx.left_at,
            availability: fx.availability,
            battery,
            ..Overlay::NONE
        }
    }

    /// Device `d`'s no-reconnect stretch `[from, until)` (its overlay's `down_from` and
    /// `down_until`, without building the rest of the overlay).
    #[inline]
    pub fn no_reconnect(&self, d: u32) -> (u64, u64) {
        self.effects_of(d)
            .map_or((Overlay::NONE.down_from, Overlay::NONE.down_until), |fx| {
                (fx.down_from, fx.down_until)
            })
    }

    /// Device `d`'s effects entry, if it has one.
    #[inline]
    pub fn effects_of(&self, d: u32) -> Option<&Effects> {
        match self.devices[d as usize].effects {
            NO_EFFECTS => None,
            i => Some(&self.effects[i as usize]),
        }
    }

    /// The effects entry of device `d` for `version`, created on first use.
    pub fn effects_mut(&mut self, d: u32, version: u8) -> &mut Effects {
        let idx = self.devices[d as usize].effects;
        if idx == NO_EFFECTS || self.effects[idx as usize].version != version {
            // A device that installs another defective release gets a fresh entry; the old
            // one's harm has been counted already, but an outage it suffers goes on.
            let mut fx = Effects::new(version);
            if idx != NO_EFFECTS {
                let old = &self.effects[idx as usize];
                (fx.down_from, fx.down_until) = (old.down_from, old.down_until);
            }
            self.effects.push(fx);
            self.devices[d as usize].effects = (self.effects.len() - 1) as u32;
        }
        let idx = self.devices[d as usize].effects as usize;
        &mut self.effects[idx]
    }

    /// Device `d` now runs version `v` (from `now`): the per-version counts follow, and the
    /// effects of the release it leaves stop acting. Returns the version it left.
    pub fn set_version(&mut self, d: u32, v: u8, now: SimTime) -> u8 {
        let dv = &mut self.devices[d as usize];
        let old = dv.version;
        dv.previous_version = old;
        dv.version = v;
        let fx_idx = dv.effects;
        self.version_count[old as usize] -= 1;
        self.version_count[v as usize] += 1;
        if fx_idx != NO_EFFECTS && self.effects[fx_idx as usize].version == old {
            let fx = &mut self.effects[fx_idx as usize];
            fx.left_at = now.0;
            if fx.down_until == u64::MAX && fx.down_from > now.0 {
                // A latent no-reconnect that had not struck yet never will.
                fx.down_from = u64::MAX;
                fx.down_until = 0;
            }
        }
        old
    }

    /// A field visit brought device `d` back at `now`: an outage that would have lasted for
    /// ever (its brick) ends.
    pub fn end_outage(&mut self, d: u32, now: u64) {
        let idx = self.devices[d as usize].effects;
        if idx != NO_EFFECTS {
            let fx = &mut self.effects[idx as usize];
            if fx.down_until == u64::MAX && fx.down_from <= now {
                fx.down_until = now;
            }
        }
    }

    /// How many present devices run each version.
    pub fn version_counts(&self) -> &[u64] {
        &self.version_count
    }

    /// Whether device `d` is part of the fleet at `t` (arrivals join later).
    #[inline]
    pub fn present(&self, d: u32, t: SimTime) -> bool {
        d < self.base || self.arrivals[(d - self.base) as usize] <= t.0
    }

    /// Whether device `d` has joined (its arrival has been processed; base devices always).
    pub fn joined(&self, d: u32) -> bool {
        d < self.base || self.arrived[(d - self.base) as usize]
    }

    /// The devices that join later, with the time each joins.
    pub fn arrivals(&self) -> impl Iterator<Item = (u32, SimTime)> + '_ {
        let base = self.base;
        (self.arrivals.iter().enumerate()).map(move |(k, &t)| (base + k as u32, SimTime(t)))
    }

    /// Device `d` joins the fleet now: it counts for its version from here on.
    pub fn arrive(&mut self, d: u32) {
        let v = self.devices[d as usize].version;
        self.version_count[v as usize] += 1;
        self.arrived[(d - self.base) as usize] = true;
    }

    /// Wall-clock milliseconds since 1970 of device `d`'s local clock at `t`, off by `skew_ms`.
    pub fn local_wall_ms(&self, d: u32, t: SimTime, skew_ms: i64) -> i64 {
        let pop = &self.sc.populations[self.devices[d as usize].population as usize];
        (self.sc.start_unix_s + pop.utc_offset_s) * 1000 + skew_ms + t.0 as i64
    }

    /// Test hook: the per-version counts, to corrupt them and see the invariants catch it.
    #[cfg(test)]
    pub(crate) fn version_counts_mut(&mut self) -> &mut [u64] {
        &mut self.version_count
    }
}
