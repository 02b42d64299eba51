//! Adds an entry to `packageDirectories` in `sfdx-project.json` by editing the text, so that the
//! rest of the file keeps its key order, formatting and comments-free layout exactly as the
//! developer wrote it (re-serializing with serde_json would sort every key).

use serde_json::Value;

/// Returns the text with `{ "path": dir }` appended to `packageDirectories`, or `None` when the
/// file is not in a shape we can edit safely (then the caller asks the developer to do it).
pub fn add_package_directory(text: &str, dir: &str) -> Option<String> {
    let key = text.find("\"packageDirectories\"")?;
    let after_key = key + "\"packageDirectories\"".len();
    let rest = &text[after_key..];
    let colon = after_key + rest.find(|c: char| !c.is_whitespace())?;
    if text.as_bytes().get(colon) != Some(&b':') {
        return None;
    }
    let open = colon + 1 + text[colon + 1..].find(|c: char| !c.is_whitespace())?;
    if text.as_bytes().get(open) != Some(&b'[') {
        return None;
    }
    let close = matching_bracket(text, open)?;
    let inside = &text[open + 1..close];
    let entry = format!("{{ \"path\": {} }}", Value::String(dir.to_owned()));
    let edited = if inside.trim().is_empty() {
        format!("{}{entry}{}", &text[..=open], &text[close..])
    } else {
        // Indent like the first entry; end where the last entry ends.
        let lead = &inside[..inside.len() - inside.trim_start().len()];
        let indent = if lead.contains('\n') {
            lead.rsplit_once('\n')
                .map_or(" ".to_owned(), |(_, i)| format!("\n{i}"))
        } else {
            " ".to_owned()
        };
        let last_end = open + 1 + inside.trim_end().len();
        format!("{},{indent}{entry}{}", &text[..last_end], &text[last_end..])
    };
    // Only hand back an edit that parses and says what we meant.
    let value: Value = serde_json::from_str(&edited).ok()?;
    let dirs = value.get("packageDirectories")?.as_array()?;
    dirs.iter()
        .any(|d| d.get("path").and_then(Value::as_str) == Some(dir))
        .then_some(edited)
}

/// The index of the `]` closing the `[` at `open`, skipping strings.
fn matching_bracket(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text[open..].char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (c == ']').then_some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_in_the_file_style() {
        let text = "{\n  \"packageDirectories\": [\n    {\n      \"path\": \"force-app\",\n      \"default\": true\n    }\n  ],\n  \"name\": \"x\"\n}\n";
        let edited = add_package_directory(text, "unpackaged").unwrap();
        assert_eq!(
            edited,
            "{\n  \"packageDirectories\": [\n    {\n      \"path\": \"force-app\",\n      \"default\": true\n    },\n    { \"path\": \"unpackaged\" }\n  ],\n  \"name\": \"x\"\n}\n"
        );
        let one_line = r#"{"packageDirectories":[{"path":"a]b","default":true}],"name":"x"}"#;
        assert_eq!(
            add_package_directory(one_line, "u").unwrap(),
            r#"{"packageDirectories":[{"path":"a]b","default":true}, { "path": "u" }],"name":"x"}"#
        );
        assert_eq!(
            add_package_directory(r#"{"packageDirectories": []}"#, "u").unwrap(),
            r#"{"packageDirectories": [{ "path": "u" }]}"#
        );
        assert_eq!(
            add_package_directory(r#"{"packageDirectories": 3}"#, "u"),
            None
        );
    }
}
