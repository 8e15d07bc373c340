// Shared by the SenML JSON, SenML CBOR and LwM2M JSON fuzz checks (included,
// not a target): re-encoding with the NaN rule of JSON, NaN-aware comparison.

use lwm2m_core::buf::Writer;
use lwm2m_core::content::{Encode, EncodeError, Entry};
use lwm2m_core::dm::Value;

/// Encodes `entries`; `None` only when a value has no form in the format
/// (a NaN or infinite float or time in JSON), which is then asserted.
pub fn encode(enc: &mut dyn Encode, entries: &[Entry<'_>], input_len: usize) -> Option<Vec<u8>> {
    // Re-encoding may grow a record (full names, "1e2" written "100.0"),
    // never by more than this.
    let mut buf = vec![0u8; input_len * 16 + entries.len() * 96 + 64];
    let mut w = Writer::new(&mut buf);
    let r = (|| {
        enc.begin(&mut w)?;
        for e in entries {
            enc.put(&mut w, e)?;
        }
        enc.end(&mut w)
    })();
    match r {
        Ok(()) => Some(w.written().to_vec()),
        Err(EncodeError::Unrepresentable) => {
            assert!(
                entries.iter().any(|e| !finite(e)),
                "only non-finite numbers are unrepresentable"
            );
            None
        }
        Err(e) => panic!("re-encoding failed: {e}"),
    }
}

fn finite(e: &Entry<'_>) -> bool {
    let v = match e.value {
        Value::Float(f) => f.is_finite(),
        _ => true,
    };
    v && e.time.is_none_or(f64::is_finite)
}

fn same_f64(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Entries equal, NaN equal to NaN.
pub fn assert_same(a: &[Entry<'_>], b: &[Entry<'_>]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.path, y.path);
        match (&x.time, &y.time) {
            (Some(s), Some(t)) => assert!(same_f64(*s, *t), "{s} vs {t}"),
            (s, t) => assert_eq!(s, t),
        }
        match (&x.value, &y.value) {
            (Value::Float(f), Value::Float(g)) => assert!(same_f64(*f, *g), "{f} vs {g}"),
            (v, w) => assert_eq!(v, w),
        }
    }
}
