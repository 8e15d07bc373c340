//! The state file (`--state-file`): Security, Server, Access Control and
//! the observation attributes, restored at start and saved on every
//! [`Event::Persist`](lwm2m::core::client::Event::Persist), through
//! `lwm2m::persist::StateFile` (atomic writes; a corrupt file falls back to
//! the factory configuration with a one-line message naming the file).

use lwm2m::Driver;
use lwm2m::core::persist::{self, DEFAULT_OBJECTS};
use lwm2m::persist::{Source, StateFile};

use crate::log::Log;
use crate::say;

/// Replaces the factory configuration of `driver` (its objects added, the
/// client not started) with the file's, when there is a usable file; says
/// which it used.
pub fn restore(driver: &mut Driver, file: &StateFile, log: &Log) {
    let client = driver.client_mut();
    let mut attrs = client.attributes().clone();
    let r = file.restore(
        client.registry_mut(),
        |reg, bytes| {
            persist::load(bytes, reg, &mut attrs).map(|l| Some((l.instances(), l.attributes())))
        },
        |_| None,
    );
    match (r.source, r.value) {
        (Source::File, Some((instances, attributes))) => {
            *client.attributes_mut() = attrs;
            say!(
                log,
                "state file {}: restored {instances} instances of Security, Server and Access Control, {attributes} attributes",
                file.path().display()
            );
        }
        (Source::Missing, _) => {
            say!(
                log,
                "state file {}: none yet, starting from the factory configuration",
                file.path().display()
            );
        }
        // Unusable: `restore` said why on standard error.
        _ => {}
    }
}

/// Saves the driver's configuration to `file`; a failure is logged (the
/// client keeps running on its live configuration).
pub fn save(driver: &Driver, file: &StateFile, log: &Log) -> bool {
    let client = driver.client();
    let bytes = persist::save_to_vec(
        client.registry(),
        client.attributes(),
        &DEFAULT_OBJECTS,
        &[],
        StateFile::DEFAULT_MAX_LEN,
    );
    let r = match bytes {
        Ok(b) => file.save(&b).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match r {
        Ok(()) => {
            say!(log, "state saved to {}", file.path().display());
            true
        }
        Err(e) => {
            log.error(format_args!(
                "state file {}: cannot save: {e}",
                file.path().display()
            ));
            false
        }
    }
}
