//! Plain-text tables for lists of orgs, users and profiles: a header row, then one row per
//! record, columns padded to their widest cell and separated by two spaces.

use crate::output;

/// Prints `rows` under `headers`; an empty list prints `none` instead of a lone header.
pub fn print(headers: &[&str], rows: &[Vec<String>]) {
    if rows.is_empty() {
        output::line("none");
        return;
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let text: Vec<String> = cells
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        output::line(text.join("  ").trim_end());
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
}
