//! `centroid serve` end to end: the real binary on a free port, over a database imported from
//! MovieLens and trained with `-k 8`; a new visitor posts events, is assigned a cluster and
//! gets recommendations whose titles come from the catalogue.
//!
//! Skips with a message when `../shared/data` is absent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

const WRITE_KEY: &str = "pk_e2e_write_key_0123456789";
const ADMIN_KEY: &str = "sk_e2e_admin_key_0123456789";

fn movielens() -> Option<PathBuf> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/movielens-latest-small");
    if dir.exists() {
        Some(dir)
    } else {
        eprintln!("skipping: ../shared/data/movielens-latest-small not found");
        None
    }
}

fn centroid(args: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_centroid")).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "centroid {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The server process; stopped with SIGTERM (graceful) when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(db: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_centroid"))
            .args(["serve", "--bind", "127.0.0.1:0", "--db"])
            .arg(db)
            .env("CENTROID_AUTH__WRITE_KEY", WRITE_KEY)
            .env("CENTROID_AUTH__ADMIN_KEY", ADMIN_KEY)
            .env("CENTROID_RATE_LIMIT__REQUESTS_PER_SECOND", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line
            .trim()
            .strip_prefix("centroid listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Server { child, address }
    }

    /// One HTTP/1.1 request; returns the status and the JSON body.
    fn call(&self, method: &str, path: &str, key: &str, body: Option<&Value>) -> (u16, Value) {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let body = body.map(Value::to_string).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            dechunk(body)
        } else {
            body.to_owned()
        };
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap()
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&tail[..size]);
        rest = &tail[size + 2..];
    }
    out
}

/// Animated family films of MovieLens: Toy Story, Aladdin, The Lion King, ...
const ANIMATED: [&str; 10] =
    ["1", "588", "364", "595", "2081", "2355", "3114", "4886", "6377", "8961"];

#[test]
fn serve_assigns_a_new_visitor_and_recommends_catalogued_titles() {
    let Some(data) = movielens() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ml.db");
    let db_arg = db.to_str().unwrap();
    centroid(&["import", "--db", db_arg, "--format", "movielens", data.to_str().unwrap()]);
    centroid(&["train", "--db", db_arg, "-k", "8"]);
    let server = Server::start(&db);

    let events: Vec<Value> = ANIMATED
        .iter()
        .enumerate()
        .map(|(i, movie)| {
            json!({"event_id": format!("e2e-{i}"), "anonymous_id": "e2e-visitor", "type": "rating",
                   "value": 4.5, "content_id": movie,
                   "properties": {"categories": ["Animation", "Children", "Comedy"]}})
        })
        .collect();
    let (events_status, stored) =
        server.call("POST", "/v1/events", WRITE_KEY, Some(&json!(events)));
    let (assign_status, assignment) =
        server.call("POST", "/v1/assign", WRITE_KEY, Some(&json!({"events": events})));
    let cluster = assignment["cluster"].as_u64().unwrap_or(u64::MAX);
    let (list_status, list) = server.call(
        "GET",
        &format!("/v1/recommendations?cluster={cluster}&metric=rating&limit=5&include=attributes"),
        WRITE_KEY,
        None,
    );
    let (user_status, user_cluster) =
        server.call("GET", "/v1/users/e2e-visitor/cluster", WRITE_KEY, None);
    let (models_status, models) = server.call("GET", "/v1/models/current", ADMIN_KEY, None);
    let exit = server.stop();

    assert_eq!(events_status, 200, "{stored}");
    assert_eq!(stored["accepted"], 10);
    assert_eq!(assign_status, 200, "{assignment}");
    assert!(cluster < 8, "{assignment}");
    assert_eq!(assignment["model_version"], 1);
    assert!(assignment["runner_up"]["cluster"].is_u64());
    assert_eq!(list_status, 200, "{list}");
    assert_eq!(list["model_version"], 1);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "{list}");
    for item in items {
        let title = item["attributes"]["title"].as_str().unwrap_or_default();
        // MovieLens titles carry the year: "Toy Story (1995)".
        assert!(title.ends_with(')') && title.contains(" ("), "{item}");
    }
    assert_eq!(user_status, 200);
    assert_eq!(user_cluster["cluster"], assignment["cluster"]);
    assert_eq!(models_status, 200);
    assert_eq!(models["k"], 8);
    assert!(exit.success(), "server exit after SIGTERM: {exit:?}");
}
