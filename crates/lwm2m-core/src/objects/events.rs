//! Events raised inside transactions and released only when the outermost
//! transaction commits, so a request that fails (or a bootstrap session
//! that is abandoned) never reaches the application as an event.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::dm::object::ObjectEvent;
use crate::error::DmError;

/// A bounded queue of [`ObjectEvent`]s that follows an object's
/// transactions: delegate [`crate::dm::Object::begin`], `commit` and
/// `rollback` to it beside the object's [`crate::dm::Txn`], push from the
/// handlers, and pop from [`crate::dm::Object::poll_event`].
#[derive(Clone, Debug)]
pub struct EventQueue {
    ready: VecDeque<ObjectEvent>,
    /// Events raised inside a transaction, with the nesting depth that
    /// raised them.
    pending: Vec<(usize, ObjectEvent)>,
    depth: usize,
    capacity: usize,
}

impl Default for EventQueue {
    fn default() -> Self {
        EventQueue::new(16)
    }
}

impl EventQueue {
    /// An empty queue holding at most `capacity` events (ready and
    /// pending together).
    pub fn new(capacity: usize) -> EventQueue {
        EventQueue {
            ready: VecDeque::new(),
            pending: Vec::new(),
            depth: 0,
            capacity,
        }
    }

    /// A transaction begins.
    pub fn begin(&mut self) {
        self.depth = self.depth.saturating_add(1);
    }

    /// The innermost transaction commits: its events join the enclosing
    /// one, or become ready when none is left.
    pub fn commit(&mut self) {
        if self.depth == 0 {
            return;
        }
        self.depth -= 1;
        let d = self.depth;
        if d == 0 {
            self.ready.extend(self.pending.drain(..).map(|(_, e)| e));
        } else {
            for e in &mut self.pending {
                e.0 = e.0.min(d);
            }
        }
    }

    /// The innermost transaction rolls back: its events are dropped.
    pub fn rollback(&mut self) {
        if self.depth == 0 {
            return;
        }
        let d = self.depth;
        self.pending.retain(|e| e.0 < d);
        self.depth -= 1;
    }

    /// Records an event; 5.03 when the application has left `capacity`
    /// events undrained (the request is refused rather than the event
    /// lost).
    pub fn push(&mut self, event: ObjectEvent) -> Result<(), DmError> {
        if self.ready.len().saturating_add(self.pending.len()) >= self.capacity {
            return Err(DmError::ServiceUnavailable);
        }
        if self.depth == 0 {
            self.ready.push_back(event);
        } else {
            self.pending.push((self.depth, event));
        }
        Ok(())
    }

    /// The oldest committed event.
    pub fn pop(&mut self) -> Option<ObjectEvent> {
        self.ready.pop_front()
    }

    /// Number of committed events not yet popped.
    pub fn len(&self) -> usize {
        self.ready.len()
    }

    /// Whether no committed event waits.
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_follow_nested_transactions() {
        let mut q = EventQueue::new(3);
        q.push(ObjectEvent::Reboot).unwrap(); // outside any transaction
        q.begin(); // session
        q.begin(); // request
        q.push(ObjectEvent::FactoryReset).unwrap();
        q.rollback(); // request failed
        q.begin();
        q.push(ObjectEvent::ErrorCodesReset).unwrap();
        q.commit(); // request ok, session still open
        assert_eq!(q.pop(), Some(ObjectEvent::Reboot));
        assert_eq!(q.pop(), None);
        q.commit(); // session committed
        assert_eq!(q.pop(), Some(ObjectEvent::ErrorCodesReset));
        assert!(q.is_empty());
        // an abandoned session drops what its requests raised
        q.begin();
        q.begin();
        q.push(ObjectEvent::Reboot).unwrap();
        q.commit();
        q.rollback();
        assert_eq!(q.pop(), None);
        q.rollback(); // unbalanced: no-op
        q.commit();
        // bounded
        for _ in 0..3 {
            q.push(ObjectEvent::Reboot).unwrap();
        }
        assert_eq!(
            q.push(ObjectEvent::Reboot),
            Err(DmError::ServiceUnavailable)
        );
        assert_eq!(q.len(), 3);
    }
}
