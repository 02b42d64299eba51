//! "Did you mean" suggestions by edit distance.

/// Levenshtein distance over characters, case-insensitive.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate nearest to `word`, if it is near enough to be a plausible typo: within a third
/// of the word's length, or a candidate that contains the word (or the other way round).
pub fn nearest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = word.to_lowercase();
    let mut best: Option<((usize, usize), &'a str)> = None;
    for c in candidates {
        let cl = c.to_lowercase();
        let edit = distance(word, c);
        // A candidate that contains the word, or is contained in it, is a likely match even
        // when many characters differ (`ecaGlobalOauth` for `ecaGlblOauth` is not one of these).
        let contained =
            lower.len().min(cl.len()) >= 5 && (cl.contains(&lower) || lower.contains(&cl));
        let d = if contained {
            edit.min(1 + cl.len().abs_diff(lower.len()) / 4)
        } else {
            edit
        };
        if best.is_none_or(|(bd, _)| (d, edit) < bd) {
            best = Some(((d, edit), c));
        }
    }
    let limit = (word.chars().count() / 3).max(2);
    best.filter(|((d, _), _)| *d <= limit).map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        assert_eq!(distance("kitten", "sitting"), 3);
        let suffixes = ["eca", "ecaOauth", "ecaGlblOauth", "ecaPlcy", "ecaOauthPlcy"];
        assert_eq!(nearest("ecaGlobalOauth", suffixes), Some("ecaGlblOauth"));
        assert_eq!(nearest("ecaPolicy", suffixes), Some("ecaPlcy"));
        assert_eq!(nearest("ecaOauthPolicy", suffixes), Some("ecaOauthPlcy"));
        assert_eq!(nearest("cls", suffixes), None);
    }
}
