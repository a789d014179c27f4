//! The url-api binary as an operator runs it: configuration errors, serving, and SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_url-api");

fn url_api(vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .envs(vars.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // Under `scripts/test.sh --coverage` the binary is instrumented: its profile goes where the
    // run collects them, not into the working directory.
    if let Some(profile) = std::env::var_os("LLVM_PROFILE_FILE") {
        command.env("LLVM_PROFILE_FILE", profile);
    }
    command
}

#[test]
fn a_bad_setting_stops_the_start_with_one_line_naming_it() {
    for (var, value) in [
        ("HTTP_ADDR", "nope"),
        ("BASE_URL", "sho.rt"),
        ("DATABASE_URL", "mysql://db/x"),
        ("RUST_LOG", "info,["),
        ("HTTP_ENGINE", "actix"),
    ] {
        let output = url_api(&[(var, value)]).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{var}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{var}: {stderr}");
        assert!(
            stderr.starts_with(&format!("url-api: invalid configuration: {var}: ")),
            "{stderr}"
        );
    }
}

#[test]
fn a_missing_config_file_is_named() {
    let output = Command::new(BIN)
        .args(["--config", "/no/such/url-api.yaml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("--config: cannot read /no/such/url-api.yaml"),
        "{stderr}"
    );
}

/// On either engine, which decides the process's runtime too.
#[rstest::rstest]
fn sigterm_stops_the_server_with_exit_code_0(#[values("tide", "axum")] engine: &str) {
    // No database is needed to start: the pool connects lazily.
    let mut child = url_api(&[
        ("HTTP_ENGINE", engine),
        ("HTTP_ADDR", "127.0.0.1:0"),
        (
            "DATABASE_URL",
            "postgres://postgres:postgres@127.0.0.1:1/none",
        ),
        ("DEV_ADDR", "127.0.0.1:0"),
        ("RUST_LOG", "info"),
    ])
    .spawn()
    .unwrap();
    let addr = listening_addr(&mut child);

    let response = get(&addr, "/abc");
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(wait(&mut child).code(), Some(0));
}

/// Reads the log until the "listening" line and returns the address it names. The rest of the
/// log is drained on a thread, so the process never writes into a closed pipe.
fn listening_addr(child: &mut Child) -> String {
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        // Logs are JSON when stderr is not a terminal: {"fields": {"message": ..., "addr": ...}}.
        if line.contains("url-api listening") {
            let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
            let addr = parsed["fields"]["addr"].as_str().unwrap().to_owned();
            std::thread::spawn(move || lines.for_each(|line| eprintln!("url-api: {line:?}")));
            return addr;
        }
    }
    panic!("url-api exited without listening");
}

fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Waits for the process to exit; a hung process is killed after a generous bound so the test
/// fails instead of hanging CI.
fn wait(child: &mut Child) -> ExitStatus {
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("url-api did not exit after SIGTERM");
}
