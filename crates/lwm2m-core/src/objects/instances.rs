//! The instance list of a multi-instance built-in object: instances kept
//! sorted by id, so that `instances` reports them in increasing order (the
//! `Object` contract) and lookups are a binary search. Security, Server and
//! Access Control share it.

use alloc::vec::Vec;

use crate::dm::Iid;
use crate::error::DmError;

/// An instance that knows its id.
pub(crate) trait HasIid {
    fn iid(&self) -> Iid;
}

/// Adds `inst`, or replaces the instance with its id.
pub(crate) fn insert<T: HasIid>(list: &mut Vec<T>, inst: T) {
    match list.binary_search_by_key(&inst.iid(), HasIid::iid) {
        Ok(at) => {
            if let Some(slot) = list.get_mut(at) {
                *slot = inst;
            }
        }
        Err(at) => list.insert(at, inst),
    }
}

/// The instance `iid`.
pub(crate) fn get<T: HasIid>(list: &[T], iid: Iid) -> Option<&T> {
    let at = list.binary_search_by_key(&iid, HasIid::iid).ok()?;
    list.get(at)
}

/// The instance `iid`, mutably; 4.04 when absent.
pub(crate) fn get_mut<T: HasIid>(list: &mut [T], iid: Iid) -> Result<&mut T, DmError> {
    let at = list
        .binary_search_by_key(&iid, HasIid::iid)
        .map_err(|_| DmError::NotFound)?;
    list.get_mut(at).ok_or(DmError::NotFound)
}

/// Creates instance `iid` as `make` builds it: 4.00 if it exists, 5.00
/// beyond `max` instances.
pub(crate) fn create<T: HasIid>(
    list: &mut Vec<T>,
    max: usize,
    iid: Iid,
    make: impl FnOnce(Iid) -> T,
) -> Result<(), DmError> {
    if list.len() >= max {
        return Err(DmError::Internal);
    }
    match list.binary_search_by_key(&iid, HasIid::iid) {
        Ok(_) => Err(DmError::BadRequest),
        Err(at) => {
            list.insert(at, make(iid));
            Ok(())
        }
    }
}

/// Deletes instance `iid`; 4.04 when absent.
pub(crate) fn delete<T: HasIid>(list: &mut Vec<T>, iid: Iid) -> Result<(), DmError> {
    let at = list
        .binary_search_by_key(&iid, HasIid::iid)
        .map_err(|_| DmError::NotFound)?;
    list.remove(at);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct I(Iid, u8);
    impl HasIid for I {
        fn iid(&self) -> Iid {
            self.0
        }
    }

    #[test]
    fn sorted_insert_replace_create_delete() {
        let mut v = Vec::new();
        insert(&mut v, I(5, 0));
        insert(&mut v, I(1, 0));
        insert(&mut v, I(5, 9));
        assert_eq!(v, [I(1, 0), I(5, 9)]);
        assert_eq!(get(&v, 5), Some(&I(5, 9)));
        assert_eq!(get(&v, 2), None);
        assert_eq!(create(&mut v, 3, 1, |i| I(i, 1)), Err(DmError::BadRequest));
        assert_eq!(create(&mut v, 3, 3, |i| I(i, 1)), Ok(()));
        assert_eq!(create(&mut v, 3, 4, |i| I(i, 1)), Err(DmError::Internal));
        assert_eq!(v.iter().map(|i| i.0).collect::<Vec<_>>(), [1, 3, 5]);
        get_mut(&mut v, 3).unwrap().1 = 7;
        assert_eq!(get(&v, 3), Some(&I(3, 7)));
        assert_eq!(delete(&mut v, 3), Ok(()));
        assert_eq!(delete(&mut v, 3), Err(DmError::NotFound));
        assert_eq!(get_mut(&mut v, 3).unwrap_err(), DmError::NotFound);
    }
}
