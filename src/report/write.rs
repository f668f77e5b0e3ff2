//! The only code that writes results to disk, and the rules that keep a user's files safe.
//!
//! Every write is a transaction on one folder:
//! - **Ownership.** A folder loyalsim writes holds `.loyalsim-output`, a manifest of the files
//!   loyalsim wrote there (by "set": one command's results, or one single file) and the
//!   command and version that wrote them. A file that is not in the manifest is the user's:
//!   it is never replaced or deleted. An output folder (`--out DIR`) must be absent, empty or
//!   hold the manifest; otherwise the write is refused (`--force` lets loyalsim add its files
//!   to such a folder, still without touching the others).
//! - **Atomicity.** New files are staged completely in `.loyalsim-tx/` inside the folder
//!   (same file system, so renames are atomic) before any old file moves. Installing moves
//!   each replaced file into the transaction, and the new manifest is renamed into place last:
//!   that rename is the commit point. A failed write (full disk, a refused file) removes its
//!   staging and leaves the previous results as they were. A killed write leaves
//!   `.loyalsim-tx/`; the next write to that folder finds it and rolls back to the previous
//!   results (before the commit point) or finishes the clean-up (after it).
//! - **Concurrency.** The manifest is locked for the whole transaction, so sweep shards that
//!   write their partials into one shared folder do not lose each other's entries.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::{Error, Result};

/// File name of the manifest that marks a folder as written by loyalsim.
pub const MARKER: &str = ".loyalsim-output";
/// Staging folder of a transaction in progress (or of one that was killed).
const TX: &str = ".loyalsim-tx";
/// The set of a command's results folder (run, sweep, merge, ab simulate).
pub const RESULTS_SET: &str = "results";

static FORCE: AtomicBool = AtomicBool::new(false);

/// `--force`: allow adding loyalsim's files to a folder it did not create and replacing files
/// it did not write. One decision of the user for every write of the process, so it is held
/// here rather than passed through every command.
pub fn set_force(force: bool) {
    FORCE.store(force, Ordering::Relaxed);
}

fn forced() -> bool {
    FORCE.load(Ordering::Relaxed)
}

/// The files of one output folder, as relative paths (may contain `/`) and bytes.
#[derive(Debug, Default, Clone)]
pub struct OutputFiles {
    files: Vec<(PathBuf, Vec<u8>)>,
}

impl OutputFiles {
    /// An empty set of files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a file; `rel` is relative to the output folder.
    pub fn add(&mut self, rel: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) {
        self.files.push((rel.into(), bytes.into()));
    }

    /// Relative paths in the order they were added.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(p, _)| p.as_path())
    }

    /// The bytes of one file, if present.
    pub fn get(&self, rel: impl AsRef<Path>) -> Option<&[u8]> {
        let rel = rel.as_ref();
        self.files
            .iter()
            .find(|(p, _)| p == rel)
            .map(|(_, b)| b.as_slice())
    }

    /// Write these files as a command's results into `dir` (see the module docs): files of
    /// an earlier results set that this one does not have are removed, everything else that
    /// is in the folder stays.
    pub fn write_atomic(&self, dir: &Path) -> Result<()> {
        let mut batch = WriteBatch::default();
        batch.folder(dir, self);
        batch.commit()
    }
}

/// Write one file atomically. Its folder gets (or updates) the manifest, so the file can be
/// replaced by a later write; an existing file loyalsim did not write is refused.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut batch = WriteBatch::default();
    batch.file(path, bytes.to_vec());
    batch.commit()
}

/// Write several single files (possibly in different folders) as one unit.
pub fn write_files_atomic(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let mut batch = WriteBatch::default();
    for (path, bytes) in files {
        batch.file(path, bytes.clone());
    }
    batch.commit()
}

/// Everything one command writes: output folders and single files. Every file is staged
/// before any is installed, so a full disk or a refused file writes none of them.
#[derive(Debug, Default)]
pub struct WriteBatch {
    writes: Vec<PendingWrite>,
}

