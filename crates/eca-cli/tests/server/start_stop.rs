//! Starting and stopping `eca serve`: warnings about the data folder, and the shutdown's
//! drain, cut short by a second signal.

use super::*;

/// A data folder others may read (made before, by hand) is named in a warning at start.
#[cfg(unix)]
#[test]
fn an_open_data_folder_is_warned_about() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = serve(&data, &[], &[]).terminate();
    assert!(log.contains("open to other users"), "{log}");
}

/// A connection that never finishes its request keeps the first SIGTERM's drain waiting; a
/// second signal ends the server at once.
#[test]
fn a_second_signal_stops_a_draining_server() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = serve(&tmp.path().join("data"), &[], &[]);
    let address = server.url.trim_start_matches("http://").to_owned();
    let mut stalled = std::net::TcpStream::connect(&address).unwrap();
    use std::io::Write as _;
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.child.id().to_string();
    let kill = |signal: &str| {
        let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(sent.success());
    };
    kill("-TERM");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the first signal waits for the request in flight"
    );
    kill("-INT");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the second signal did not stop it"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    let log = std::fs::read_to_string(&server.stderr).unwrap_or_default();
    assert!(log.contains("second signal"), "{log}");
}
