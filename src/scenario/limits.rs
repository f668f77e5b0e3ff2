//! Size limits that hold for every field of a scenario, checked on the parsed TOML tree
//! before the typed parse: names and other strings at most [`MAX_NAME_CHARS`] characters
//! (table keys included), lists at most [`MAX_LIST_ENTRIES`] entries. One walk covers every
//! part, present and future, so no field can slip through; the typed parse then checks each
//! value's own range.

use super::units::{MAX_LIST_ENTRIES, MAX_NAME_CHARS};
use super::Checker;
use crate::Result;

/// Check the sizes of every string, key and array under `table`.
pub(crate) fn check_sizes(ck: &Checker, table: &toml::Table) -> Result<()> {
    walk_table(ck, "", table)
}

fn walk_table(ck: &Checker, path: &str, table: &toml::Table) -> Result<()> {
    for (key, value) in table {
        let field = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if key.chars().count() > MAX_NAME_CHARS {
            let shown: String = key.chars().take(40).collect();
            return Err(ck.err(
                path.to_string(),
                format!(
                    "the key `{shown}...` is {} characters long; names are at most {MAX_NAME_CHARS}",
                    key.chars().count()
                ),
            ));
        }
        walk_value(ck, &field, value)?;
    }
    Ok(())
}

fn walk_value(ck: &Checker, field: &str, value: &toml::Value) -> Result<()> {
    match value {
        toml::Value::String(s) if s.chars().count() > MAX_NAME_CHARS => Err(ck.err(
            field,
            format!(
                "is {} characters long; at most {MAX_NAME_CHARS} are allowed",
                s.chars().count()
            ),
        )),
        toml::Value::Array(items) => {
            if items.len() > MAX_LIST_ENTRIES {
                return Err(ck.err(
                    field,
                    format!(
                        "has {} entries; at most {MAX_LIST_ENTRIES} are allowed",
                        items.len()
                    ),
                ));
            }
            for (i, v) in items.iter().enumerate() {
                walk_value(ck, &format!("{field}[{i}]"), v)?;
            }
            Ok(())
        }
        toml::Value::Table(t) => walk_table(ck, field, t),
        _ => Ok(()),
    }
}