/// One set of files bound for one folder.
#[derive(Debug)]
struct PendingWrite {
    dir: PathBuf,
    /// Written as an output folder (must be absent, empty or loyalsim's).
    claim: bool,
    set: String,
    /// Paths relative to `dir`, and bytes.
    files: Vec<(PathBuf, Vec<u8>)>,
    /// Remove the set's earlier files that this write does not have.
    replace: bool,
}

impl WriteBatch {
    /// Add a results folder (as [`OutputFiles::write_atomic`]).
    pub fn folder(&mut self, dir: &Path, files: &OutputFiles) {
        self.writes.push(PendingWrite {
            dir: dir.to_path_buf(),
            claim: true,
            set: RESULTS_SET.to_string(),
            files: files.files.clone(),
            replace: true,
        });
    }

    /// Add a single file.
    pub fn file(&mut self, path: &Path, bytes: Vec<u8>) {
        let name = path.file_name().map(PathBuf::from).unwrap_or_default();
        let set = format!("file:{}", name.display());
        self.writes.push(PendingWrite {
            dir: parent_of(path),
            claim: false,
            set,
            files: vec![(name, bytes)],
            replace: false,
        });
    }

    /// Stage everything, then install everything.
    pub fn commit(mut self) -> Result<()> {
        // A fixed order of folders, so two processes never wait on each other's locks in a
        // cycle; writes to one folder share its transaction.
        // Folders are compared by their canonical path: `/tmp/x/a.json` and `b.toml` run in
        // /tmp/x name one folder, and two transactions on it would wait on each other's lock.
        let key = |w: &PendingWrite| fs::canonicalize(&w.dir).unwrap_or_else(|_| w.dir.clone());
        self.writes.sort_by_cached_key(key);
        let mut txs: Vec<(PathBuf, Transaction)> = Vec::new();
        for w in &self.writes {
            if w.files.iter().any(|(f, _)| f.as_os_str().is_empty()) {
                return Err(Error::Usage(format!(
                    "{}: not a usable file name",
                    w.dir.display()
                )));
            }
            let k = key(w);
            let tx = match txs.iter_mut().find(|(d, _)| *d == k) {
                Some((_, tx)) => tx,
                None => {
                    txs.push((k, Transaction::begin(&w.dir, w.claim)?));
                    &mut txs.last_mut().expect("just pushed").1
                }
            };
            tx.stage(&w.set, &w.files, w.replace)?;
        }
        txs.into_iter().try_for_each(|(_, tx)| tx.install())
    }
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The manifest: which files of the folder loyalsim wrote, by set.
#[derive(Debug, Default, Clone, PartialEq)]
struct Manifest {
    /// (set, path relative to the folder, with `/`).
    files: BTreeSet<(String, String)>,
    /// (set, the command line and version that wrote it).
    writers: BTreeSet<(String, String)>,
}

impl Manifest {
    fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut m = Manifest::default();
        for (i, line) in text.lines().enumerate() {
            let cols: Vec<&str> = line.split('\t').collect();
            match cols.as_slice() {
                ["file", set, rel] => m.files.insert((set.to_string(), rel.to_string())),
                ["set", set, by] => m.writers.insert((set.to_string(), by.to_string())),
                _ if line.starts_with('#') || line.trim().is_empty() => true,
                _ => {
                    return Err(Error::Other(format!(
                        "{}:{}: not a loyalsim manifest line; leave this folder's files as they are, or remove {MARKER} by hand if the folder is no longer loyalsim's",
                        path.display(),
                        i + 1
                    )))
                }
            };
        }
        Ok(m)
    }

    fn render(&self) -> String {
        let mut s = String::from(
            "# loyalsim output folder: the files below were written by loyalsim, which replaces only these.\n",
        );
        for (set, by) in &self.writers {
            s.push_str(&format!("set\t{set}\t{by}\n"));
        }
        for (set, rel) in &self.files {
            s.push_str(&format!("file\t{set}\t{rel}\n"));
        }
        s
    }

