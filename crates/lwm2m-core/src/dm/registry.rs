//! The set of objects a client exposes, kept sorted by Object ID, reached
//! through typed handles (the smoltcp `SocketSet` habit: the stack owns the
//! objects, the application keeps a `Copy` handle; no global state).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::any::Any;
use core::fmt;
use core::marker::PhantomData;

use super::object::{Object, ObjectDef, ResourceDef};
use super::path::{Oid, Path};
use super::txn::TxnId;
use super::value::DataType;
use crate::content::TypeResolver;
use crate::error::DmError;

/// A typed reference to an object added with [`Registry::add_object`].
pub struct Handle<T> {
    oid: Oid,
    marker: PhantomData<fn() -> T>,
}

impl<T> Handle<T> {
    /// The object's id.
    pub fn oid(&self) -> Oid {
        self.oid
    }
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Handle<T> {}
impl<T> PartialEq for Handle<T> {
    fn eq(&self, other: &Self) -> bool {
        self.oid == other.oid
    }
}
impl<T> Eq for Handle<T> {}
impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle(/{})", self.oid)
    }
}

/// Why an object cannot be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryError {
    /// An object with this id is already registered.
    Duplicate(Oid),
    /// The definition is not well formed ([`ObjectDef::is_well_formed`]).
    MalformedDef(Oid),
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::Duplicate(o) => write!(f, "object /{o} already registered"),
            RegistryError::MalformedDef(o) => write!(f, "object /{o} definition malformed"),
        }
    }
}

pub(crate) struct Slot {
    pub(crate) obj: Box<dyn Object>,
    /// The open (possibly suspended) request transaction that has begun on
    /// this object, if any.
    pub(crate) owner: Option<TxnId>,
}

impl Slot {
    fn oid(&self) -> Oid {
        self.obj.def().id
    }
}

/// The objects of one client, in Object ID order.
///
/// Request handling goes through transactions ([`Registry::transaction`],
/// see [`super::txn`]); the application reaches its own objects directly
/// with [`Registry::object_mut`].
#[derive(Default)]
pub struct Registry {
    pub(crate) slots: Vec<Slot>,
    pub(crate) session: bool,
    pub(crate) next_txn: u32,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field(
                "objects",
                &self.slots.iter().map(Slot::oid).collect::<Vec<_>>(),
            )
            .field("session", &self.session)
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    fn index(&self, oid: Oid) -> Result<usize, usize> {
        self.slots.binary_search_by_key(&oid, Slot::oid)
    }

    /// Adds an object; its id comes from its definition. An object added
    /// during a bootstrap session joins the session's transaction.
    pub fn add_object<T: Object>(&mut self, obj: T) -> Result<Handle<T>, RegistryError> {
        let def = obj.def();
        let oid = def.id;
        if !def.is_well_formed() {
            return Err(RegistryError::MalformedDef(oid));
        }
        let at = match self.index(oid) {
            Ok(_) => return Err(RegistryError::Duplicate(oid)),
            Err(at) => at,
        };
        let mut obj: Box<dyn Object> = Box::new(obj);
        if self.session {
            obj.begin();
        }
        self.slots.insert(at, Slot { obj, owner: None });
        Ok(Handle {
            oid,
            marker: PhantomData,
        })
    }

    /// Removes and returns the object behind `h`; `None` if it is gone or a
    /// transaction holds it.
    pub fn remove<T: Object>(&mut self, h: Handle<T>) -> Option<T> {
        let i = self.index(h.oid).ok()?;
        let slot = self.slots.get(i)?;
        let any: &dyn Any = slot.obj.as_ref();
        if slot.owner.is_some() || !any.is::<T>() {
            return None;
        }
        let slot = self.slots.remove(i);
        let any: Box<dyn Any> = slot.obj;
        any.downcast::<T>().ok().map(|b| *b)
    }

    /// Removes the object with id `oid`; `None` if absent or a transaction
    /// holds it.
    pub fn remove_object(&mut self, oid: Oid) -> Option<Box<dyn Object>> {
        let i = self.index(oid).ok()?;
        if self.slots.get(i)?.owner.is_some() {
            return None;
        }
        Some(self.slots.remove(i).obj)
    }

    /// The object behind `h`.
    pub fn object<T: Object>(&self, h: Handle<T>) -> Option<&T> {
        let any: &dyn Any = self.get(h.oid)?;
        any.downcast_ref::<T>()
    }

    /// The object behind `h`, mutable. Changes made here are the
    /// application's own: no transaction, no access control (and a
    /// transaction open on the object may still roll them back).
    pub fn object_mut<T: Object>(&mut self, h: Handle<T>) -> Option<&mut T> {
        let i = self.index(h.oid).ok()?;
        let any: &mut dyn Any = self.slots.get_mut(i)?.obj.as_mut();
        any.downcast_mut::<T>()
    }

    /// The object with id `oid`.
    pub fn get(&self, oid: Oid) -> Option<&dyn Object> {
        let i = self.index(oid).ok()?;
        Some(self.slots.get(i)?.obj.as_ref())
    }

