//! The state of the downloads under way, kept apart from the device records: a device needs it
//! only from the start of a download to the start of its install (or until the download is
//! given up), so a million-device fleet holds as many entries as it has downloads open, not
//! one per device, and every device record is 16 bytes smaller.
//!
//! An entry is a slot of a pool that reuses freed slots; the device record names its slot
//! ([`super::device::Device::download`], 0 for none; slot 0 is never handed out).

/// One download under way (or finished, its image not yet installed).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Download {
    /// When the download started (for download-time statistics).
    pub start: u64,
    /// When the current segment started (progress is throughput × elapsed).
    pub segment_start: u64,
    /// Kilobits of the image already downloaded (kept across interruptions when the release
    /// is resumable).
    pub kbit: f32,
    /// Throughput of the current segment, kbit/s.
    pub kbps: f32,
}

/// The pool of download entries.
#[derive(Debug)]
pub struct Downloads {
    slots: Vec<Download>,
    free: Vec<u32>,
}

impl Default for Downloads {
    fn default() -> Downloads {
        Downloads {
            slots: vec![Download::default()],
            free: Vec::new(),
        }
    }
}

impl Downloads {
    /// The entry in `slot` (0: none).
    #[inline]
    pub fn get(&self, slot: u32) -> Option<&Download> {
        (slot != 0).then(|| &self.slots[slot as usize])
    }

    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut Download {
        debug_assert!(slot != 0);
        &mut self.slots[slot as usize]
    }

    /// A fresh entry (a download with nothing downloaded yet): its slot.
    pub fn open(&mut self) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Download::default();
                slot
            }
            None => {
                self.slots.push(Download::default());
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Frees `slot` (0: nothing to free).
    pub fn close(&mut self, slot: u32) {
        if slot != 0 {
            self.free.push(slot);
        }
    }

    /// Entries in use.
    pub fn open_count(&self) -> usize {
        self.slots.len() - 1 - self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_and_start_empty() {
        let mut p = Downloads::default();
        assert!(p.get(0).is_none());
        let a = p.open();
        let b = p.open();
        assert!(a != 0 && b != 0 && a != b);
        p.get_mut(a).kbit = 5.0;
        p.close(a);
        p.close(0);
        assert_eq!(p.open_count(), 1);
        let c = p.open();
        assert_eq!(c, a);
        assert_eq!(p.get(c), Some(&Download::default()));
        assert_eq!(p.open_count(), 2);
    }
}
