//! Connectivity Monitoring: what the application sets reads back in every
//! format; servers cannot write it.

use super::*;
use crate::content::Format;
use crate::dm::ops::write::WriteMode;
use crate::dm::{Origin, Registry};
use crate::objects::testutil::*;

const S: Origin = Origin::Server(1);

#[test]
fn definition_matches_the_registry() {
    assert!(DEF.is_well_formed());
    assert_eq!((DEF.id, DEF.version.to_string().as_str()), (4, "1.2"));
    const { assert!(!DEF.multiple && !DEF.mandatory) };
    assert_eq!(DEF.resources.len(), 13);
    let ids = |f: fn(&ResourceDef) -> bool| -> Vec<u16> {
        DEF.resources
            .iter()
            .filter(|r| f(r))
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(ids(|r| r.mandatory), [0, 1, 2, 4]);
    assert_eq!(ids(|r| r.multiple), [1, 4, 5, 7]);
    assert!(DEF.resources.iter().all(|r| r.operations == Operations::R));
}

#[test]
fn values_set_by_the_application_read_in_every_format() {
    let mut cm = ConnectivityMonitoring::new(bearer::LTE_FDD);
    cm.set_available_bearers(&[bearer::LTE_FDD, bearer::NB_IOT, bearer::WLAN])
        .set_radio_signal_strength(-93)
        .set_link_quality(Some(-11))
        .set_ip_addresses(&["192.0.2.7", "2001:db8::7"])
        .set_router_ip_addresses(&["192.0.2.1"])
        .set_link_utilization(Some(12))
        .set_apns(&["internet"])
        .set_cell_id(Some(0x0ABC_DEF0))
        .set_mobile_codes(Some(1), Some(260))
        .set_signal_snr(Some(7))
        .set_lac(Some(4321));
    assert_eq!(cm.network_bearer(), 6);
    assert_eq!(cm.radio_signal_strength(), -93);
    assert_eq!(cm.ip_addresses().len(), 2);
    let mut reg = Registry::new();
    reg.add_object(cm).unwrap();
    let want = [
        e("/4/0/0", Value::Integer(6)),
        e("/4/0/1/0", Value::Integer(6)),
        e("/4/0/1/1", Value::Integer(7)),
        e("/4/0/1/2", Value::Integer(21)),
        e("/4/0/2", Value::Integer(-93)),
        e("/4/0/3", Value::Integer(-11)),
        e("/4/0/4/0", Value::str("192.0.2.7")),
        e("/4/0/4/1", Value::str("2001:db8::7")),
        e("/4/0/5/0", Value::str("192.0.2.1")),
        e("/4/0/6", Value::Integer(12)),
        e("/4/0/7/0", Value::str("internet")),
        e("/4/0/8", Value::Integer(0x0ABC_DEF0)),
        e("/4/0/9", Value::Integer(1)),
        e("/4/0/10", Value::Integer(260)),
        e("/4/0/11", Value::Integer(7)),
        e("/4/0/12", Value::Integer(4321)),
    ];
    for f in HIERARCHICAL {
        assert_eq!(read_as(&reg, S, "/4/0", f).unwrap(), want, "{f:?}");
    }
    for f in ALL {
        for w in &want {
            let path = w.path.to_string();
            assert_eq!(
                read_as(&reg, S, &path, f).unwrap(),
                core::slice::from_ref(w),
                "{f:?}"
            );
        }
    }
    let one = [e("/4/0/2", Value::Integer(0))];
    assert_eq!(
        write_as(
            &mut reg,
            S,
            "/4/0/2",
            WriteMode::Replace,
            Format::Text,
            &one
        ),
        Err(DmError::MethodNotAllowed)
    );
}

#[test]
fn optional_resources_are_absent_until_set() {
    let mut reg = Registry::new();
    let h = reg
        .add_object(ConnectivityMonitoring::new(bearer::ETHERNET))
        .unwrap();
    let want = [
        e("/4/0/0", Value::Integer(41)),
        e("/4/0/1/0", Value::Integer(41)),
        e("/4/0/2", Value::Integer(0)),
    ];
    assert_eq!(read_as(&reg, S, "/4/0", Format::SenmlJson).unwrap(), want);
    for path in ["/4/0/3", "/4/0/5", "/4/0/7", "/4/0/12", "/4/0/1/1"] {
        assert_eq!(
            read_as(&reg, S, path, Format::Tlv),
            Err(DmError::NotFound),
            "{path}"
        );
    }
    // IP Addresses is mandatory: present, empty
    assert_eq!(read_as(&reg, S, "/4/0/4", Format::Tlv).unwrap(), []);
    reg.object_mut(h)
        .unwrap()
        .set_link_quality(Some(3))
        .set_link_quality(None);
    assert_eq!(
        read_as(&reg, S, "/4/0/3", Format::Tlv),
        Err(DmError::NotFound)
    );
    assert_eq!(
        read_as(&reg, S, "/4/1", Format::Tlv),
        Err(DmError::NotFound)
    );
}
