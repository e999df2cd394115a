//! One pass over each layer: every entry's metadata for the merged tree, and
//! the facts of the files catalogers want. Layers come from the cache when
//! they were seen before.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use bosun_catalog::shipped::FileDigests;
use bosun_catalog::{
    Facts, FileIndex, FileRecord, IMAGE_CONTENT_BUDGET, Interest, LAYER_CONTENT_BUDGET, binary,
    content_limit, java, over_budget_message, over_limit_message,
};
use bosun_core::DigestWriter;
use bosun_core::digest::Algorithm;
use bosun_oci::image::Layer;
use bosun_oci::layer::{self, Entry, EntryKind, Rejected};
use bosun_oci::{ResolvedImage, Store};
use bosun_secret::{FileScan, Scanner};
use serde::{Deserialize, Serialize};

use crate::cache::LayerCache;
use crate::{Observer, ScanError, ScanOptions};

/// What one layer holds, as far as bosun cares. Cached per layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerAnalysis {
    /// Every entry, in tar order (for the merged tree).
    pub entries: Vec<Entry>,
    /// Facts of the regular files some analyzer wanted, by path.
    pub facts: Vec<(String, Facts)>,
    /// Entries skipped as unsafe.
    pub rejected: Vec<Rejected>,
    /// Secrets in the layer's regular files, by path (empty unless the
    /// secret scanner ran).
    pub secrets: Vec<(String, bosun_secret::Match)>,
    /// Of the files with secrets, those an OS package shipped exactly so
    /// (their digest is the one the package database in this layer lists:
    /// dpkg's `md5sums`, rpm's file digests): path and package, sorted.
    pub package_files: Vec<(String, String)>,
}

/// What is left of a budget of kept content (a layer's, a tree's).
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub left: u64,
    pub total: u64,
    /// "layer", "image", "directory tree": for messages.
    pub scope: &'static str,
}

impl Budget {
    pub fn new(total: u64, scope: &'static str) -> Budget {
        Budget {
            left: total,
            total,
            scope,
        }
    }
}

/// Analyse one file's content stream according to its interest.
pub fn analyze_file(path: &str, interest: Interest, size: u64, r: &mut dyn Read) -> Option<Facts> {
    let mut unbounded = Budget::new(u64::MAX, "file");
    analyze_file_within(path, interest, size, r, &mut unbounded)
}

/// [`analyze_file`], keeping content only within the file kind's own limit
/// ([`content_limit`]) and what is left of `budget`; a file over either
/// becomes [`Facts::Incomplete`] (never a silent loss), and is not read.
pub fn analyze_file_within(
    path: &str,
    interest: Interest,
    size: u64,
    r: &mut dyn Read,
    budget: &mut Budget,
) -> Option<Facts> {
    let res = match interest {
        Interest::Skip => return None,
        Interest::Content => {
            let (limit, _) = content_limit(path);
            if size > limit {
                return Some(Facts::Incomplete(over_limit_message(size, path)));
            }
            if size > budget.left {
                return Some(Facts::Incomplete(over_budget_message(
                    size,
                    budget.total,
                    budget.scope,
                )));
            }
            // The size said is not trusted (a directory file may grow):
            // read one byte more than allowed to tell.
            let allowed = limit.min(budget.left);
            let mut buf = Vec::with_capacity(size as usize);
            match r.take(allowed.saturating_add(1)).read_to_end(&mut buf) {
                Ok(n) if n as u64 > allowed => {
                    return Some(Facts::Incomplete(if n as u64 > limit {
                        over_limit_message(n as u64, path)
                    } else {
                        over_budget_message(n as u64, budget.total, budget.scope)
                    }));
                }
                Ok(n) => {
                    budget.left -= n as u64;
                    return Some(Facts::Content(buf));
                }
                Err(e) => return Some(Facts::Unreadable(format!("reading: {e}"))),
            }
        }
        Interest::Executable => binary::analyze_executable(r, size),
        Interest::JavaArchive => java::analyze_archive(path, r, size),
    };
    match res {
        Ok(f) => f,
        Err(e) => Some(Facts::Unreadable(bosun_core::text::chain(&e))),
    }
}

/// Hands every byte the analyzers read to the secret scanner as well, so a
/// file's content is read once for both; and to `keep`, when given.
struct Tee<'a, 's> {
    inner: &'a mut dyn Read,
    scan: &'a mut FileScan<'s>,
    keep: Option<&'a mut Vec<u8>>,
}

