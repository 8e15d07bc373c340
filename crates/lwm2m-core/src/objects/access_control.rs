//! The LwM2M Access Control object (ID 2; OMA-TS-LightweightM2M_Core 1.1
//! Appendix E.3, object version 1.0): one instance per protected object
//! instance, naming it by Object ID and Object Instance ID (65535 for the
//! object-level Create right), with an ACL keyed by Short Server ID
//! (resource instance 0 is the default ACL) and an Access Control Owner.
//! The rules that use it are in [`crate::dm::access`].

use super::instances;
use alloc::vec::Vec;

use crate::dm::{
    DataType, Iid, MAX_ID, Object, ObjectDef, Oid, Operations, ResourceDef, Rid, Riid, Ssid, Txn,
    Value,
};
use crate::error::DmError;

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, "Object ID", Operations::R, DataType::Integer).mandatory(),
    ResourceDef::new(1, "Object Instance ID", Operations::R, DataType::Integer).mandatory(),
    ResourceDef::new(2, "ACL", Operations::RW, DataType::Integer).multiple(),
    ResourceDef::new(3, "Access Control Owner", Operations::RW, DataType::Integer).mandatory(),
];

/// The object definition (E.3).
pub const DEF: ObjectDef = ObjectDef::new(2, RESOURCES).multiple();

/// One Access Control instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclInstance {
    /// Instance id within object 2.
    pub iid: Iid,
    /// Object ID of the protected instance (1..=65534).
    pub target_oid: Oid,
    /// Object Instance ID of the protected instance; 65535 for the
    /// object-level Create right.
    pub target_iid: u16,
    /// ACL entries `(Short Server ID, access bits)`, sorted by id; id 0 is
    /// the default ACL.
    pub acl: Vec<(Ssid, u16)>,
    /// Access Control Owner: the server that manages this instance (65535:
    /// only the Bootstrap-Server).
    pub owner: Ssid,
}

impl AclInstance {
    /// An instance protecting `/target_oid/target_iid`, owned by `owner`,
    /// with an empty ACL.
    pub fn new(iid: Iid, target_oid: Oid, target_iid: u16, owner: Ssid) -> AclInstance {
        AclInstance {
            iid,
            target_oid,
            target_iid,
            acl: Vec::new(),
            owner,
        }
    }

    /// With ACL entry `ssid` set to `mask`.
    pub fn with(mut self, ssid: Ssid, mask: u16) -> AclInstance {
        self.set_acl(ssid, mask);
        self
    }

    fn set_acl(&mut self, ssid: Ssid, mask: u16) {
        match self.acl.binary_search_by_key(&ssid, |e| e.0) {
            Ok(i) => {
                if let Some(e) = self.acl.get_mut(i) {
                    e.1 = mask;
                }
            }
            Err(i) => self.acl.insert(i, (ssid, mask)),
        }
    }
}

/// The Access Control object: instances kept sorted by id, with
/// transactional state and bounded sizes.
#[derive(Clone, Debug)]
pub struct AccessControl {
    state: Txn<Vec<AclInstance>>,
    max_instances: usize,
    max_acl_entries: usize,
}

impl Default for AccessControl {
    fn default() -> Self {
        AccessControl::new(64, 16)
    }
}

fn int(v: &Value<'_>) -> Result<u16, DmError> {
    v.as_i64()
        .and_then(|i| u16::try_from(i).ok())
        .ok_or(DmError::BadRequest)
}

impl AccessControl {
    /// An empty object holding at most `max_instances` instances of at most
    /// `max_acl_entries` ACL entries each; more is refused with 5.00.
    pub fn new(max_instances: usize, max_acl_entries: usize) -> AccessControl {
        AccessControl {
            state: Txn::new(Vec::new()),
            max_instances,
            max_acl_entries,
        }
    }

    /// Adds or replaces an instance (factory configuration).
    pub fn insert(&mut self, inst: AclInstance) {
        match self.state.binary_search_by_key(&inst.iid, |i| i.iid) {
            Ok(i) => {
                if let Some(slot) = self.state.get_mut(i) {
                    *slot = inst;
                }
            }
            Err(i) => self.state.insert(i, inst),
        }
    }

    /// The instances, by id.
    pub fn entries(&self) -> &[AclInstance] {
        &self.state
    }

    /// The instance with id `iid`.
    pub fn get(&self, iid: Iid) -> Option<&AclInstance> {
        instances::get(&self.state, iid)
    }

    fn get_mut(&mut self, iid: Iid) -> Result<&mut AclInstance, DmError> {
        instances::get_mut(&mut self.state, iid)
    }
}

impl instances::HasIid for AclInstance {
    fn iid(&self) -> Iid {
        self.iid
    }
}