    fn owns(&self, rel: &str) -> bool {
        self.files.iter().any(|(_, r)| r == rel)
    }

    fn set_files(&self, set: &str) -> Vec<String> {
        self.files
            .iter()
            .filter(|(s, _)| s == set)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// This manifest with `set` replaced by `files`.
    fn with_set(&self, set: &str, files: &[String]) -> Self {
        let mut m = self.clone();
        m.files.retain(|(s, r)| s != set && !files.contains(r));
        m.writers.retain(|(s, _)| s != set);
        m.files
            .extend(files.iter().map(|r| (set.to_string(), r.clone())));
        m.writers.insert((set.to_string(), writer()));
        m.writers
            .retain(|(s, _)| m.files.iter().any(|(fs, _)| fs == s));
        m
    }
}

/// The command and version, for the manifest. Only the subcommand, not the whole command
/// line, so that the same results written with other flags (threads, output folder) leave
/// the same manifest.
fn writer() -> String {
    let command: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .take(2)
        .filter(|a| a.chars().all(|c| c.is_ascii_lowercase()))
        .collect();
    format!(
        "loyalsim {} {}",
        env!("CARGO_PKG_VERSION"),
        command.join(" ")
    )
}

/// A relative output path as the manifest writes it, refusing escapes from the folder.
fn manifest_path(rel: &Path) -> Result<String> {
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            _ => {
                return Err(Error::Other(format!(
                    "{}: output paths must stay inside the output folder",
                    rel.display()
                )))
            }
        }
    }
    let s = parts.join("/");
    if s.is_empty() || s.contains(['\t', '\n']) || s == MARKER || s.starts_with(TX) {
        return Err(Error::Other(format!(
            "{}: not a usable output file name",
            rel.display()
        )));
    }
    Ok(s)
}

/// One write into one folder, holding the folder's manifest lock from start to end.
struct Transaction {
    dir: PathBuf,
    /// The open, locked manifest (the lock is released when it is dropped).
    _lock: File,
    created_marker: bool,
    old: Manifest,
    new: Manifest,
    /// Files to install (relative, `/`-separated) and old files of the set to remove.
    install: Vec<String>,
    stale: Vec<String>,
    staged: bool,
    committed: bool,
}

impl Transaction {
    /// Open `dir` for writing: check that it may be written (`claim`: as an output folder,
    /// which must be absent, empty or loyalsim's), lock it and finish any killed write.
    fn begin(dir: &Path, claim: bool) -> Result<Self> {
        prepare_folder(dir, claim)?;
        let (lock, created_marker) = lock_manifest(dir)?;
        recover(dir)?;
        let marker = dir.join(MARKER);
        let text = fs::read_to_string(&marker).map_err(|e| Error::io(&marker, e))?;
        let old = Manifest::parse(&text, &marker)?;
        Ok(Transaction {
            dir: dir.to_path_buf(),
            _lock: lock,
            created_marker,
            new: old.clone(),
            old,
            install: Vec::new(),
            stale: Vec::new(),
            staged: false,
            committed: false,
        })
    }

    /// Write `files` into the staging folder as set `set`; nothing outside it changes yet.
    /// `replace_set`: files of the set's previous write that are not rewritten are removed.
    fn stage(&mut self, set: &str, files: &[(PathBuf, Vec<u8>)], replace_set: bool) -> Result<()> {
        let rels = files
            .iter()
            .map(|(rel, _)| manifest_path(rel))
            .collect::<Result<Vec<_>>>()?;
        for rel in &rels {
            self.check_replaceable(rel)?;
        }
        let result = self.stage_files(files, &rels);
        if let Err(e) = result {
            let _ = fs::remove_dir_all(self.dir.join(TX));
            return Err(e);
        }
        if replace_set {
            self.stale.extend(
                self.old
                    .set_files(set)
                    .into_iter()
                    .filter(|r| !rels.contains(r) && self.dir.join(r).is_file()),
            );
        }
        self.new = self.new.with_set(set, &rels);
        self.install.extend(rels);
        self.staged = true;
        Ok(())
    }

