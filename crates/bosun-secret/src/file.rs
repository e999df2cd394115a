//! One file's scan: the bytes fed in windows that overlap, so memory stays
//! bounded however big the file is, and the matches kept per rule.

use super::*;

/// A secret inside one window.
pub(super) struct Hit {
    pub(super) rule: usize,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) title: Option<String>,
    pub(super) severity: Severity,
    pub(super) value: String,
}

/// Whether `[start, end)` overlaps a claimed range (`claimed` maps start to
/// end, its ranges do not overlap each other).
pub(super) fn overlaps(claimed: &BTreeMap<usize, usize>, start: usize, end: usize) -> bool {
    claimed
        .range(..end)
        .next_back()
        .is_some_and(|(_, e)| *e > start)
}

/// Where the next window of `w` should start, at most `limit`: at the last
/// PEM block (`-----BEGIN`) that starts before `limit` and has no `-----END`
/// after it in `w`, so that the next window holds it whole. A block at the
/// very start of `w` cannot move (the window must advance): one longer than
/// a window is no key any tool writes.
pub(super) fn unfinished_block(w: &[u8], limit: usize) -> usize {
    let Some(begin) = memchr::memmem::rfind(&w[..limit], b"-----BEGIN") else {
        return limit;
    };
    if begin == 0 || memchr::memmem::find(&w[begin..], b"-----END").is_some() {
        return limit;
    }
    begin
}

/// The scan of one file in progress.
pub struct FileScan<'s> {
    pub(super) scanner: &'s Scanner,
    pub(super) path: String,
    pub(super) skip: bool,
    /// Unscanned bytes (plus the overlap kept from the previous window).
    pub(super) buf: Vec<u8>,
    /// Absolute offset of `buf[0]`, its line number, and where that line starts.
    pub(super) offset: u64,
    pub(super) line: usize,
    pub(super) line_start: u64,
    pub(super) binary: Option<bool>,
    pub(super) out: Vec<Match>,
    /// Per rule: matches listed, matches found past the cap, and the index
    /// in `out` of the last listed one.
    pub(super) kept: Vec<usize>,
    pub(super) omitted: Vec<usize>,
    pub(super) last_kept: Vec<Option<usize>>,
    /// Per rule with a context regex: some window of the file matched it
    /// (a kubeconfig's `users:` may be a window before its token).
    pub(super) context_seen: Vec<bool>,
    /// For redaction: every match's absolute byte range and its index in
    /// `out`, and no cap on matches.
    pub(super) spans: Option<Vec<(u64, u64, usize)>>,
}