impl Object for AccessControl {
    fn def(&self) -> &'static ObjectDef {
        &DEF
    }

    fn instances(&self, each: &mut dyn FnMut(Iid)) {
        self.state.iter().for_each(|i| each(i.iid));
    }

    fn resource_present(&self, iid: Iid, rid: Rid) -> bool {
        rid != 2 || self.get(iid).is_some_and(|i| !i.acl.is_empty())
    }

    fn resource_instances(&self, iid: Iid, rid: Rid, each: &mut dyn FnMut(Riid)) {
        if let (2, Some(inst)) = (rid, self.get(iid)) {
            inst.acl.iter().for_each(|e| each(e.0));
        }
    }

    fn read(&self, iid: Iid, rid: Rid, riid: Option<Riid>) -> Result<Value<'_>, DmError> {
        let inst = self.get(iid).ok_or(DmError::NotFound)?;
        let v = match (rid, riid) {
            (0, _) => inst.target_oid,
            (1, _) => inst.target_iid,
            (2, Some(ssid)) => inst
                .acl
                .iter()
                .find(|e| e.0 == ssid)
                .map(|e| e.1)
                .ok_or(DmError::NotFound)?,
            (3, _) => inst.owner,
            _ => return Err(DmError::NotFound),
        };
        Ok(Value::Integer(v.into()))
    }

    /// Resources 0 and 1 are read-only for servers; the core writes them
    /// when it creates an instance, and the Bootstrap-Server may set them.
    fn write(
        &mut self,
        iid: Iid,
        rid: Rid,
        riid: Option<Riid>,
        value: Value<'_>,
    ) -> Result<(), DmError> {
        let v = int(&value)?;
        let max_entries = self.max_acl_entries;
        let inst = self.get_mut(iid)?;
        match (rid, riid) {
            (0, _) if v == 0 || v == MAX_ID => return Err(DmError::BadRequest),
            (0, _) => inst.target_oid = v,
            (1, _) => inst.target_iid = v,
            (2, Some(ssid)) => {
                let exists = inst.acl.iter().any(|e| e.0 == ssid);
                if !exists && inst.acl.len() >= max_entries {
                    return Err(DmError::Internal);
                }
                inst.set_acl(ssid, v);
            }
            (3, _) => inst.owner = v,
            _ => return Err(DmError::NotFound),
        }
        Ok(())
    }

    fn create(&mut self, iid: Iid) -> Result<(), DmError> {
        // Object ID 0 is outside 1..=65534: validation fails until a
        // value is written.
        instances::create(&mut self.state, self.max_instances, iid, |iid| {
            AclInstance::new(iid, 0, 0, MAX_ID)
        })
    }

    fn delete(&mut self, iid: Iid) -> Result<(), DmError> {
        instances::delete(&mut self.state, iid)
    }

    fn reset(&mut self, iid: Iid, rid: Option<Rid>) -> Result<(), DmError> {
        let inst = self.get_mut(iid)?;
        match rid {
            None | Some(2) => inst.acl.clear(),
            Some(_) => {}
        }
        Ok(())
    }

    /// Every instance names a valid object (1..=65534), and no two name the
    /// same target.
    fn validate(&self) -> Result<(), DmError> {
        let mut targets: Vec<(Oid, u16)> = Vec::with_capacity(self.state.len());
        for i in self.state.iter() {
            if i.target_oid == 0 || i.target_oid == MAX_ID {
                return Err(DmError::BadRequest);
            }
            targets.push((i.target_oid, i.target_iid));
        }
        targets.sort_unstable();
        if targets.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
            return Err(DmError::BadRequest);
        }
        Ok(())
    }

    fn begin(&mut self) {
        self.state.begin();
    }
    fn commit(&mut self) {
        self.state.commit();
    }
    fn rollback(&mut self) {
        self.state.rollback();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handlers_follow_the_definition() {
        let mut ac = AccessControl::new(2, 2);
        ac.insert(AclInstance::new(0, 3, 0, 101).with(101, 0b1111).with(0, 1));
        assert_eq!(ac.read(0, 0, None), Ok(Value::Integer(3)));
        assert_eq!(ac.read(0, 2, Some(0)), Ok(Value::Integer(1)));
        assert_eq!(ac.read(0, 2, Some(5)), Err(DmError::NotFound));
        let mut riids = Vec::new();
        ac.resource_instances(0, 2, &mut |r| riids.push(r));
        assert_eq!(riids, [0, 101]);
        // ACL bounded per instance
        assert_eq!(
            ac.write(0, 2, Some(102), Value::Integer(1)),
            Err(DmError::Internal)
        );
        assert_eq!(ac.write(0, 2, Some(101), Value::Integer(1)), Ok(()));
        assert_eq!(
            ac.write(0, 2, Some(101), Value::Integer(70000)),
            Err(DmError::BadRequest)
        );
        assert_eq!(
            ac.write(0, 0, None, Value::Integer(0)),
            Err(DmError::BadRequest)
        );
        ac.create(1).unwrap();
        assert_eq!(ac.validate(), Err(DmError::BadRequest));
        ac.write(1, 0, None, Value::Integer(3)).unwrap();
        assert_eq!(ac.validate(), Err(DmError::BadRequest)); // same target as /2/0
        ac.write(1, 1, None, Value::Integer(1)).unwrap();
        assert_eq!(ac.validate(), Ok(()));
        assert_eq!(ac.create(2), Err(DmError::Internal));
        assert!(!ac.resource_present(1, 2));
        ac.reset(0, None).unwrap();
        assert!(ac.get(0).unwrap().acl.is_empty());
        ac.delete(0).unwrap();
        assert_eq!(ac.entries().len(), 1);
    }
}