    fn stage_files(&self, files: &[(PathBuf, Vec<u8>)], rels: &[String]) -> Result<()> {
        let new = self.dir.join(TX).join("new");
        for ((_, bytes), rel) in files.iter().zip(rels) {
            let path = new.join(rel);
            if let Some(p) = path.parent() {
                fs::create_dir_all(p).map_err(|e| Error::io(p, e))?;
            }
            fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
        }
        Ok(())
    }

    /// A file may be replaced if it does not exist, or loyalsim wrote it, or `--force`.
    fn check_replaceable(&self, rel: &str) -> Result<()> {
        let target = self.dir.join(rel);
        match fs::symlink_metadata(&target) {
            Err(_) => Ok(()),
            Ok(m) if m.is_dir() => Err(Error::Other(format!(
                "{}: is a folder; loyalsim would write a file there. Choose another output folder",
                target.display()
            ))),
            Ok(_) if self.old.owns(rel) || forced() => Ok(()),
            Ok(_) => Err(Error::Other(format!(
                "{}: exists and was not written by loyalsim, so it is left alone and nothing was written; move it away, choose another output, or pass --force to replace it",
                target.display()
            ))),
        }
    }

    /// Move the staged files into place, then commit by renaming the new manifest.
    fn install(mut self) -> Result<()> {
        let tx = self.dir.join(TX);
        // The staged manifest's presence marks "not committed": renaming it over the folder's
        // manifest is the commit point, so a later write knows which way to recover.
        let journal = Journal {
            manifest: self.new.render(),
            install: self.install.clone(),
            stale: self.stale.clone(),
        };
        let staged_manifest = tx.join("manifest");
        write_new_file(&staged_manifest, journal.manifest.as_bytes())?;
        write_new_file(&tx.join("journal"), journal.render().as_bytes())?;
        if let Err(e) = self.move_files(&tx) {
            let _ = rollback(&self.dir, &journal);
            return Err(e);
        }
        let marker = self.dir.join(MARKER);
        if let Err(e) = fs::rename(&staged_manifest, &marker) {
            let _ = rollback(&self.dir, &journal);
            return Err(Error::io(marker, e));
        }
        self.committed = true;
        let _ = fs::remove_dir_all(&tx);
        Ok(())
    }

    fn move_files(&self, tx: &Path) -> Result<()> {
        for rel in self.install.iter().chain(&self.stale) {
            let target = self.dir.join(rel);
            if target.exists() {
                move_into(&target, &tx.join("old").join(rel))?;
            }
        }
        for rel in &self.install {
            move_into(&tx.join("new").join(rel), &self.dir.join(rel))?;
        }
        Ok(())
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        if self.staged {
            let _ = fs::remove_dir_all(self.dir.join(TX));
        }
        if self.created_marker && self.old == Manifest::default() {
            let _ = fs::remove_file(self.dir.join(MARKER));
        }
    }
}

/// What a transaction is about to do, written before the first old file moves, so that a
/// later write can undo a killed one.
struct Journal {
    manifest: String,
    install: Vec<String>,
    stale: Vec<String>,
}

impl Journal {
    fn render(&self) -> String {
        let mut s = String::new();
        for r in &self.install {
            s.push_str(&format!("install\t{r}\n"));
        }
        for r in &self.stale {
            s.push_str(&format!("stale\t{r}\n"));
        }
        s.push_str("manifest\n");
        s.push_str(&self.manifest);
        s
    }

