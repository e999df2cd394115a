//! Decompression on its own thread. Inflating gzip is the one inherently
//! sequential cost of reading a layer; running it on one core while the tar
//! walk, the diff_id hash and the analyzers run on another keeps the scan
//! within a small margin of the decompression time alone.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

const CHUNK: usize = 1 << 20;
/// Chunks in flight: bounds memory to a few MiB per layer.
const DEPTH: usize = 4;

/// A reader fed by a producer thread. Consumed chunks go back to the
/// producer for reuse, so streaming a layer allocates a few buffers, not one
/// per MiB.
pub struct PipeReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    recycle: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

/// Run `make` on a new thread (inside `scope`) and stream what the reader
/// it returns yields.
pub fn spawn<'scope, 'env, F, R>(scope: &'scope thread::Scope<'scope, 'env>, make: F) -> PipeReader
where
    F: FnOnce() -> io::Result<R> + Send + 'scope,
    R: Read,
{
    let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(DEPTH);
    let (recycle, reuse) = sync_channel::<Vec<u8>>(DEPTH + 2);
    scope.spawn(move || {
        let mut r = match make() {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        loop {
            let mut buf = reuse.try_recv().unwrap_or_default();
            buf.resize(CHUNK, 0);
            let mut filled = 0;
            // Fill whole chunks: fewer hand-offs between threads.
            let res = loop {
                match r.read(&mut buf[filled..]) {
                    Ok(0) => break Ok(()),
                    Ok(n) => {
                        filled += n;
                        if filled == buf.len() {
                            break Ok(());
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            let eof = filled < buf.len();
            buf.truncate(filled);
            if filled > 0 && tx.send(Ok(buf)).is_err() {
                return; // the consumer has gone
            }
            if let Err(e) = res {
                let _ = tx.send(Err(e));
                return;
            }
            if eof {
                return;
            }
        }
    });
    PipeReader {
        rx,
        recycle,
        current: Vec::new(),
        pos: 0,
        done: false,
    }
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(buf)) => {
                    let used = std::mem::replace(&mut self.current, buf);
                    if used.capacity() > 0 {
                        let _ = self.recycle.try_send(used);
                    }
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn streams_everything_and_errors() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        thread::scope(|s| {
            let mut r = spawn(s, || Ok(&data[..]));
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, data);
            struct Failing;
            impl Read for Failing {
                fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                    Err(io::Error::new(io::ErrorKind::InvalidData, "boom"))
                }
            }
            let mut r = spawn(s, || Ok(Failing));
            assert!(r.read_to_end(&mut Vec::new()).is_err());
        });
    }
}