impl Read for Tee<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scan.feed(&buf[..n]);
        if let Some(k) = &mut self.keep {
            k.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

/// A package's `md5sums` larger than this is not kept (Debian's largest
/// lists are a few MiB), nor are more than `MD5SUMS_TOTAL` of them a layer.
/// (rpm databases are kept as content for the rpm cataloger anyway.)
const MD5SUMS_LIMIT: u64 = 16 << 20;
const MD5SUMS_TOTAL: usize = 256 << 20;

/// What one file gave the secret scanner.
#[derive(Default)]
struct Scanned {
    found: Vec<bosun_secret::Match>,
    /// Digests of the whole content, for a file with findings that was
    /// small enough to hold (see [`FileScan::finish_with`]).
    digests: Option<FileDigests>,
    /// The path and content of a dpkg `md5sums` list.
    md5sums: Option<(String, Vec<u8>)>,
}

/// Run the analyzer `interest` calls for and, with a scanner, search the
/// whole content for secrets in the same pass. `spare` is a reusable buffer
/// for the rest of a file kept whole; `lists_wanted` whether a dpkg
/// `md5sums` list is still worth keeping.
#[allow(clippy::too_many_arguments)]
fn analyze_and_scan(
    path: &str,
    interest: Interest,
    size: u64,
    content: &mut dyn Read,
    secrets: Option<&Scanner>,
    spare: &mut Vec<u8>,
    lists_wanted: bool,
    budget: &mut Budget,
) -> io::Result<(Option<Facts>, Scanned)> {
    let Some(scanner) = secrets.filter(|s| !s.skips(path)) else {
        return Ok((
            analyze_file_within(path, interest, size, content, budget),
            Scanned::default(),
        ));
    };
    let keep_list = lists_wanted
        && size <= MD5SUMS_LIMIT
        && bosun_catalog::dpkg::md5sums_package(path).is_some();
    let mut list = Vec::new();
    let mut scan = scanner.file(path);
    let mut tee = Tee {
        inner: content,
        scan: &mut scan,
        keep: keep_list.then_some(&mut list),
    };
    let facts = analyze_file_within(path, interest, size, &mut tee, budget);
    // The rest the analyzer did not read: through `spare` when it is kept
    // too, else straight into the scanner's buffer.
    if tee.keep.is_some() {
        spare.resize(256 << 10, 0);
        loop {
            match tee.read(spare) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    } else {
        scan.read_from(content)?;
    }
    let (found, digests) = scan.finish_with(FileDigests::of);
    Ok((
        facts,
        Scanned {
            found,
            digests,
            md5sums: keep_list.then(|| (path.to_string(), list)),
        },
    ))
}

/// Walk a decompressed layer tar.
pub fn analyze_tar(r: impl Read, what: &str) -> Result<LayerAnalysis, ScanError> {
    analyze_tar_with(r, what, None)
}

/// Walk a decompressed layer tar, searching every regular file for secrets
/// when given a scanner.
pub fn analyze_tar_with(
    r: impl Read,
    what: &str,
    secrets: Option<&Scanner>,
) -> Result<LayerAnalysis, ScanError> {
    let mut a = LayerAnalysis::default();
    let mut rejected = Vec::new();
    let mut spare = Vec::new();
    let mut shipped = ShippedCheck::default();
    let mut budget = Budget::new(LAYER_CONTENT_BUDGET, "layer");
    layer::walk(
        r,
        what,
        |e, content| {
            if e.kind == EntryKind::File {
                let interest = bosun_catalog::interest(&e.path, e.mode, e.size);
                let lists_wanted = shipped.wants_lists();
                let (facts, scanned) = analyze_and_scan(
                    &e.path,
                    interest,
                    e.size,
                    content,
                    secrets,
                    &mut spare,
                    lists_wanted,
                    &mut budget,
                )?;
                if let Some(f) = facts {
                    a.facts.push((e.path.clone(), f));
                }
                let found = shipped.add(&e.path, scanned);
                a.secrets
                    .extend(found.into_iter().map(|m| (e.path.clone(), m)));
            }
            a.entries.push(e.clone());
            Ok(())
        },
        |r| rejected.push(r),
    )?;
    a.rejected = rejected;
    let rpm_dbs = a.facts.iter().filter_map(|(p, f)| match f {
        Facts::Content(bytes) if bosun_catalog::rpm::is_database(p) => {
            Some((p.as_str(), bytes.as_slice()))
        }
        _ => None,
    });
    a.package_files = shipped.finish(rpm_dbs);
    Ok(a)
}

/// Tells the files with secrets that an OS package shipped exactly so from
/// those a builder wrote or changed: collects dpkg `md5sums` lists and the
/// digests of the files with findings, then matches them against those
/// lists and the rpm databases.
#[derive(Default)]
struct ShippedCheck {
    lists: Vec<(String, Vec<u8>)>,
    lists_size: usize,
    digests: HashMap<String, FileDigests>,
}

impl ShippedCheck {
    fn wants_lists(&self) -> bool {
        self.lists_size < MD5SUMS_TOTAL
    }

    /// Take what one file gave; its findings come back.
    fn add(&mut self, path: &str, scanned: Scanned) -> Vec<bosun_secret::Match> {
        if let Some(list) = scanned.md5sums.filter(|_| self.wants_lists()) {
            self.lists_size += list.1.len();
            self.lists.push(list);
        }
        match scanned.digests {
            Some(d) => self.digests.insert(path.to_string(), d),
            // A later entry at the same path replaces the earlier.
            None => self.digests.remove(path),
        };
        scanned.found
    }

    /// Path and package, sorted by path; `rpm_dbs` are the rpm databases
    /// (path and bytes) beside the lists.
    fn finish<'a>(
        &'a self,
        rpm_dbs: impl Iterator<Item = (&'a str, &'a [u8])>,
    ) -> Vec<(String, String)> {
        let lists = self.lists.iter().map(|(p, l)| (p.as_str(), l.as_slice()));
        let dbs = rpm_dbs.chain(lists);
        let mut out: Vec<_> = bosun_catalog::shipped::unmodified(dbs, &self.digests)
            .into_iter()
            .collect();
        out.sort();
        out
    }
}

/// Counts compressed bytes for progress reporting.
struct Counting<'a, R> {
    inner: R,
    observer: &'a dyn Observer,
    index: usize,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.observer.layer_progress(self.index, n as u64);
        Ok(n)
    }
}

