//! `--json`: one JSON object per line for every event and command result.

use serde_json::{Value as Json, json};

use lwm2m_core::content::{Entry, Format};
use lwm2m_core::dm::Value;
use lwm2m_server::core::{Body, Registration, ServerEvent, fmt_path};

fn value(v: &Value<'_>) -> (&'static str, Json) {
    match v {
        Value::Integer(i) => ("integer", json!(i)),
        Value::Unsigned(u) => ("unsigned", json!(u)),
        Value::Float(f) => ("float", json!(f)),
        Value::Boolean(b) => ("boolean", json!(b)),
        Value::String(s) => ("string", json!(s)),
        Value::Corelnk(s) => ("corelnk", json!(s)),
        Value::Time(t) => ("time", json!(t)),
        Value::Objlnk(l) => ("objlnk", json!(l.to_string())),
        Value::Opaque(b) => (
            "opaque",
            json!(b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
        ),
    }
}

/// Values as `[{"path":..,"type":..,"value":..}]` (opaque as hex).
pub fn entries(es: &[Entry<'_>]) -> Json {
    Json::Array(
        es.iter()
            .map(|e| {
                let (ty, v) = value(&e.value);
                let mut o = json!({"path": fmt_path(&e.path), "type": ty, "value": v});
                if let (Some(t), Some(m)) = (e.time, o.as_object_mut()) {
                    m.insert("time".into(), json!(t));
                }
                o
            })
            .collect(),
    )
}

fn format(f: Format) -> u16 {
    f.number()
}

/// A registration.
pub fn registration(r: &Registration) -> Json {
    json!({
        "endpoint": r.endpoint,
        "location": format!("rd/{}", r.location),
        "address": r.peer.to_string(),
        "lifetime": r.lifetime,
        "lwm2m": r.version.as_str(),
        "binding": r.binding,
        "queue": r.queue,
        "objects": r.objects.to_link_format(),
    })
}

/// A response body.
pub fn body(b: &Body) -> Json {
    match b {
        Body::Entries {
            format: f,
            entries: e,
        } => json!({"format": format(*f), "entries": entries(e)}),
        Body::Links(l) => json!({"links": l.iter().map(ToString::to_string).collect::<Vec<_>>()}),
        Body::Created(p) => json!({"created": p.map(|p| fmt_path(&p))}),
        Body::Bytes {
            content_format,
            bytes,
        } => json!({
            "content_format": content_format,
            "hex": bytes.iter().map(|x| format!("{x:02x}")).collect::<String>(),
        }),
        _ => json!({}),
    }
}

/// An event.
pub fn event(e: &ServerEvent, server: &str) -> Json {
    let mut j = match e {
        ServerEvent::Registered {
            endpoint,
            location,
            peer,
            replaced,
        } => json!({
            "event": "registered", "endpoint": endpoint, "location": format!("rd/{location}"),
            "address": peer.to_string(), "replaced": replaced,
        }),
        ServerEvent::Updated {
            endpoint,
            peer,
            objects_changed,
        } => json!({
            "event": "updated", "endpoint": endpoint, "address": peer.to_string(),
            "objects_changed": objects_changed,
        }),
        ServerEvent::Deregistered { endpoint, reason } => json!({
            "event": "deregistered", "endpoint": endpoint, "reason": format!("{reason:?}").to_lowercase(),
        }),
        ServerEvent::Response {
            endpoint,
            request,
            result,
        } => match result {
            Ok(r) => json!({"event": "response", "endpoint": endpoint, "request": request.0,
                "code": r.code.to_string(), "body": body(&r.body)}),
            Err(err) => json!({"event": "response", "endpoint": endpoint, "request": request.0,
                "error": err.to_string()}),
        },
        ServerEvent::Notification {
            endpoint,
            observation,
            seq,
            format: f,
            entries: es,
        } => json!({
            "event": "notification", "endpoint": endpoint, "observation": observation.0,
            "seq": seq, "format": format(*f), "entries": entries(es),
        }),
        ServerEvent::ObservationEnded {
            endpoint,
            observation,
            reason,
        } => json!({
            "event": "observation_ended", "endpoint": endpoint, "observation": observation.0,
            "reason": format!("{reason:?}").to_lowercase(),
        }),
        ServerEvent::Send {
            endpoint,
            format: f,
            entries: es,
        } => json!({
            "event": "send", "endpoint": endpoint, "format": format(*f), "entries": entries(es),
        }),
        ServerEvent::BootstrapStarted {
            endpoint,
            peer,
            requested,
        } => json!({
            "event": "bootstrap_started", "endpoint": endpoint, "address": peer.to_string(),
            "requested": requested,
        }),
        ServerEvent::BootstrapStep {
            endpoint,
            step,
            result,
        } => match result {
            Ok(c) => {
                json!({"event": "bootstrap_step", "endpoint": endpoint, "step": step, "code": c.to_string()})
            }
            Err(err) => {
                json!({"event": "bootstrap_step", "endpoint": endpoint, "step": step, "error": err.to_string()})
            }
        },
        ServerEvent::BootstrapFinished { endpoint, result } => match result {
            Ok(()) => json!({"event": "bootstrap_finished", "endpoint": endpoint, "ok": true}),
            Err(err) => {
                json!({"event": "bootstrap_finished", "endpoint": endpoint, "ok": false, "error": err.to_string()})
            }
        },
        ServerEvent::QueueFlushed { endpoint, count } => json!({
            "event": "queue_flushed", "endpoint": endpoint, "count": count,
        }),
        ServerEvent::FileServed { peer, name, size } => json!({
            "event": "file_served", "address": peer.to_string(), "name": name, "size": size,
        }),
        ServerEvent::Rejected {
            peer,
            request,
            code,
            reason,
        } => json!({
            "event": "rejected", "address": peer.to_string(), "request": request,
            "code": code.to_string(), "reason": reason,
        }),
        other => json!({"event": "other", "debug": format!("{other:?}")}),
    };
    if let Some(m) = j.as_object_mut() {
        m.insert("server".into(), json!(server));
    }
    j
}