impl FileScan<'_> {
    pub fn feed(&mut self, data: &[u8]) {
        if self.skip {
            return;
        }
        self.make_room(data.len());
        self.buf.extend_from_slice(data);
        self.scan_full_windows();
    }

    /// [`FileScan::feed`] all that `r` yields, read straight into the scan
    /// buffer rather than copied through one of the caller's.
    pub fn read_from(&mut self, r: &mut dyn Read) -> io::Result<()> {
        const PIECE: usize = 256 << 10;
        loop {
            if self.skip {
                io::copy(r, &mut io::sink())?;
                return Ok(());
            }
            self.make_room(PIECE);
            // read_to_end fills spare capacity without zeroing it first.
            if r.take(PIECE as u64).read_to_end(&mut self.buf)? == 0 {
                return Ok(());
            }
            self.scan_full_windows();
        }
    }

    /// Room for `more` bytes. Grow by doubling, but never past what one
    /// window and this piece need: a buffer over `KEEP_CAPACITY` would not
    /// go back to the pool, and every big file would fault in fresh pages.
    pub(super) fn make_room(&mut self, more: usize) {
        let need = self.buf.len() + more;
        if need > self.buf.capacity() {
            let cap = (self.buf.capacity() * 2).clamp(need, need.max(WINDOW + OVERLAP));
            self.buf.reserve_exact(cap - self.buf.len());
        }
    }

    pub(super) fn scan_full_windows(&mut self) {
        while self.buf.len() >= WINDOW + OVERLAP {
            let buf = std::mem::take(&mut self.buf);
            let used = self.window(&buf, WINDOW);
            self.buf = buf;
            self.buf.drain(..used);
        }
    }

    /// Scan a whole slice without copying it.
    pub(super) fn scan_all(&mut self, bytes: &[u8]) {
        if self.skip {
            return;
        }
        let mut start = 0;
        while bytes.len() - start >= WINDOW + OVERLAP {
            start += self.window(&bytes[start..start + WINDOW + OVERLAP], WINDOW);
        }
        self.buf.extend_from_slice(&bytes[start..]);
    }

    pub fn finish(self) -> Vec<Match> {
        self.finish_with(|_| ()).0
    }

    /// [`FileScan::finish`], also handing `whole` the file's entire content
    /// when the file had findings and fit in one window (its result is
    /// `None` otherwise). A caller can then tell a file as a package shipped
    /// it from one a builder changed without reading it twice.
    pub fn finish_with<T>(mut self, whole: impl FnOnce(&[u8]) -> T) -> (Vec<Match>, Option<T>) {
        if !self.skip && !self.buf.is_empty() {
            let buf = std::mem::take(&mut self.buf);
            self.window(&buf, buf.len());
            self.buf = buf;
        }
        // A cap that is hit is said, on the last match listed for the rule.
        for (n, last) in self.omitted.iter().zip(&self.last_kept) {
            if let (true, Some(m)) = (*n > 0, last.and_then(|i| self.out.get_mut(i))) {
                m.omitted = *n;
                m.title = format!(
                    "{} (and {n} more in this file, not listed: at most {MAX_MATCHES_PER_RULE} per rule and file)",
                    m.title
                );
            }
        }
        let all_kept = !self.skip && self.offset == 0;
        let seen = (all_kept && !self.out.is_empty()).then(|| whole(&self.buf));
        (std::mem::take(&mut self.out), seen)
    }

    /// Scan `w`, reporting matches that start before `limit` (or before a
    /// PEM block that does not end in `w`, which then starts the next
    /// window), then advance the position past what was reported on: the
    /// number of bytes consumed.
    pub(super) fn window(&mut self, w: &[u8], limit: usize) -> usize {
        let s = self.scanner;
        let limit = if limit < w.len() {
            unfinished_block(w, limit)
        } else {
            limit
        };
        let binary = *self
            .binary
            .get_or_insert_with(|| memchr::memchr(0, &w[..w.len().min(BINARY_PROBE)]).is_some());
        let keywords = if binary { &s.binary } else { &s.text };
        let wanted = keywords.wanted(w, s.rules.len());
        if limit < w.len() {
            // A later window may hold the rule's keyword and its match: note
            // the context now (a literal search, once per large file's window).
            for ((rule, seen), want) in s.rules.iter().zip(&mut self.context_seen).zip(&wanted) {
                if let (Some(context), false, false) = (&rule.context, *seen, *want) {
                    *seen = context.get().is_some_and(|c| c.is_match(w));
                }
            }
        }
        let mut hits: Vec<Hit> = Vec::new();
        // Bytes a rule took (start -> end): a more specific rule's match
        // keeps them from the later, generic ones.
        let mut claimed: BTreeMap<usize, usize> = BTreeMap::new();
        for ((ri, rule), _) in s.rules.iter().enumerate().zip(wanted).filter(|(_, w)| *w) {
            let Some(regex) = rule.regex.get() else {
                continue;
            };
            if let Some(context) = &rule.context {
                let seen = self.context_seen.get(ri).copied().unwrap_or(false)
                    || context.get().is_some_and(|c| c.is_match(w));
                if !seen {
                    continue;
                }
                if let Some(c) = self.context_seen.get_mut(ri) {
                    *c = true;
                }
            }
            for caps in regex.captures_iter(w) {
                let Some(m) = ["s", "s2", "s3"]
                    .iter()
                    .find_map(|g| caps.name(g))
                    .or_else(|| caps.get(0))
                else {
                    continue;
                };
                if m.start() >= limit {
                    break;
                }
                if overlaps(&claimed, m.start(), m.end()) {
                    continue;
                }
                let value = String::from_utf8_lossy(m.as_bytes());
                let host = caps.name("host").map(|h| h.as_bytes());
                let verdict = verdict(rule, &value, host);
                // A vendor format that fails its check (a bad checksum, a
                // documented example) is known not to be a secret: it keeps
                // its bytes from the generic rules too.
                let claims = !matches!(
                    rule.check,
                    Check::PrivateKey(_) | Check::Assignment { .. } | Check::UrlPassword
                );
                match verdict {
                    Some((title, severity)) => {
                        claimed.insert(m.start(), m.end());
                        hits.push(Hit {
                            rule: ri,
                            start: m.start(),
                            end: m.end(),
                            title,
                            severity,
                            value: value.into_owned(),
                        });
                    }
                    None if claims => {
                        claimed.insert(m.start(), m.end());
                    }
                    None => {}
                }
            }
        }
        hits.sort_by_key(|h| h.start);
        let (mut pos, mut line, mut line_start) = (0usize, self.line, self.line_start);
        for h in hits {
            let rule = &s.rules[h.rule];
            let fp = fingerprint(&rule.info.id, &h.value);
            if self.allowed(&rule.info.id, &h.value, &fp) {
                continue;
            }
            let kept = self.kept.get(h.rule).copied().unwrap_or(0);
            if kept >= MAX_MATCHES_PER_RULE && self.spans.is_none() {
                if let Some(n) = self.omitted.get_mut(h.rule) {
                    *n += 1;
                }
                continue;
            }
            for nl in memchr::memchr_iter(b'\n', &w[pos..h.start]) {
                line += 1;
                line_start = self.offset + (pos + nl + 1) as u64;
            }
            pos = h.start;
            let column = (self.offset + h.start as u64 - line_start) as usize + 1;
            if let Some(spans) = &mut self.spans {
                spans.push((
                    self.offset + h.start as u64,
                    self.offset + h.end as u64,
                    self.out.len(),
                ));
            }
            if let (Some(k), Some(last)) =
                (self.kept.get_mut(h.rule), self.last_kept.get_mut(h.rule))
            {
                *k += 1;
                *last = Some(self.out.len());
            }
            self.out.push(Match {
                rule_id: rule.info.id.clone(),
                severity: h.severity,
                title: h.title.unwrap_or_else(|| rule.info.title.clone()),
                line,
                column,
                redacted: redact(&h.value, rule.reveal),
                fingerprint: fp,
                omitted: 0,
            });
        }
        if limit == w.len() {
            // The last window: no later match needs the position.
            return limit;
        }
        let consumed = &w[..limit];
        self.line += memchr::memchr_iter(b'\n', consumed).count();
        if let Some(nl) = memchr::memrchr(b'\n', consumed) {
            self.line_start = self.offset + nl as u64 + 1;
        }
        self.offset += limit as u64;
        limit
    }

    pub(super) fn allowed(&self, rule: &str, value: &str, fp: &str) -> bool {
        rules::KNOWN_PUBLIC.contains(&fp)
            || self.scanner.allow.iter().any(|a| {
                a.rule.as_deref().is_none_or(|r| r == rule)
                    && a.path
                        .as_ref()
                        .is_none_or(|g| g.is_match(self.path.as_bytes()))
                    && a.value
                        .as_ref()
                        .is_none_or(|v| v.is_match(value.as_bytes()))
                    && a.fingerprint.as_deref().is_none_or(|f| f == fp)
            })
    }
}

impl Drop for FileScan<'_> {
    fn drop(&mut self) {
        self.scanner.return_buffer(std::mem::take(&mut self.buf));
    }
}
