//! Turning byte offsets and dotted field paths into line numbers and field names.
//!
//! toml reports a byte span for each error but not the dotted path of the field; cross-field
//! checks know the field path but not its line. This small index of table headers answers
//! both, so that every scenario error can say `file:line: field: message`.

/// An index of the table headers of one TOML source.
#[derive(Debug, Clone)]
pub struct Locator<'a> {
    src: &'a str,
    /// (path with array index, e.g. `population.segments[1]`, 0-based line of the header)
    headers: Vec<(String, usize)>,
}

impl<'a> Locator<'a> {
    /// Index the headers of `src`.
    pub fn new(src: &'a str) -> Self {
        let mut headers = Vec::new();
        let mut array_counts: Vec<(String, usize)> = Vec::new();
        for (i, line) in src.lines().enumerate() {
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("[[") {
                if let Some(end) = rest.find("]]") {
                    let name = rest[..end].trim().to_string();
                    let n = match array_counts.iter_mut().find(|(k, _)| *k == name) {
                        Some((_, n)) => {
                            *n += 1;
                            *n - 1
                        }
                        None => {
                            array_counts.push((name.clone(), 1));
                            0
                        }
                    };
                    headers.push((
                        format!("{}[{}]", Self::indexed_prefix(&headers, &name), n),
                        i,
                    ));
                }
            } else if let Some(rest) = t.strip_prefix('[') {
                if let Some(end) = rest.find(']') {
                    let name = rest[..end].trim().to_string();
                    headers.push((Self::indexed_prefix(&headers, &name), i));
                }
            }
        }
        Locator { src, headers }
    }

    /// A sub-table of an array entry (`[population.segments.spend]` after
    /// `[[population.segments]]`) belongs to the latest entry: give it that index.
    fn indexed_prefix(headers: &[(String, usize)], name: &str) -> String {
        for (h, _) in headers.iter().rev() {
            if let Some(pos) = h.rfind('[') {
                let base = &h[..pos];
                if let Some(rest) = name.strip_prefix(base) {
                    if rest.starts_with('.') {
                        return format!("{h}{rest}");
                    }
                }
            }
        }
        name.to_string()
    }

    /// 1-based line of a byte offset.
    pub fn line_of_offset(&self, offset: usize) -> usize {
        let offset = offset.min(self.src.len());
        self.src.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// The dotted field path at a byte span: the enclosing table header plus the keys
    /// (through inline tables) written on the line up to the span.
    pub fn field_at(&self, start: usize, end: usize) -> String {
        let line0 = self.line_of_offset(start) - 1;
        let table = self
            .headers
            .iter()
            .rev()
            .find(|(_, l)| *l <= line0)
            .map(|(h, l)| (h.as_str(), *l));
        let line_start = self.src[..start.min(self.src.len())]
            .rfind('\n')
            .map_or(0, |p| p + 1);
        let mut keys = Vec::new();
        if table.map(|(_, l)| l) != Some(line0) {
            let upto = end.min(self.src.len()).max(line_start);
            keys = inline_key_path(
                &self.src[line_start..upto],
                start.saturating_sub(line_start),
            );
        }
        let mut path = table.map(|(h, _)| h.to_string()).unwrap_or_default();
        for k in keys {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&k);
        }
        path
    }

    /// Best line for a dotted field path such as `population.segments[1].share` or
    /// `designs[2]`: the key's own line if found under its table, else the table header.
    pub fn line_of_field(&self, field: &str) -> Option<usize> {
        // Longest header that is a prefix of the path.
        let mut best: Option<(&str, usize)> = None;
        for (h, l) in &self.headers {
            let is_prefix =
                field == h || (field.starts_with(h.as_str()) && field[h.len()..].starts_with('.'));
            if is_prefix && best.is_none_or(|(b, _)| h.len() > b.len()) {
                best = Some((h.as_str(), *l));
            }
        }
        let (table, header_line) = match best {
            Some((h, l)) => (h, Some(l)),
            None => ("", None),
        };
        let rest = field[table.len()..].trim_start_matches('.');
        let key = rest.split(['.', '[']).next().unwrap_or("");
        if key.is_empty() {
            return header_line.map(|l| l + 1);
        }
        let first = header_line.map_or(0, |l| l + 1);
        for (i, line) in self.src.lines().enumerate().skip(first) {
            let t = line.trim_start();
            if t.starts_with('[') {
                break;
            }
            if let Some(after) = t.strip_prefix(key) {
                if after.trim_start().starts_with('=') {
                    return Some(i + 1);
                }
            }
        }
        header_line.map(|l| l + 1)
    }

    /// The text of a 1-based line.
    pub fn line_text(&self, line: usize) -> &str {
        self.src.lines().nth(line.saturating_sub(1)).unwrap_or("")
    }
}

/// Keys leading to `pos` within one line: `purchase = { model = "x", r = 1` -> [purchase, r].
fn inline_key_path(text: &str, pos: usize) -> Vec<String> {
    let mut stack: Vec<Option<String>> = Vec::new();
    let mut current: Option<String> = None;
    let mut word = String::new();
    let mut chars = text.char_indices().peekable();
    let mut last_word_end_before_pos = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' | '\'' => {
                // Skip a string literal (basic strings honour backslash escapes).
                while let Some((_, d)) = chars.next() {
                    if c == '"' && d == '\\' {
                        chars.next();
                    } else if d == c {
                        break;
                    }
                }
                word.clear();
            }
            '#' => break,
            '=' => {
                current = Some(std::mem::take(&mut word));
            }
            '{' => {
                stack.push(current.take());
                word.clear();
            }
            '}' => {
                current = stack.pop().flatten();
                word.clear();
            }
            ',' => {
                current = None;
                word.clear();
            }
            c if c.is_alphanumeric() || c == '_' || c == '-' || c == '.' => {
                word.push(c);
                if i < pos {
                    last_word_end_before_pos = word.clone();
                }
            }
            _ => {
                if !word.is_empty() {
                    last_word_end_before_pos = word.clone();
                }
            }
        }
    }
    let mut keys: Vec<String> = stack.into_iter().flatten().collect();
    match current {
        Some(k) => keys.push(k),
        // The span is a key itself (an unknown field): name it.
        None if !word.is_empty() => keys.push(word),
        None if !last_word_end_before_pos.is_empty() => keys.push(last_word_end_before_pos),
        None => {}
    }
    keys.into_iter().filter(|k| !k.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "name = \"x\"\n[population]\ncustomers = 5\n[[population.segments]]\nname = \"a\"\n[[population.segments]]\nname = \"b\"\nshare = 0.5\npurchase = { model = \"bg-nbd\", r = -1 }\n";

    #[test]
    fn finds_fields_and_lines() {
        let loc = Locator::new(SRC);
        let off = SRC.find("-1").unwrap();
        assert_eq!(
            loc.field_at(off, off + 2),
            "population.segments[1].purchase.r"
        );
        assert_eq!(loc.line_of_offset(off), 9);
        assert_eq!(loc.line_of_field("population.segments[1].share"), Some(8));
        assert_eq!(loc.line_of_field("population.segments[0]"), Some(4));
        assert_eq!(loc.line_of_field("name"), Some(1));
    }
}
