//! The store-wired pipeline: folding only what is new, publishing versions, stable cluster ids.

use centroid_core::event::{Event, EventType};
use centroid_pipeline::{
    current_user_state, run_training, KChoice, NoProgress, RunOptions, TrainParams,
};
use centroid_store::{SqliteStore, Store};

fn event(id: usize, user: &str, content: &str, event_type: EventType, category: &str) -> Event {
    Event {
        event_id: format!("e{id}"),
        user_id: Some(user.to_owned()),
        anonymous_id: None,
        session_id: None,
        event_type,
        content_id: content.to_owned(),
        timestamp_ms: id as i64,
        received_at_ms: 0,
        value: (event_type == EventType::Watch).then_some(300.0),
        categories: vec![category.to_owned()],
        properties: Default::default(),
    }
}

/// `rounds` rounds of behaviour of three personas with 8 users each; ids continue from `start`.
fn behaviour(start: usize, rounds: usize) -> Vec<Event> {
    let mut events = Vec::new();
    let mut id = start;
    for round in 0..rounds {
        for u in 0..8 {
            for (persona, t, category) in [
                ("viewer", EventType::View, "news"),
                ("buyer", EventType::Purchase, "shop"),
                ("watcher", EventType::Watch, "video"),
            ] {
                id += 1;
                let content = format!("{category}{}", (u + round) % 5);
                events.push(event(id, &format!("{persona}{u}"), &content, t, category));
            }
        }
    }
    events
}

fn cluster_of(store: &SqliteStore, user: &str) -> (i64, u32) {
    let (version, prediction) = store.user_prediction(user).unwrap().unwrap();
    (version, prediction.cluster)
}

#[test]
fn retraining_with_new_events_publishes_a_new_version_and_keeps_cluster_ids() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("db")).unwrap();
    store.append_events(&behaviour(0, 4)).unwrap();
    let params = TrainParams { k: KChoice::Fixed(3), ..TrainParams::default() };

    let first = run_training(&store, &params, &RunOptions::default(), &NoProgress).unwrap();

    assert_eq!((first.version, first.folded_events, first.n_events), (1, 96, 96));
    let before: Vec<(String, u32)> = ["viewer3", "buyer3", "watcher3"]
        .iter()
        .map(|u| (u.to_string(), cluster_of(&store, u).1))
        .collect();

    // New events arrive; the next run folds only those, under another seed.
    store.append_events(&behaviour(1_000, 2)).unwrap();
    let params = TrainParams { seed: 11, ..params };
    let second = run_training(&store, &params, &RunOptions::default(), &NoProgress).unwrap();

    assert_eq!((second.version, second.folded_events, second.n_events), (2, 48, 144));
    for (user, cluster) in before {
        assert_eq!(cluster_of(&store, &user), (2, cluster), "{user}");
    }

    // A full refold gives the same state as the incremental one.
    let third = run_training(&store, &params, &RunOptions { full: true }, &NoProgress).unwrap();
    assert_eq!((third.folded_events, third.n_events), (144, 144));
    assert_eq!(store.current_model().unwrap().unwrap().version, 3);
}

#[test]
fn a_users_state_includes_events_since_the_last_fold() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("db")).unwrap();
    store.append_events(&behaviour(0, 2)).unwrap();
    let params = TrainParams { k: KChoice::Fixed(3), ..TrainParams::default() };
    run_training(&store, &params, &RunOptions::default(), &NoProgress).unwrap();

    store.append_events(&[event(500, "buyer1", "shop9", EventType::Purchase, "shop")]).unwrap();
    let state = current_user_state(&store, "buyer1").unwrap().unwrap();

    assert_eq!(state.aggregate.counts[EventType::Purchase.index()], 3);
    assert_eq!(state.interactions["shop9"].count(EventType::Purchase), 1);
    assert!(current_user_state(&store, "nobody").unwrap().is_none());
}

#[test]
fn a_failed_run_leaves_the_current_model_serving() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("db")).unwrap();
    store.append_events(&behaviour(0, 2)).unwrap();
    let params = TrainParams { k: KChoice::Fixed(3), ..TrainParams::default() };
    run_training(&store, &params, &RunOptions::default(), &NoProgress).unwrap();

    // Start centres of the wrong shape make K-means refuse.
    let bad = TrainParams { init_centres: Some(vec![0.0; 5]), ..params };
    let err = run_training(&store, &bad, &RunOptions::default(), &NoProgress).unwrap_err();

    assert!(err.to_string().starts_with("k-means:"), "{err}");
    assert_eq!(store.current_model().unwrap().unwrap().version, 1);
}
