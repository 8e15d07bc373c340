//! Transactions over the objects a request touches (SPEC §1 guarantee 1:
//! one request, one transaction) and over the whole data model for a
//! bootstrap session (guarantee 6).
//!
//! A request's [`Transaction`] calls [`Object::begin`] on each object the
//! first time the request touches it ([`Transaction::object_mut`]). At the
//! end, [`Transaction::commit`] asks every touched object to
//! [`Object::validate`] and then commits them all, or rolls them all back if
//! any validation fails. Dropping a transaction without committing rolls
//! back, so an early `?` return leaves no trace.
//!
//! A transaction can be suspended between datagrams (a streaming Block1
//! write: guarantee 3) and resumed later; while suspended it keeps its
//! objects, and any other request touching them gets 5.03 (guarantee 2).
//!
//! A bootstrap session ([`Registry::begin_session`]) begins on every object
//! at once and lasts until [`Registry::end_session`]. Requests inside it still
//! run their own (inner) transactions, so a failed request is undone, but
//! validation waits for the end of the session, where the configuration is
//! complete.

use core::fmt;

use super::object::Object;
use super::path::Oid;
use super::registry::Registry;
use crate::error::DmError;

/// Identifies an open transaction (wraps after 2^32 transactions; a
/// transaction suspended for that long is a bug of its owner).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TxnId(u32);

/// A request's transaction: see the module documentation.
pub struct Transaction<'r> {
    reg: &'r mut Registry,
    id: TxnId,
    done: bool,
}

/// A transaction parked between two datagrams; it keeps its objects until
/// [`Registry::resume`] or [`Registry::abandon`].
#[must_use = "a suspended transaction holds its objects until resumed or abandoned"]
#[derive(Debug, PartialEq, Eq)]
pub struct Suspended {
    id: TxnId,
}

impl Registry {
    /// Opens a transaction for one request.
    pub fn transaction(&mut self) -> Transaction<'_> {
        let id = TxnId(self.next_txn);
        self.next_txn = self.next_txn.wrapping_add(1);
        Transaction {
            reg: self,
            id,
            done: false,
        }
    }

    /// Takes a suspended transaction up again.
    pub fn resume(&mut self, s: Suspended) -> Transaction<'_> {
        Transaction {
            reg: self,
            id: s.id,
            done: false,
        }
    }

    /// Rolls back a suspended transaction (a block-wise transfer that timed
    /// out or was replaced).
    pub fn abandon(&mut self, s: Suspended) {
        self.resume(s).rollback();
    }

    /// Begins a transaction over every object (a bootstrap session). Fails
    /// with 5.03 while a suspended transaction holds an object, and with
    /// 4.09 if a session is already open.
    pub fn begin_session(&mut self) -> Result<(), DmError> {
        if self.session {
            return Err(DmError::Conflict);
        }
        if self.slots.iter().any(|s| s.owner.is_some()) {
            return Err(DmError::ServiceUnavailable);
        }
        for s in &mut self.slots {
            s.obj.begin();
        }
        self.session = true;
        Ok(())
    }

    /// Ends the bootstrap session: with `commit`, validates every object
    /// and commits them all, or rolls them all back and returns the first
    /// validation error; without, rolls everything back. No session open:
    /// nothing happens. Fails with 5.03 (and leaves the session open) while a
    /// suspended transaction holds an object.
    pub fn end_session(&mut self, commit: bool) -> Result<(), DmError> {
        if !self.session {
            return Ok(());
        }
        if self.slots.iter().any(|s| s.owner.is_some()) {
            return Err(DmError::ServiceUnavailable);
        }
        self.session = false;
        let verdict = if commit {
            self.slots.iter().try_for_each(|s| s.obj.validate())
        } else {
            Ok(())
        };
        let keep = commit && verdict.is_ok();
        for s in &mut self.slots {
            if keep {
                s.obj.commit();
            } else {
                s.obj.rollback();
            }
        }
        verdict
    }

    /// Whether a bootstrap session is open.
    pub fn in_session(&self) -> bool {
        self.session
    }
}

impl<'r> Transaction<'r> {
    /// The registry, read-only (objects not touched yet can be read
    /// without beginning on them).
    pub fn registry(&self) -> &Registry {
        self.reg
    }

    /// Object `oid` for reading: 4.04 if absent, 5.03 if another open
    /// transaction holds it.
    pub fn object(&self, oid: Oid) -> Result<&dyn Object, DmError> {
        let obj = self.reg.get(oid).ok_or(DmError::NotFound)?;
        if self.held_by_other(oid) {
            return Err(DmError::ServiceUnavailable);
        }
        Ok(obj)
    }