    /// The object with id `oid`, mutable (outside any transaction).
    pub fn get_mut(&mut self, oid: Oid) -> Option<&mut dyn Object> {
        let i = self.index(oid).ok()?;
        Some(self.slots.get_mut(i)?.obj.as_mut())
    }

    /// Whether an object with id `oid` is registered.
    pub fn contains(&self, oid: Oid) -> bool {
        self.index(oid).is_ok()
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no object is registered.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The objects in increasing id order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Object> + '_ {
        self.slots.iter().map(|s| s.obj.as_ref())
    }

    /// The definition of the resource at `path` (`/o/i/r` or deeper).
    pub fn resource_def(&self, path: &Path) -> Option<&'static ResourceDef> {
        self.get(path.oid()?)?.def().resource(path.rid()?)
    }

    /// The definition of object `oid`.
    pub fn def(&self, oid: Oid) -> Option<&'static ObjectDef> {
        Some(self.get(oid)?.def())
    }

    /// Fails with 5.03 when a suspended transaction (another server's
    /// block-wise transfer, SPEC §1 guarantee 2) holds object `oid`.
    pub fn check_unlocked(&self, oid: Oid) -> Result<(), DmError> {
        match self.index(oid).ok().and_then(|i| self.slots.get(i)) {
            Some(s) if s.owner.is_some() => Err(DmError::ServiceUnavailable),
            _ => Ok(()),
        }
    }

    pub(crate) fn slot_mut(&mut self, oid: Oid) -> Option<&mut Slot> {
        let i = self.index(oid).ok()?;
        self.slots.get_mut(i)
    }
}

/// Declared types straight from the `const` definitions.
impl TypeResolver for Registry {
    fn data_type(&self, path: &Path) -> Option<DataType> {
        self.resource_def(path).map(|r| r.data_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dm::{Iid, Operations, Rid, Riid, Value};

    const A_DEF: ObjectDef = ObjectDef::new(
        10,
        &[ResourceDef::new(1, "x", Operations::RW, DataType::Integer)],
    );
    const B_DEF: ObjectDef = ObjectDef::new(
        4,
        &[ResourceDef::new(0, "y", Operations::R, DataType::String).multiple()],
    );

    struct A(i64);
    impl Object for A {
        fn def(&self) -> &'static ObjectDef {
            &A_DEF
        }
        fn read(&self, _: Iid, _: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
            Ok(Value::Integer(self.0))
        }
    }
    struct B;
    impl Object for B {
        fn def(&self) -> &'static ObjectDef {
            &B_DEF
        }
        fn read(&self, _: Iid, _: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
            Ok(Value::str("b"))
        }
    }

    #[test]
    fn typed_handles_in_id_order() {
        let mut r = Registry::new();
        let a = r.add_object(A(1)).unwrap();
        let b = r.add_object(B).unwrap();
        assert_eq!(r.add_object(A(2)), Err(RegistryError::Duplicate(10)));
        let ids: Vec<_> = r.iter().map(|o| o.def().id).collect();
        assert_eq!(ids, [4, 10]);
        r.object_mut(a).unwrap().0 = 7;
        assert_eq!(r.object(a).unwrap().0, 7);
        assert_eq!(r.get(10).unwrap().read(0, 1, None), Ok(Value::Integer(7)));
        // A handle of the wrong type for an id finds nothing.
        let fake: Handle<A> = Handle {
            oid: 4,
            marker: PhantomData,
        };
        assert!(r.object(fake).is_none());
        assert!(r.remove(fake).is_none());
        assert_eq!(r.remove(a).map(|a| a.0), Some(7));
        assert!(r.object(a).is_none());
        assert!(r.remove_object(b.oid()).is_some());
        assert!(r.is_empty());
    }

    #[test]
    fn malformed_def_is_refused() {
        const BAD: ObjectDef = ObjectDef::new(
            5,
            &[
                ResourceDef::new(1, "x", Operations::R, DataType::String),
                ResourceDef::new(1, "x", Operations::R, DataType::String),
            ],
        );
        struct Bad;
        impl Object for Bad {
            fn def(&self) -> &'static ObjectDef {
                &BAD
            }
            fn read(&self, _: Iid, _: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
                Ok(Value::str(""))
            }
        }
        let mut r = Registry::new();
        assert_eq!(
            r.add_object(Bad).map(|_| ()),
            Err(RegistryError::MalformedDef(5))
        );
    }

    #[test]
    fn type_resolver_answers_from_defs() {
        let mut r = Registry::new();
        r.add_object(A(0)).unwrap();
        r.add_object(B).unwrap();
        assert_eq!(
            r.data_type(&Path::resource(10, 0, 1)),
            Some(DataType::Integer)
        );
        assert_eq!(
            r.data_type(&Path::resource_instance(4, 3, 0, 9)),
            Some(DataType::String)
        );
        assert_eq!(r.data_type(&Path::resource(10, 0, 2)), None);
        assert_eq!(r.data_type(&Path::instance(10, 0)), None);
        assert_eq!(r.data_type(&Path::resource(11, 0, 1)), None);
    }
}
