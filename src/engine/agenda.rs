//! What a model schedules on: the event queue bounded by the horizon, with the first event
//! scheduled in the past kept for the caller to report. Handlers see time and scheduling only
//! through it (as nexosim's models see them through their `Context`); the run loop pops it.

use super::queue::EventQueue;
use super::time::SimTime;

/// The future events of one replication, up to its horizon.
pub struct Agenda<E> {
    queue: EventQueue<E>,
    horizon: SimTime,
    /// The first event scheduled before the current time: an invariant breach (the queue
    /// still keeps order by scheduling it at the current instant).
    past: Option<(SimTime, E)>,
}

impl<E: Copy> Agenda<E> {
    pub fn new(horizon: SimTime) -> Agenda<E> {
        Agenda {
            queue: EventQueue::new(),
            horizon,
            past: None,
        }
    }

    /// Schedules `event` at `t`; an event past the horizon never happens and is dropped.
    #[inline]
    pub fn at(&mut self, t: SimTime, event: impl Into<E>) {
        let event = event.into();
        if t <= self.horizon && !self.queue.push(t, event) && self.past.is_none() {
            self.past = Some((t, event));
        }
    }

    /// The next event in `(time, sequence)` order.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.queue.pop()
    }

    /// A guess at the next event, for prefetching (see [`EventQueue::next_hint`]).
    #[inline]
    pub fn next_hint(&self) -> Option<&E> {
        self.queue.next_hint()
    }

    /// Events popped so far.
    #[inline]
    pub fn popped(&self) -> u64 {
        self.queue.popped()
    }

    /// Events still pending.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The first event scheduled in the past, once (the caller records the breach).
    #[inline]
    pub fn take_past(&mut self) -> Option<(SimTime, E)> {
        self.past.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_past_the_horizon_are_dropped_and_the_past_is_kept() {
        let mut a: Agenda<u8> = Agenda::new(SimTime(100));
        a.at(SimTime(100), 1);
        a.at(SimTime(101), 2);
        assert_eq!(a.len(), 1, "the horizon itself is inside, past it is not");
        assert_eq!(a.pop(), Some((SimTime(100), 1)));
        a.at(SimTime(5), 3);
        a.at(SimTime(6), 4);
        assert_eq!(
            a.take_past(),
            Some((SimTime(5), 3)),
            "the first one is kept"
        );
        assert_eq!(a.take_past(), None);
        assert_eq!(a.len(), 2, "both still happen, at the current instant");
    }
}