    fn parse(text: &str) -> Option<Self> {
        let (head, manifest) = text.split_once("manifest\n")?;
        let mut j = Journal {
            manifest: manifest.to_string(),
            install: Vec::new(),
            stale: Vec::new(),
        };
        for line in head.lines() {
            match line.split_once('\t')? {
                ("install", r) => j.install.push(r.to_string()),
                ("stale", r) => j.stale.push(r.to_string()),
                _ => return None,
            }
        }
        Some(j)
    }
}

/// Check that `dir` can be an output folder, and create it if it is absent.
fn prepare_folder(dir: &Path, claim: bool) -> Result<()> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::Other(format!(
                "{}: exists and is not a folder; nothing was written (choose a folder path for the output)",
                dir.display()
            )))
        }
        Err(_) if fs::symlink_metadata(dir).is_ok() => {
            return Err(Error::Other(format!(
                "{}: is a broken symbolic link; nothing was written",
                dir.display()
            )))
        }
        Err(_) => return fs::create_dir_all(dir).map_err(|e| Error::io(dir, e)),
    }
    if !claim || dir.join(MARKER).exists() || forced() {
        return Ok(());
    }
    let mut entries = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    if entries.next().is_some() {
        return Err(Error::Other(format!(
            "{}: the folder is not empty and was not written by loyalsim (it has no {MARKER}), so nothing was written. Choose a new or empty folder, or pass --force to add loyalsim's files to it (files loyalsim did not write are never removed)",
            dir.display()
        )));
    }
    Ok(())
}

