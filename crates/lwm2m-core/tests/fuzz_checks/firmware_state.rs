// Invariant for the firmware download-state decoder (fuzz target
// `firmware_state`), shared with the stable corpus replay.
//
// Decoding never panics; what decodes re-encodes to exactly the input (the
// format has one encoding per state), and restoring it into a Firmware
// object either succeeds with that state or leaves the object Idle.

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::objects::firmware::{
        Applied, DownloadState, Firmware, FirmwareApp, FirmwareError, State,
    };
    struct Nop;
    impl FirmwareApp for Nop {
        fn open(&mut self, _: Option<u64>) -> Result<(), FirmwareError> {
            Ok(())
        }
        fn write(&mut self, _: u64, _: &[u8]) -> Result<(), FirmwareError> {
            Ok(())
        }
        fn apply(&mut self) -> Result<Applied, FirmwareError> {
            Ok(Applied::Done)
        }
        fn reset(&mut self) {}
    }
    let Ok(state) = DownloadState::decode(data) else {
        return;
    };
    assert_eq!(state.to_vec(), data, "re-encodes to the same bytes");
    let mut fw = Firmware::new(Nop);
    match fw.restore_download(state.clone()) {
        Ok(()) => {
            assert_eq!(fw.state(), State::Downloading);
            assert_eq!(fw.download_state(), Some(state));
        }
        Err(_) => assert_eq!(fw.state(), State::Idle),
    }
}
