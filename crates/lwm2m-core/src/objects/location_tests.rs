//! Location: the fix the application sets reads back in every format, its
//! velocity in the 3GPP TS 23.032 coding.

use super::*;
use crate::content::Format;
use crate::dm::ops::write::WriteMode;
use crate::dm::{Origin, Registry};
use crate::objects::testutil::*;

const S: Origin = Origin::Server(1);

#[test]
fn definition_matches_the_registry() {
    assert!(DEF.is_well_formed());
    assert_eq!((DEF.id, DEF.version.to_string().as_str()), (6, "1.0"));
    assert_eq!(DEF.resources.len(), 7);
    let mandatory: Vec<u16> = DEF
        .resources
        .iter()
        .filter(|r| r.mandatory)
        .map(|r| r.id)
        .collect();
    assert_eq!(mandatory, [0, 1, 5]);
    assert_eq!(DEF.resource(4).unwrap().data_type, DataType::Opaque);
    assert_eq!(DEF.resource(5).unwrap().data_type, DataType::Time);
}

/// Velocity octets worked out by hand from the TS 23.032 field layout.
#[test]
fn velocity_coding() {
    // type 0: bearing 300 = 0x12C (bit 9 in octet 1), 50 km/h
    let h = Velocity::Horizontal {
        bearing: 300,
        speed_kmh: 50,
    };
    assert_eq!(h.encode(), [0x01, 0x2C, 0x00, 0x32]);
    // type 1: bearing 90, 1000 km/h, 20 km/h downward (D bit 2)
    let hv = Velocity::HorizontalVertical {
        bearing: 90,
        speed_kmh: 1000,
        vertical_kmh: 20,
        downward: true,
    };
    assert_eq!(hv.encode(), [0x12, 0x5A, 0x03, 0xE8, 0x14]);
    let up = Velocity::HorizontalVertical {
        bearing: 359,
        speed_kmh: 0,
        vertical_kmh: 1,
        downward: false,
    };
    assert_eq!(up.encode(), [0x11, 0x67, 0x00, 0x00, 0x01]);
    // bearings wrap at 360
    let wrap = Velocity::Horizontal {
        bearing: 360,
        speed_kmh: 1,
    };
    assert_eq!(wrap.encode(), [0x00, 0x00, 0x00, 0x01]);
}

#[test]
fn a_fix_reads_in_every_format() {
    let mut loc = Location::new(0.0, 0.0, 0);
    loc.set_position(-43.5723, 153.2176, 1_700_000_123)
        .set_altitude(Some(12.5))
        .set_radius(Some(30.0))
        .set_velocity(Some(Velocity::Horizontal {
            bearing: 300,
            speed_kmh: 50,
        }))
        .set_speed(Some(13.75));
    assert_eq!(loc.position(), (-43.5723, 153.2176));
    assert_eq!(loc.timestamp(), 1_700_000_123);
    let mut reg = Registry::new();
    let h = reg.add_object(loc).unwrap();
    let want = [
        e("/6/0/0", Value::Float(-43.5723)),
        e("/6/0/1", Value::Float(153.2176)),
        e("/6/0/2", Value::Float(12.5)),
        e("/6/0/3", Value::Float(30.0)),
        e("/6/0/4", Value::bytes(&[0x01, 0x2C, 0x00, 0x32])),
        e("/6/0/5", Value::Time(1_700_000_123)),
        e("/6/0/6", Value::Float(13.75)),
    ];
    for f in HIERARCHICAL {
        assert_eq!(read_as(&reg, S, "/6/0", f).unwrap(), want, "{f:?}");
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
    assert_eq!(
        read_as(&reg, S, "/6/0/4", Format::Opaque).unwrap(),
        [want[4].clone()]
    );
    let one = [e("/6/0/0", Value::Float(1.0))];
    assert_eq!(
        write_as(
            &mut reg,
            S,
            "/6/0/0",
            WriteMode::Replace,
            Format::Text,
            &one
        ),
        Err(DmError::MethodNotAllowed)
    );
    // optional values withdrawn are absent
    let l = reg.object_mut(h).unwrap();
    l.set_altitude(None)
        .set_velocity(None)
        .set_velocity_bytes(Some(&[0x20, 0, 0, 0, 1, 2, 3]));
    assert_eq!(l.velocity(), Some(&[0x20, 0, 0, 0, 1, 2, 3][..]));
    l.set_radius(None).set_speed(None);
    let got = read_as(&reg, S, "/6/0", Format::Tlv).unwrap();
    assert_eq!(
        got.iter().map(|e| e.path.to_string()).collect::<Vec<_>>(),
        ["/6/0/0", "/6/0/1", "/6/0/4", "/6/0/5"]
    );
    assert_eq!(
        read_as(&reg, S, "/6/0/2", Format::Text),
        Err(DmError::NotFound)
    );
}