    fn held_by_other(&self, oid: Oid) -> bool {
        self.reg
            .slots
            .iter()
            .any(|s| s.obj.def().id == oid && s.owner.is_some_and(|o| o != self.id))
    }

    /// Object `oid` for changing: begins on it the first time. 4.04 if
    /// absent, 5.03 if another open transaction holds it.
    pub fn object_mut(&mut self, oid: Oid) -> Result<&mut dyn Object, DmError> {
        let id = self.id;
        let slot = self.reg.slot_mut(oid).ok_or(DmError::NotFound)?;
        match slot.owner {
            Some(o) if o != id => return Err(DmError::ServiceUnavailable),
            Some(_) => {}
            None => {
                slot.obj.begin();
                slot.owner = Some(id);
            }
        }
        Ok(slot.obj.as_mut())
    }

    /// Whether this transaction has begun on object `oid`.
    pub fn touches(&self, oid: Oid) -> bool {
        self.reg
            .slots
            .iter()
            .any(|s| s.obj.def().id == oid && s.owner == Some(self.id))
    }

    /// Validates every touched object and commits them all; on the first
    /// validation error rolls them all back and returns it. Inside a
    /// bootstrap session validation waits for [`Registry::end_session`].
    pub fn commit(mut self) -> Result<(), DmError> {
        self.done = true;
        if !self.reg.session {
            let id = self.id;
            let verdict = self
                .reg
                .slots
                .iter()
                .filter(|s| s.owner == Some(id))
                .try_for_each(|s| s.obj.validate());
            if let Err(e) = verdict {
                self.finish(false);
                return Err(e);
            }
        }
        self.finish(true);
        Ok(())
    }

    /// Rolls back every touched object.
    pub fn rollback(mut self) {
        self.done = true;
        self.finish(false);
    }

    /// Parks the transaction; its objects stay held.
    pub fn suspend(mut self) -> Suspended {
        self.done = true;
        Suspended { id: self.id }
    }

    fn finish(&mut self, commit: bool) {
        let id = self.id;
        for s in self.reg.slots.iter_mut().filter(|s| s.owner == Some(id)) {
            if commit {
                s.obj.commit();
            } else {
                s.obj.rollback();
            }
            s.owner = None;
        }
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.finish(false);
        }
    }
}

