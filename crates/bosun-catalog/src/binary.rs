//! Streaming analysis of executables and archives (placeholder until written).

/// Whether a regular file may be an executable worth sniffing.
pub fn wants(_path: &str, _mode: u32, _size: u64) -> bool {
    false
}
