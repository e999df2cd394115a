//! The overall deadline of a registry request (`RegistryOptions::timeout`,
//! `--timeout`): ureq enforces it; this names it in the errors.

use std::io::Read;
use std::time::Duration;

/// A response body whose reads fail with a message naming the deadline
/// when the request's overall deadline passes.
pub(crate) struct Deadline<R> {
    pub(crate) inner: R,
    pub(crate) what: String,
    pub(crate) timeout: Duration,
}

impl<R: Read> Read for Deadline<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner
            .read(buf)
            .map_err(|e| deadline_error(e, &self.what, self.timeout))
    }
}

/// `e`, or when it is ureq's overall deadline, an error saying so (the
/// message of ureq's own is a bare "timeout: global").
pub(crate) fn deadline_error(e: std::io::Error, what: &str, timeout: Duration) -> std::io::Error {
    let is_global = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|u| matches!(u, ureq::Error::Timeout(ureq::Timeout::Global)));
    if !is_global {
        return e;
    }
    let prefix = if what.is_empty() {
        String::new()
    } else {
        format!("{what}: ")
    };
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!(
            "{prefix}timed out after {} (the deadline of each request, body included; see --timeout)",
            super::format_duration(timeout)
        ),
    )
}