impl fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction").field("id", &self.id).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dm::{DataType, Iid, ObjectDef, Operations, ResourceDef, Rid, Riid, Txn, Value};
    use alloc::vec::Vec;

    const DEF_A: ObjectDef = ObjectDef::new(
        1000,
        &[ResourceDef::new(0, "v", Operations::RW, DataType::Integer)],
    );
    const DEF_B: ObjectDef = ObjectDef::new(
        1001,
        &[ResourceDef::new(0, "v", Operations::RW, DataType::Integer)],
    );

    /// A counter that refuses to validate 13; logs its transaction calls.
    struct Counter {
        def: &'static ObjectDef,
        v: Txn<i64>,
        log: Vec<&'static str>,
    }
    impl Counter {
        fn new(def: &'static ObjectDef) -> Counter {
            Counter {
                def,
                v: Txn::new(0),
                log: Vec::new(),
            }
        }
    }
    impl Object for Counter {
        fn def(&self) -> &'static ObjectDef {
            self.def
        }
        fn read(&self, _: Iid, _: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
            Ok(Value::Integer(*self.v))
        }
        fn write(&mut self, _: Iid, _: Rid, _: Option<Riid>, v: Value<'_>) -> Result<(), DmError> {
            *self.v = v.as_i64().ok_or(DmError::BadRequest)?;
            Ok(())
        }
        fn begin(&mut self) {
            self.log.push("begin");
            self.v.begin();
        }
        fn validate(&self) -> Result<(), DmError> {
            if *self.v == 13 {
                Err(DmError::BadRequest)
            } else {
                Ok(())
            }
        }
        fn commit(&mut self) {
            self.log.push("commit");
            self.v.commit();
        }
        fn rollback(&mut self) {
            self.log.push("rollback");
            self.v.rollback();
        }
    }

    fn setup() -> (
        Registry,
        crate::dm::Handle<Counter>,
        crate::dm::Handle<Counter>,
    ) {
        let mut r = Registry::new();
        let a = r.add_object(Counter::new(&DEF_A)).unwrap();
        let b = r.add_object(Counter::new(&DEF_B)).unwrap();
        (r, a, b)
    }

    fn set(t: &mut Transaction<'_>, oid: Oid, v: i64) {
        t.object_mut(oid)
            .unwrap()
            .write(0, 0, None, Value::Integer(v))
            .unwrap();
    }

    #[test]
    fn begins_on_first_touch_only_and_commits_touched() {
        let (mut r, a, b) = setup();
        let mut t = r.transaction();
        set(&mut t, 1000, 5);
        set(&mut t, 1000, 6);
        assert!(t.touches(1000) && !t.touches(1001));
        t.commit().unwrap();
        assert_eq!(r.object(a).unwrap().log, ["begin", "commit"]);
        assert!(r.object(b).unwrap().log.is_empty());
        assert_eq!(*r.object(a).unwrap().v, 6);
    }

    #[test]
    fn failed_validation_rolls_back_every_touched_object() {
        let (mut r, a, b) = setup();
        let mut t = r.transaction();
        set(&mut t, 1000, 5);
        set(&mut t, 1001, 13);
        assert_eq!(t.commit(), Err(DmError::BadRequest));
        assert_eq!(*r.object(a).unwrap().v, 0);
        assert_eq!(*r.object(b).unwrap().v, 0);
        assert_eq!(r.object(a).unwrap().log, ["begin", "rollback"]);
    }

    #[test]
    fn drop_rolls_back() {
        let (mut r, a, _) = setup();
        {
            let mut t = r.transaction();
            set(&mut t, 1000, 5);
        }
        assert_eq!(*r.object(a).unwrap().v, 0);
    }

    #[test]
    fn suspended_transaction_holds_its_objects() {
        let (mut r, a, _) = setup();
        let mut t = r.transaction();
        set(&mut t, 1000, 5);
        let s = t.suspend();
        assert_eq!(r.check_unlocked(1000), Err(DmError::ServiceUnavailable));
        assert_eq!(r.check_unlocked(1001), Ok(()));
        {
            let mut other = r.transaction();
            assert_eq!(
                other.object_mut(1000).map(|_| ()),
                Err(DmError::ServiceUnavailable)
            );
            assert_eq!(
                other.object(1000).map(|_| ()),
                Err(DmError::ServiceUnavailable)
            );
            set(&mut other, 1001, 2);
            other.commit().unwrap();
        }
        assert_eq!(r.begin_session(), Err(DmError::ServiceUnavailable));
        let mut t = r.resume(s);
        set(&mut t, 1000, 7);
        t.commit().unwrap();
        assert_eq!(*r.object(a).unwrap().v, 7);
        let mut t = r.transaction();
        set(&mut t, 1000, 8);
        let s = t.suspend();
        r.abandon(s);
        assert_eq!(*r.object(a).unwrap().v, 7);
        assert_eq!(r.check_unlocked(1000), Ok(()));
    }

    #[test]
    fn session_wraps_requests_and_validates_at_the_end() {
        let (mut r, a, b) = setup();
        r.begin_session().unwrap();
        assert_eq!(r.begin_session(), Err(DmError::Conflict));
        let mut t = r.transaction();
        set(&mut t, 1000, 13); // invalid alone, but validation waits
        t.commit().unwrap();
        let mut t = r.transaction();
        set(&mut t, 1001, 4);
        t.rollback(); // this request alone is undone
        assert_eq!(*r.object(b).unwrap().v, 0);
        let mut t = r.transaction();
        set(&mut t, 1000, 3);
        t.commit().unwrap();
        r.end_session(true).unwrap();
        assert!(!r.in_session());
        assert_eq!(*r.object(a).unwrap().v, 3);
        assert!(!r.object(a).unwrap().v.in_transaction());
    }

    #[test]
    fn invalid_session_returns_exactly_to_the_start() {
        let (mut r, a, b) = setup();
        r.begin_session().unwrap();
        let mut t = r.transaction();
        set(&mut t, 1000, 13);
        set(&mut t, 1001, 9);
        t.commit().unwrap();
        assert_eq!(r.end_session(true), Err(DmError::BadRequest));
        assert_eq!(*r.object(a).unwrap().v, 0);
        assert_eq!(*r.object(b).unwrap().v, 0);
        // abandoning works the same
        r.begin_session().unwrap();
        let mut t = r.transaction();
        set(&mut t, 1000, 1);
        t.commit().unwrap();
        r.end_session(false).unwrap();
        assert_eq!(*r.object(a).unwrap().v, 0);
        assert_eq!(r.end_session(true), Ok(()));
    }
}
