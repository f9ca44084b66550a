//! A min-heap with four children per node, for large heaps of small keys.
//!
//! `std`'s binary heap walks ~20 levels for a million entries, and past the cache each level is
//! a miss. Four children per node halve the levels, and a node's children lie next to each
//! other (one or two cache lines for keys of up to 16 bytes), so a pop costs about half the
//! misses; the comparisons it adds are cheap next to them. Pops come out in key order; equal
//! keys are indistinguishable, so the order among them cannot matter.

/// A min-heap of `T`.
#[derive(Clone, Debug)]
pub struct QuadHeap<T> {
    v: Vec<T>,
}

impl<T> Default for QuadHeap<T> {
    fn default() -> Self {
        QuadHeap { v: Vec::new() }
    }
}

impl<T: Ord + Copy> QuadHeap<T> {
    pub fn new() -> QuadHeap<T> {
        QuadHeap::default()
    }

    /// The least key.
    #[inline]
    pub fn peek(&self) -> Option<&T> {
        self.v.first()
    }

    pub fn push(&mut self, x: T) {
        let mut i = self.v.len();
        self.v.push(x);
        while i > 0 {
            let parent = (i - 1) / 4;
            if x < self.v[parent] {
                self.v[i] = self.v[parent];
                i = parent;
            } else {
                break;
            }
        }
        self.v[i] = x;
    }

    /// Takes the least key off.
    pub fn pop(&mut self) -> Option<T> {
        let last = self.v.pop()?;
        let Some(&top) = self.v.first() else {
            return Some(last);
        };
        // Sift `last` down from the root: each step moves the least child up.
        let n = self.v.len();
        let mut i = 0;
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let mut m = first;
            for c in first + 1..(first + 4).min(n) {
                if self.v[c] < self.v[m] {
                    m = c;
                }
            }
            if self.v[m] < last {
                self.v[i] = self.v[m];
                i = m;
            } else {
                break;
            }
        }
        self.v[i] = last;
        Some(top)
    }

    pub fn len(&self) -> usize {
        self.v.len()
    }

    pub fn is_empty(&self) -> bool {
        self.v.is_empty()
    }

    /// Every key, in no particular order, emptying the heap.
    pub fn into_vec(self) -> Vec<T> {
        self.v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// Random pushes and pops with many equal keys, against `std`'s heap: the same keys leave
    /// in the same order.
    #[test]
    fn pops_as_a_binary_heap_does() {
        let mut s = crate::engine::rng::Stream::new(11);
        let (mut q, mut b) = (QuadHeap::new(), BinaryHeap::new());
        for round in 0..50_000u32 {
            if s.uniform() < 0.55 {
                let k = ((s.uniform() * 500.0) as u64, round % 3);
                q.push(k);
                b.push(Reverse(k));
            } else {
                assert_eq!(q.pop(), b.pop().map(|Reverse(k)| k), "round {round}");
            }
            assert_eq!(q.peek(), b.peek().map(|Reverse(k)| k));
            assert_eq!(q.len(), b.len());
        }
        while let Some(Reverse(k)) = b.pop() {
            assert_eq!(q.pop(), Some(k));
        }
        assert!(q.is_empty() && q.pop().is_none());
    }
}
