//! `xs:dateTime` values as SAML uses them: UTC with a `Z` (SAML Core §1.3.3).

use eca_core::Timestamp;

use crate::error::SamlError;

/// Writes a SAML time: UTC, `Z`, whole seconds (what strict SP libraries parse most easily).
pub fn format(t: Timestamp) -> String {
    let iso = Timestamp::from_secs(t.secs()).to_iso8601();
    // `2026-11-26T17:02:03.000Z` → `2026-11-26T17:02:03Z`.
    iso.replacen(".000Z", "Z", 1)
}

/// Reads `YYYY-MM-DDThh:mm:ss[.fraction](Z|+00:00)`. SAML Core §1.3.3 requires UTC; other
/// offsets are refused rather than converted.
pub fn parse(s: &str) -> Result<Timestamp, SamlError> {
    const BAD: SamlError = SamlError::Malformed("a dateTime is not a UTC xs:dateTime");
    let body = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix("+00:00"))
        .ok_or(BAD)?;
    let (main, fraction) = match body.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (body, None),
    };
    let b = main.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(BAD);
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64, SamlError> {
        let part = main.get(r).ok_or(BAD)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(BAD);
        }
        part.parse::<i64>().map_err(|_| BAD)
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return Err(BAD);
    }
    let millis = match fraction {
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|c| c.is_ascii_digit()) => {
            let padded = format!("{f:0<3}");
            padded[..3].parse::<i64>().map_err(|_| BAD)?
        }
        Some(_) => return Err(BAD),
        None => 0,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec;
    Ok(Timestamp::from_millis(secs * 1000 + millis))
}

/// Howard Hinnant's `days_from_civil`: days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        let ok: &[(&str, i64)] = &[
            ("1970-01-01T00:00:00Z", 0),
            ("2026-11-26T00:00:00Z", 1_795_651_200_000),
            ("2026-11-26T00:00:00.5Z", 1_795_651_200_500),
            ("2026-11-26T00:00:00.123456Z", 1_795_651_200_123),
            ("2000-02-29T00:00:00+00:00", 951_782_400_000),
        ];
        for (s, ms) in ok {
            assert_eq!(parse(s), Ok(Timestamp::from_millis(*ms)), "{s}");
        }
        for bad in [
            "2026-11-26T00:00:00",
            "2026-11-26T00:00:00+01:00",
            "2026-13-26T00:00:00Z",
            "2026-11-26 00:00:00Z",
            "2026-11-26T00:00:00.Z",
            "+026-11-26T00:00:00Z",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            format(Timestamp::from_millis(1_795_651_200_999)),
            "2026-11-26T00:00:00Z"
        );
    }
}