/// Hashes what passes through (the uncompressed tar, for its diff_id) when
/// asked to.
struct Hashing<R> {
    inner: R,
    hasher: Option<DigestWriter>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

fn analyze_one(
    store: &dyn Store,
    index: usize,
    layer: &Layer,
    verify_diff_id: bool,
    secrets: Option<&Scanner>,
    observer: &dyn Observer,
) -> Result<LayerAnalysis, ScanError> {
    let what = format!("{} layer {}", store.describe(), layer.descriptor.digest);
    std::thread::scope(|s| {
        // Three stages: reading and hashing the blob, inflating it, walking
        // the tar. Inflating is the one sequential cost, so it gets a thread
        // to itself; the blob digest is checked on the reader thread.
        let compressed = crate::pipe::spawn(s, || {
            let blob = store
                .blob(&layer.descriptor)
                .map_err(|e| io::Error::other(e.to_string()))?;
            Ok(Counting {
                inner: blob,
                observer,
                index,
            })
        });
        let tar = crate::pipe::spawn(s, move || {
            let (r, _) = layer::decompress(compressed, layer.compression)?;
            Ok(r)
        });
        let check_diff_id = verify_diff_id && layer.diff_id.algorithm() == Algorithm::Sha256;
        let mut hashing = Hashing {
            inner: tar,
            hasher: check_diff_id.then(|| DigestWriter::new(Algorithm::Sha256)),
        };
        let analysis = analyze_tar_with(&mut hashing, &what, secrets)?;
        // Read to the very end: the blob's digest is only checked at EOF,
        // and the diff_id covers the tar's trailing padding too.
        io::copy(&mut hashing, &mut io::sink()).map_err(|source| ScanError::Io {
            what: what.clone(),
            source,
        })?;
        if let Some(h) = hashing.hasher {
            let actual = h.finish();
            if actual != layer.diff_id {
                return Err(ScanError::DiffIdMismatch {
                    layer: what,
                    expected: layer.diff_id.clone(),
                    actual,
                });
            }
        }
        Ok(analysis)
    })
}

/// Analyse every layer of `image`, several at a time, using the cache;
/// with `opts.secrets`, also search every file of every layer for secrets.
pub fn analyze_layers(
    store: &dyn Store,
    image: &ResolvedImage,
    opts: &ScanOptions,
    observer: &dyn Observer,
) -> Result<Vec<LayerAnalysis>, ScanError> {
    let scanner = opts
        .secrets
        .then(|| Scanner::new(&opts.secret_config))
        .transpose()?;
    analyze_layers_with(store, image, opts, scanner.as_ref(), observer)
}

pub(crate) fn analyze_layers_with(
    store: &dyn Store,
    image: &ResolvedImage,
    opts: &ScanOptions,
    secrets: Option<&Scanner>,
    observer: &dyn Observer,
) -> Result<Vec<LayerAnalysis>, ScanError> {
    let cache = opts.cache_dir.as_deref().map(LayerCache::new);
    let n = image.layers.len();
    let results: Vec<Mutex<Option<Result<LayerAnalysis, ScanError>>>> =
        (0..n).map(|_| Mutex::new(None)).collect();
    // Biggest layers first, so the longest job starts at once.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(image.layers[i].descriptor.size));
    let next = AtomicUsize::new(0);
    let spent = Mutex::new(0u64);
    let workers = opts.parallel_layers.clamp(1, n.max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&i) = order.get(k) else { break };
                    let layer = &image.layers[i];
                    observer.layer_started(i, &layer.descriptor.digest, layer.descriptor.size);
                    let key = LayerCache::key_for(
                        &layer.descriptor.digest,
                        &layer.diff_id,
                        secrets.map(Scanner::fingerprint),
                    );
                    if let Some(mut hit) = cache.as_ref().and_then(|c| c.get(&key)) {
                        charge_image_budget(&mut hit, &spent);
                        observer.layer_finished(i, true);
                        *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(Ok(hit));
                        continue;
                    }
                    let mut res =
                        analyze_one(store, i, layer, opts.verify_diff_ids, secrets, observer);
                    if let (Ok(a), Some(c)) = (&res, &cache)
                        && let Err(e) = c.put(&key, a)
                    {
                        tracing::warn!("could not write the layer cache: {e}");
                    }
                    // After caching: the layer's own facts are cached whole,
                    // the image's budget is applied per image.
                    if let Ok(a) = &mut res {
                        charge_image_budget(a, &spent);
                    }
                    observer.layer_finished(i, false);
                    *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(res);
                }
            });
        }
    });
    results
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            m.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| {
                    Err(ScanError::Target {
                        target: image.layers[i].descriptor.digest.to_string(),
                        message: "layer was not analysed".into(),
                    })
                })
        })
        .collect()
}