/// Open and lock the folder's manifest, creating an empty one if there is none. After the
/// lock is taken, the path must still name the locked file: a committing writer renames a
/// new manifest over it, and a waiter holding the old one must open the new one.
fn lock_manifest(dir: &Path) -> Result<(File, bool)> {
    let path = dir.join(MARKER);
    loop {
        let created = !path.exists();
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        file.lock().map_err(|e| Error::io(&path, e))?;
        if same_file(&file, &path) {
            return Ok((file, created));
        }
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// Finish a write that was killed: before its commit point, put the previous files back;
/// after it, only the staging folder is left to remove.
fn recover(dir: &Path) -> Result<()> {
    let tx = dir.join(TX);
    if !tx.exists() {
        return Ok(());
    }
    let journal = fs::read_to_string(tx.join("journal"))
        .ok()
        .and_then(|t| Journal::parse(&t));
    if let Some(j) = journal {
        if tx.join("manifest").exists() {
            rollback(dir, &j)?;
        }
    }
    fs::remove_dir_all(&tx).map_err(|e| Error::io(&tx, e))
}

/// Undo the moves of an uncommitted transaction (under the folder's lock).
fn rollback(dir: &Path, j: &Journal) -> Result<()> {
    let tx = dir.join(TX);
    for rel in &j.install {
        let target = dir.join(rel);
        let old = tx.join("old").join(rel);
        if old.exists() {
            move_into(&old, &target)?;
        } else if !tx.join("new").join(rel).exists() && target.exists() {
            // Installed by the killed write where nothing stood before.
            fs::remove_file(&target).map_err(|e| Error::io(&target, e))?;
        }
    }
    for rel in &j.stale {
        let old = tx.join("old").join(rel);
        if old.exists() {
            move_into(&old, &dir.join(rel))?;
        }
    }
    Ok(())
}

fn move_into(from: &Path, to: &Path) -> Result<()> {
    if let Some(p) = to.parent() {
        fs::create_dir_all(p).map_err(|e| Error::io(p, e))?;
    }
    fs::rename(from, to).map_err(|e| Error::io(to, e))
}

fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).map_err(|e| Error::io(p, e))?;
    }
    fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> OutputFiles {
        let mut f = OutputFiles::new();
        for (p, b) in list {
            f.add(*p, *b);
        }
        f
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_own_files_and_keeps_foreign_ones() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("run");
        files(&[("a.txt", "1"), ("charts/x.svg", "<svg/>")])
            .write_atomic(&dir)
            .unwrap();
        fs::write(dir.join("notes.txt"), "mine").unwrap();
        files(&[("b.txt", "2")]).write_atomic(&dir).unwrap();
        assert!(!dir.join("a.txt").exists(), "stale results are removed");
        assert!(!dir.join("charts/x.svg").exists());
        assert_eq!(fs::read_to_string(dir.join("b.txt")).unwrap(), "2");
        assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
        assert_eq!(listing(&dir), [MARKER, "b.txt", "charts", "notes.txt"]);
        assert_eq!(
            listing(root.path()),
            ["run"],
            "nothing left beside the folder"
        );
    }

    #[test]
    fn refuses_a_foreign_folder_and_a_foreign_file() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("thesis.tex"), "x").unwrap();
        let err = files(&[("a.txt", "1")])
            .write_atomic(root.path())
            .unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(listing(root.path()), ["thesis.tex"], "nothing was touched");
        let err = write_file_atomic(&root.path().join("thesis.tex"), b"y").unwrap_err();
        assert!(err.to_string().contains("not written by loyalsim"), "{err}");
        assert_eq!(
            fs::read_to_string(root.path().join("thesis.tex")).unwrap(),
            "x"
        );
        assert_eq!(listing(root.path()), ["thesis.tex"]);
    }

    #[test]
    fn single_files_can_be_rewritten_and_coexist_with_results() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path().join("rfm.csv");
        write_file_atomic(&p, b"1").unwrap();
        write_file_atomic(&p, b"2").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "2");
        let part = root.path().join("parts/partial-0-of-2.json");
        write_file_atomic(&part, b"{}").unwrap();
        files(&[("sweep.csv", "x")])
            .write_atomic(&root.path().join("parts"))
            .unwrap();
        assert!(
            part.exists(),
            "merging into the partials folder keeps the partials"
        );
    }

    #[test]
    fn writes_through_a_symlinked_folder_and_refuses_a_file() {
        let root = tempfile::tempdir().unwrap();
        let real = root.path().join("real");
        fs::create_dir(&real).unwrap();
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        files(&[("a.txt", "1")]).write_atomic(&link).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(real.join("a.txt").exists());
        let file = root.path().join("f");
        fs::write(&file, "keep").unwrap();
        assert!(files(&[("a.txt", "1")]).write_atomic(&file).is_err());
        assert_eq!(fs::read_to_string(&file).unwrap(), "keep");
        assert_eq!(listing(root.path()), ["f", "link", "real"]);
    }

    #[test]
    fn a_killed_write_is_rolled_back_by_the_next_one() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("run");
        files(&[("a.txt", "old"), ("b.txt", "old")])
            .write_atomic(&dir)
            .unwrap();
        // Simulate a write killed after moving a.txt aside and installing the new a.txt.
        let tx = dir.join(TX);
        let j = Journal {
            manifest: "different".into(),
            install: vec!["a.txt".into(), "b.txt".into()],
            stale: vec![],
        };
        write_new_file(&tx.join("journal"), j.render().as_bytes()).unwrap();
        write_new_file(&tx.join("manifest"), j.manifest.as_bytes()).unwrap();
        move_into(&dir.join("a.txt"), &tx.join("old/a.txt")).unwrap();
        fs::write(dir.join("a.txt"), "new").unwrap();
        write_new_file(&tx.join("new/b.txt"), b"new").unwrap();
        recover(&dir).unwrap();
        assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "old");
        assert_eq!(fs::read_to_string(dir.join("b.txt")).unwrap(), "old");
        assert!(!tx.exists());
    }

    #[test]
    fn a_failed_stage_leaves_the_previous_results() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("run");
        files(&[("a.txt", "old")]).write_atomic(&dir).unwrap();
        let bad = files(&[("a.txt", "new"), ("../escape.txt", "x")]);
        assert!(bad.write_atomic(&dir).is_err());
        assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "old");
        assert_eq!(listing(&dir), [MARKER, "a.txt"]);
    }
}
