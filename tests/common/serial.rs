//! One lock for the tests of a binary that must not run beside each other: tests that time
//! HDF5 work (every HDF5 call takes the `hdf5` crate's global lock, and a thread waiting for
//! it while another test works is slowed, in its CPU time too), and tests that do much HDF5
//! work beside them. Include with `#[path = "common/serial.rs"] mod serial;`.

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Held for as long as the guard lives; a test that panicked holding it does not poison it
/// for the others.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}
