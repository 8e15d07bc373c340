//! Values typed at the prompt and values printed for a person.

use lwm2m_core::content::Entry;
use lwm2m_core::dm::{DataType, ObjLnk, Path, Value};
use lwm2m_server::core::{fmt_path, model};

/// The prefixes that name a type explicitly.
pub const PREFIXES: &str = "int:, uint:, float:, bool:, str:, hex:, time:, objlnk:";

fn hex(s: &str) -> Result<Vec<u8>, String> {
    let s: String = s
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect();
    if !s.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(|| format!("{s:?} is not hexadecimal"))
        })
        .collect()
}

fn bool_of(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("{s:?} is not a boolean (true/false/1/0)")),
    }
}

fn typed(ty: DataType, s: &str) -> Result<Value<'static>, String> {
    let num = |what: &str| format!("{s:?} is not {what}");
    Ok(match ty {
        DataType::Integer => Value::Integer(s.parse().map_err(|_| num("an integer"))?),
        DataType::UnsignedInteger => {
            Value::Unsigned(s.parse().map_err(|_| num("an unsigned integer"))?)
        }
        DataType::Float => {
            let f: f64 = s.parse().map_err(|_| num("a number"))?;
            if !f.is_finite() {
                return Err(num("a finite number"));
            }
            Value::Float(f)
        }
        DataType::Boolean => Value::Boolean(bool_of(s)?),
        DataType::String => Value::String(s.to_string().into()),
        DataType::Corelnk => Value::Corelnk(s.to_string().into()),
        DataType::Opaque => Value::Opaque(hex(s.strip_prefix("hex:").unwrap_or(s))?.into()),
        DataType::Time => Value::Time(s.parse().map_err(|_| num("a time in seconds"))?),
        DataType::Objlnk => {
            Value::Objlnk(ObjLnk::parse(s).ok_or_else(|| num("an object link (3:0)"))?)
        }
        DataType::None => return Err("an executable resource has no value".into()),
    })
}

/// Parses a value for `path`: with a type prefix, or typed by the object
/// model when the resource is known.
pub fn parse_value(path: &Path, s: &str) -> Result<Value<'static>, String> {
    if let Some((prefix, rest)) = s.split_once(':') {
        let ty = match prefix {
            "int" => Some(DataType::Integer),
            "uint" => Some(DataType::UnsignedInteger),
            "float" => Some(DataType::Float),
            "bool" => Some(DataType::Boolean),
            "str" => Some(DataType::String),
            "hex" => Some(DataType::Opaque),
            "time" => Some(DataType::Time),
            "objlnk" => Some(DataType::Objlnk),
            _ => None,
        };
        if let Some(ty) = ty {
            return typed(ty, rest);
        }
    }
    match model::data_type(path) {
        Some(ty) => typed(ty, s),
        None => Err(format!(
            "the type of {} is not known: prefix the value with one of {PREFIXES}",
            fmt_path(path)
        )),
    }
}

/// A value for display.
pub fn show(v: &Value<'_>) -> String {
    match v {
        Value::Integer(i) => i.to_string(),
        Value::Unsigned(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::String(s) | Value::Corelnk(s) => format!("{s:?}"),
        Value::Time(t) => format!("{t} (time)"),
        Value::Objlnk(l) => format!("objlnk {l}"),
        Value::Opaque(b) => {
            let shown: String = b.iter().take(32).map(|x| format!("{x:02x}")).collect();
            if b.len() > 32 {
                format!("hex:{shown}... ({} bytes)", b.len())
            } else {
                format!("hex:{shown}")
            }
        }
    }
}

/// An entry as one line: path, resource name, value.
pub fn show_entry(e: &Entry<'_>) -> String {
    let name = model::resource(&e.path)
        .map(|r| format!(" ({})", r.name))
        .unwrap_or_default();
    let time = e.time.map(|t| format!(" @ {t}")).unwrap_or_default();
    format!("{}{name} = {}{time}", fmt_path(&e.path), show(&e.value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_by_model_and_prefix() {
        assert_eq!(
            parse_value(&Path::resource(1, 0, 1), "300"),
            Ok(Value::Integer(300))
        );
        assert_eq!(
            parse_value(&Path::resource(1, 0, 7), "UQ"),
            Ok(Value::str("UQ").into_owned())
        );
        assert_eq!(
            parse_value(&Path::resource(1, 0, 6), "true"),
            Ok(Value::Boolean(true))
        );
        assert!(parse_value(&Path::resource(1, 0, 1), "abc").is_err());
        assert!(
            parse_value(&Path::resource(9999, 0, 1), "5")
                .unwrap_err()
                .contains("prefix")
        );
        assert_eq!(
            parse_value(&Path::resource(9999, 0, 1), "int:5"),
            Ok(Value::Integer(5))
        );
        assert_eq!(
            parse_value(&Path::resource(9999, 0, 1), "hex:0aff"),
            Ok(Value::Opaque(vec![10, 255].into()))
        );
        assert_eq!(
            parse_value(&Path::resource(9999, 0, 1), "str:a:b"),
            Ok(Value::str("a:b").into_owned())
        );
        assert_eq!(
            parse_value(&Path::resource(5, 0, 1), "coap://h/fw/x"),
            Ok(Value::str("coap://h/fw/x").into_owned())
        );
        assert!(parse_value(&Path::resource(9999, 0, 1), "float:inf").is_err());
        let long = show(&Value::Opaque(vec![0u8; 40].into()));
        assert!(long.starts_with(&format!("hex:{}", "0".repeat(64))));
        assert!(long.ends_with("... (40 bytes)"));
    }
}