/// Keep the content an image's layers hold for the catalogers within
/// [`IMAGE_CONTENT_BUDGET`]: each layer is charged as it finishes, and
/// content past the budget becomes [`Facts::Incomplete`] (the scan says it
/// is incomplete). Layers run in parallel, so on an image over the budget
/// which files are left out may vary between runs; that it is reported
/// does not.
fn charge_image_budget(a: &mut LayerAnalysis, spent: &Mutex<u64>) {
    let mut spent = spent.lock().unwrap_or_else(|p| p.into_inner());
    for (_, f) in a.facts.iter_mut() {
        if let Facts::Content(bytes) = f {
            let n = bytes.len() as u64;
            if spent.saturating_add(n) > IMAGE_CONTENT_BUDGET {
                *f = Facts::Incomplete(over_budget_message(n, IMAGE_CONTENT_BUDGET, "image"));
            } else {
                *spent += n;
            }
        }
    }
}

/// Directories the kernel fills in: never part of what is installed.
const VIRTUAL_DIRS: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Analyse a directory tree (an unpacked root filesystem or a project).
/// Symlinks are recorded, never followed.
pub fn analyze_dir(root: &Path) -> Result<FileIndex, ScanError> {
    analyze_dir_with(root, None).map(|d| d.index)
}

/// [`analyze_dir`], also searching every regular file for secrets when
/// given a scanner; secrets come back by path.
pub fn analyze_dir_with(root: &Path, secrets: Option<&Scanner>) -> Result<DirAnalysis, ScanError> {
    let meta = std::fs::metadata(root).map_err(|source| ScanError::Io {
        what: root.display().to_string(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(ScanError::Target {
            target: root.display().to_string(),
            message: "not a directory".into(),
        });
    }
    let is_fs_root = root.canonicalize().is_ok_and(|p| p == Path::new("/"));
    let mut index = FileIndex::with_scope(bosun_catalog::Scope::Directory);
    let mut unreadable: HashMap<String, String> = HashMap::new();
    // The walk lists the files to read; reading, analysing and searching
    // them runs on every core (a project tree is mostly I/O and secret
    // search), and results are taken in walk order, so output is stable.
    // Content kept for the whole tree is budgeted in walk order, from the
    // sizes the walk sees, so which files are left out never depends on
    // which thread read first.
    let mut jobs: Vec<(String, std::path::PathBuf, Interest, u64, u64)> = Vec::new();
    let mut tree_left = IMAGE_CONTENT_BUDGET;
    let walker = walkdir::WalkDir::new(root).follow_links(false).into_iter();
    let walker = walker.filter_entry(|e| {
        !(is_fs_root && e.depth() == 1 && VIRTUAL_DIRS.iter().any(|v| e.path() == Path::new(v)))
    });
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let p = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                unreadable.insert(p, e.to_string());
                continue;
            }
        };
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let path = format!("/{}", rel.to_string_lossy());
        let ft = entry.file_type();
        if ft.is_symlink() {
            if let Ok(t) = std::fs::read_link(entry.path()) {
                index.insert_symlink(path, t.to_string_lossy().into_owned());
            }
            continue;
        }
        if !ft.is_file() {
            continue;
        }
        let Ok(md) = entry.metadata() else { continue };
        use std::os::unix::fs::PermissionsExt;
        let interest = bosun_catalog::interest(&path, md.permissions().mode(), md.len());
        if interest == Interest::Skip && secrets.is_none_or(|s| s.skips(&path)) {
            continue;
        }
        let mut allowance = 0;
        // A file over the tree's budget gets none: it is not read at all.
        if interest == Interest::Content
            && md.len() <= content_limit(&path).0
            && md.len() <= tree_left
        {
            allowance = md.len();
            tree_left -= md.len();
        }
        jobs.push((path, entry.into_path(), interest, md.len(), allowance));
    }
    type Outcome = Result<(Option<Facts>, Scanned), (bool, String)>;
    let outcomes: Vec<std::sync::OnceLock<Outcome>> =
        jobs.iter().map(|_| std::sync::OnceLock::new()).collect();
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut spare = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let (Some((path, full, interest, size, allowance)), Some(slot)) =
                        (jobs.get(i), outcomes.get(i))
                    else {
                        break;
                    };
                    let mut budget = Budget {
                        left: *allowance,
                        total: IMAGE_CONTENT_BUDGET,
                        scope: "directory tree",
                    };
                    let outcome = match std::fs::File::open(full) {
                        Ok(mut f) => analyze_and_scan(
                            path,
                            *interest,
                            *size,
                            &mut f,
                            secrets,
                            &mut spare,
                            true,
                            &mut budget,
                        )
                        .map_err(|e| (false, format!("reading: {e}"))),
                        Err(e) => Err((true, format!("opening: {e}"))),
                    };
                    let _ = slot.set(outcome);
                }
            });
        }
    });
    let mut found = Vec::new();
    let mut shipped = ShippedCheck::default();
    for ((path, ..), outcome) in jobs.into_iter().zip(outcomes) {
        let facts = match outcome.into_inner() {
            Some(Ok((facts, scanned))) => {
                let matches = shipped.add(&path, scanned);
                found.extend(matches.into_iter().map(|m| (path.clone(), m)));
                facts
            }
            Some(Err((true, msg))) => Some(Facts::Unreadable(msg)),
            Some(Err((false, msg))) => {
                unreadable.insert(path.clone(), msg);
                None
            }
            None => None,
        };
        if let Some(facts) = facts {
            index.insert(FileRecord {
                path,
                layer: None,
                facts,
            });
        }
    }
    for (path, msg) in unreadable {
        tracing::warn!("{path}: {msg}");
    }
    let rpm_dbs =
        index.files().filter_map(
            |r| match (&r.facts, bosun_catalog::rpm::is_database(&r.path)) {
                (Facts::Content(bytes), true) => Some((r.path.as_str(), bytes.as_slice())),
                _ => None,
            },
        );
    let package_files = shipped.finish(rpm_dbs);
    Ok(DirAnalysis {
        index,
        secrets: found,
        package_files,
    })
}

/// What [`analyze_dir_with`] found.
pub struct DirAnalysis {
    pub index: FileIndex,
    /// Secrets by path, in walk order.
    pub secrets: Vec<(String, bosun_secret::Match)>,
    /// As [`LayerAnalysis::package_files`], for the whole tree.
    pub package_files: Vec<(String, String)>,
}
