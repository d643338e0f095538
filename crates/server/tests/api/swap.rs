use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;

use crate::{tagged_serving, TestApp, WRITE_KEY};

/// Hammers recommendations while models are swapped: no request fails, and every answer's
/// items come from the version it names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_swap_under_load_never_mixes_versions() {
    let app = Arc::new(TestApp::new());
    let mut servings: Vec<_> = (1..=12).map(tagged_serving).collect();
    let stop = Arc::new(AtomicBool::new(false));
    // Numbered clusters need a model: serve version 1 before the clients start.
    let first = servings.remove(0);
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || assert!(state.publish(first))).await.unwrap();

    let mut clients = Vec::new();
    for client in 0..8 {
        let app = Arc::clone(&app);
        let stop = Arc::clone(&stop);
        clients.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let cluster = ["global", "0", "1", "2"][client % 4];
                let uri = format!("/v1/recommendations?cluster={cluster}&metric=views&limit=20");
                let (status, answer) = app.get(&uri, WRITE_KEY).await;
                assert_eq!(status, StatusCode::OK, "{answer}");
                let version = answer["model_version"].as_i64().unwrap();
                let prefix = format!("v{version}:");
                for item in answer["items"].as_array().unwrap() {
                    let id = item["content_id"].as_str().unwrap();
                    assert!(id.starts_with(&prefix), "{id} in an answer of version {version}");
                }
                seen.push(version);
                // An answer from memory never waits; let the publisher run.
                tokio::task::yield_now().await;
            }
            seen
        }));
    }
    for serving in servings {
        let state = app.state.clone();
        tokio::task::spawn_blocking(move || assert!(state.publish(serving))).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }
    stop.store(true, Ordering::Relaxed);

    let mut versions = std::collections::BTreeSet::new();
    for client in clients {
        versions.extend(client.await.unwrap());
    }
    assert!(versions.len() >= 6, "answers saw only versions {versions:?}");
    assert_eq!(app.state.models.current().version, Some(12));
}
