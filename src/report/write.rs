//! The only code that writes run results to disk.
//!
//! A run's files are rendered to bytes first, then written into a temporary folder beside
//! the target and renamed into place, so a failed or interrupted run never leaves a
//! half-written output folder: either the old folder or the complete new one is there.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

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

    /// Write every file into `dir` atomically: a temporary sibling folder is filled, then
    /// renamed over `dir` (a previous `dir` is moved aside first and removed after).
    pub fn write_atomic(&self, dir: &Path) -> Result<()> {
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let name = dir
            .file_name()
            .ok_or_else(|| Error::Usage(format!("{}: not a usable output folder", dir.display())))?
            .to_string_lossy()
            .into_owned();
        let pid = std::process::id();
        let tmp = parent.join(format!(".{name}.tmp-{pid}"));
        let old = parent.join(format!(".{name}.old-{pid}"));
        let _ = fs::remove_dir_all(&tmp);
        let result = self.fill(&tmp).and_then(|()| {
            if dir.exists() {
                fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
            }
            match fs::rename(&tmp, dir) {
                Ok(()) => {
                    let _ = fs::remove_dir_all(&old);
                    Ok(())
                }
                Err(e) => {
                    // Put the previous results back rather than leave nothing.
                    let _ = fs::rename(&old, dir);
                    Err(Error::io(dir, e))
                }
            }
        });
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result
    }

    fn fill(&self, tmp: &Path) -> Result<()> {
        fs::create_dir_all(tmp).map_err(|e| Error::io(tmp, e))?;
        for (rel, bytes) in &self.files {
            let path = tmp.join(rel);
            if let Some(p) = path.parent() {
                fs::create_dir_all(p).map_err(|e| Error::io(p, e))?;
            }
            fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
        }
        Ok(())
    }
}

/// Write one file atomically (temporary file in the same folder, then rename).
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::Usage(format!("{}: not a usable file name", path.display())))?
        .to_string_lossy()
        .into_owned();
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_folder_whole() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("run");
        let mut a = OutputFiles::new();
        a.add("a.txt", "1");
        a.add("charts/x.svg", "<svg/>");
        a.write_atomic(&dir).unwrap();
        let mut b = OutputFiles::new();
        b.add("b.txt", "2");
        b.write_atomic(&dir).unwrap();
        assert!(!dir.join("a.txt").exists(), "old files must not survive");
        assert_eq!(fs::read_to_string(dir.join("b.txt")).unwrap(), "2");
        let leftovers: Vec<_> = fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary folders left behind");
    }
}
