//! Large per-replication arrays on huge pages, where the system allows it.
//!
//! A million-device fleet's records span ~100 MB that events touch in no particular order:
//! with 4 KiB pages nearly every event also misses the TLB, and the page walk stalls even a
//! prefetch. Linux backs an anonymous mapping with 2 MiB pages when asked (`MADV_HUGEPAGE`,
//! honoured when transparent huge pages are `madvise` or `always`); the request must come
//! before the memory is first touched, so callers make it right after reserving. It changes
//! nothing but speed, and where it is refused or unknown (other systems) nothing at all.

/// 2 MiB: the huge page size on x86_64 and the usual one on aarch64.
#[cfg(target_os = "linux")]
const HUGE: usize = 2 << 20;

/// Asks for the whole 2 MiB pages inside `v`'s spare and used capacity to be huge pages.
/// Vectors under 4 MiB are left alone (they hold at most one whole huge page).
pub fn advise_huge<T>(v: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        let bytes = v.capacity() * std::mem::size_of::<T>();
        if bytes < 2 * HUGE {
            return;
        }
        let start = v.as_ptr() as usize;
        let from = start.next_multiple_of(HUGE);
        let to = (start + bytes) / HUGE * HUGE;
        if to > from {
            // SAFETY: `[from, to)` lies inside the vector's allocation, which stays mapped
            // while `v` is borrowed; MADV_HUGEPAGE changes neither contents nor permissions.
            // An error (THP off, an old kernel) only means the request is not honoured.
            unsafe {
                libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request leaves contents as they are, for small and large vectors alike.
    #[test]
    fn advising_changes_no_contents() {
        for n in [10usize, 3 << 20] {
            let mut v: Vec<u64> = Vec::with_capacity(n);
            advise_huge(&v);
            v.extend(0..n as u64);
            advise_huge(&v);
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
        }
    }
}
