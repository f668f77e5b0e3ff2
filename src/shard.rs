//! Collecting the partial files of a sharded job (`--shard K/N`), shared by sweeps and
//! sharded runs: every `K/N` shard writes one JSON partial with its exact results and a
//! fingerprint of what it ran; merging reads every partial under the given folders, checks
//! they belong to the same job and the same shard count, and reports missing shards as an
//! `--array=` list to resubmit. Duplicate copies of a shard (the same folder listed twice,
//! a resubmitted task) are read once.

use std::path::PathBuf;

use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// What every partial file says about itself.
pub trait ShardFile: DeserializeOwned {
    /// Fingerprint (SHA-256) of the job it belongs to.
    fn fingerprint(&self) -> &str;
    /// Number of shards of its job.
    fn shards(&self) -> usize;
    /// Its shard index.
    fn shard(&self) -> usize;
}

/// How one kind of partial is found and described in errors.
pub struct Kind<'a> {
    /// File names start with this (e.g. `partial-`).
    pub prefix: &'a str,
    /// `sweep`, `run`: as in "not a loyalsim sweep partial".
    pub noun: &'a str,
    /// Said when a partial's fingerprint differs from the job's.
    pub mismatch: &'a str,
}

/// The `<prefix>*.json` files among a folder's `entries`, sorted by name (shard order, as
/// the names carry zero-padded shard numbers).
pub fn partial_paths(entries: std::fs::ReadDir, prefix: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with(prefix) && n.ends_with(".json")
            })
        })
        .collect();
    paths.sort();
    paths
}

/// Read every `<prefix>*.json` in `dirs`, check they are one complete set of shards of the
/// job with `fingerprint`, and return one partial per shard, in shard order.
pub fn gather<P: ShardFile>(kind: &Kind, fingerprint: &str, dirs: &[PathBuf]) -> Result<Vec<P>> {
    let mut partials: Vec<(PathBuf, P)> = Vec::new();
    for dir in dirs {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        for path in partial_paths(entries, kind.prefix) {
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let p: P = serde_json::from_slice(&bytes).map_err(|e| Error::Data {
                path: path.display().to_string(),
                line: None,
                message: format!("not a loyalsim {} partial: {e}", kind.noun),
            })?;
            partials.push((path, p));
        }
    }
    let Some((_, first)) = partials.first() else {
        return Err(Error::Usage(format!(
            "no {}*.json files in {}",
            kind.prefix,
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let n = first.shards();
    for (path, p) in &partials {
        if p.fingerprint() != fingerprint {
            return Err(Error::Data {
                path: path.display().to_string(),
                line: None,
                message: kind.mismatch.to_string(),
            });
        }
        if p.shards() != n {
            return Err(Error::Data {
                path: path.display().to_string(),
                line: None,
                message: format!(
                    "this partial is one of {} shards, others of {n}",
                    p.shards()
                ),
            });
        }
    }
    let mut by_shard: Vec<Option<P>> = (0..n).map(|_| None).collect();
    for (_, p) in partials {
        let k = p.shard();
        if k < n && by_shard[k].is_none() {
            by_shard[k] = Some(p);
        }
    }
    let missing: Vec<usize> = (0..n).filter(|k| by_shard[*k].is_none()).collect();
    if !missing.is_empty() {
        return Err(Error::Other(format!(
            "{} of {n} shards are missing; resubmit them with --array={}",
            missing.len(),
            crate::sweep::array_list(&missing)
        )));
    }
    Ok(by_shard.into_iter().flatten().collect())
}
