//! Waiting for an asynchronous Metadata API operation (a deploy, a retrieve) to finish: status
//! checks a quarter second apart at first, then further apart (up to 2 s), for at most 10
//! minutes. A check that fails (a network blip, a node restarting behind a load balancer) is
//! tried again, up to [`FAILURES`] times in a row, before the command gives up: the operation
//! goes on on the server either way.

use std::time::Duration;

/// The first wait between checks, and the longest.
const FIRST: Duration = Duration::from_millis(250);
const LONGEST: Duration = Duration::from_secs(2);
/// How long checks go on before the command gives up.
const LIMIT: Duration = Duration::from_secs(600);
/// How many failed checks in a row end the wait.
const FAILURES: u32 = 3;

/// Calls `check` until it returns `Some`; `what` names the operation in errors ("deploy
/// 0Af...").
pub fn until_done<T>(
    what: &str,
    mut check: impl FnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    until_done_with(what, &mut check, std::thread::sleep)
}

fn until_done_with<T>(
    what: &str,
    check: &mut impl FnMut() -> anyhow::Result<Option<T>>,
    mut sleep: impl FnMut(Duration),
) -> anyhow::Result<T> {
    let mut wait = FIRST;
    let mut waited = Duration::ZERO;
    let mut failures = 0;
    loop {
        match check() {
            Ok(Some(done)) => return Ok(done),
            Ok(None) => failures = 0,
            Err(e) => {
                failures += 1;
                if failures >= FAILURES {
                    return Err(e.context(format!(
                        "checking on {what} failed {FAILURES} times in a row; it goes on on the server"
                    )));
                }
            }
        }
        if waited >= LIMIT {
            anyhow::bail!(
                "{what} is not done after {} minutes; it goes on on the server",
                LIMIT.as_secs() / 60
            );
        }
        sleep(wait);
        waited += wait;
        wait = (wait * 3 / 2).min(LONGEST);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_longer_and_longer_and_survives_a_failed_check() {
        let mut slept = Vec::new();
        let mut calls = 0;
        let done = until_done_with(
            "deploy X",
            &mut || {
                calls += 1;
                match calls {
                    2 => anyhow::bail!("connection reset"),
                    6 => Ok(Some("done")),
                    _ => Ok(None),
                }
            },
            |d| slept.push(d),
        )
        .unwrap();
        assert_eq!(done, "done");
        assert_eq!(slept.len(), 5);
        assert_eq!(slept[0], FIRST);
        assert!(slept.windows(2).all(|w| w[1] >= w[0]));
        assert!(slept.iter().all(|d| *d <= LONGEST));
    }

    #[test]
    fn gives_up_after_failures_in_a_row_or_the_limit() {
        let failing = until_done_with(
            "deploy X",
            &mut || -> anyhow::Result<Option<()>> { anyhow::bail!("down") },
            |_| {},
        )
        .unwrap_err();
        assert!(
            format!("{failing:#}").contains("3 times in a row"),
            "{failing:#}"
        );
        let mut total = Duration::ZERO;
        let slow = until_done_with(
            "retrieve Y",
            &mut || -> anyhow::Result<Option<()>> { Ok(None) },
            |d| total += d,
        )
        .unwrap_err();
        assert!(
            slow.to_string().contains("not done after 10 minutes"),
            "{slow}"
        );
        assert!(total >= LIMIT && total <= LIMIT + LONGEST);
    }
}
