//! The conformance suite: behaviour every [`Store`] backend must show.
//!
//! Each check is a plain function taking a [`Harness`], so a backend's test file instantiates
//! all of them with one macro call:
//!
//! ```text
//! struct Sqlite(tempfile::TempDir);
//! impl centroid_store::conformance::Harness for Sqlite { /* open the same file each time */ }
//! centroid_store::store_conformance_tests!(Sqlite(tempfile::tempdir().unwrap()));
//! ```
//!
//! The checks panic (through `assert!`) on a deviation, like any test. Expected values are
//! computed independently of the store: by hand, or by folding the same events in memory.

#![allow(missing_docs)]

use centroid_core::{
    ClusterView, ContentItem, Event, EventType, FeatureOptions, FeatureSpec, ModelVersion,
    ReducerState, Scaler, UserPrediction, ViewParams,
};
use serde_json::json;

use crate::{AppendOutcome, ContentStatus, SaveMode, Store, StoreError, Watermark};

/// Gives a check fresh handles on one empty database.
pub trait Harness {
    /// Opens a handle on the harness's database: the same database on every call, so that a
    /// check can drop a handle and reopen to test durability.
    fn open(&self) -> Box<dyn Store>;
}

/// Instantiates every conformance check as a `#[test]` for a harness expression (evaluated
/// once per test, so each test gets its own database).
#[macro_export]
macro_rules! store_conformance_tests {
    ($harness:expr) => {
        $crate::store_conformance_tests!(@each $harness;
            append_is_idempotent,
            events_survive_reopen,
            events_since_pages_in_order,
            user_events_of_one_profile,
            states_round_trip_with_watermark_conflict,
            states_replace_all,
            catalogue_upsert_get_delete_deactivate,
            publish_model_versions_do_not_mix,
            failed_publish_keeps_current_model,
            merge_profiles_moves_events_and_state,
            delete_profile_removes_everything,
            two_handles_share_one_log,
            integrity_check_passes
        );
    };
    (@each $harness:expr; $($check:ident),+ $(,)?) => {
        $(
            #[test]
            fn $check() {
                let harness = $harness;
                $crate::conformance::$check(&harness);
            }
        )+
    };
}

/// A canonical event with the fields tests vary.
pub fn event(id: &str, user: &str, content: &str, event_type: EventType, ts: i64) -> Event {
    Event {
        event_id: id.to_owned(),
        user_id: Some(user.to_owned()),
        anonymous_id: None,
        session_id: None,
        event_type,
        content_id: content.to_owned(),
        timestamp_ms: ts,
        received_at_ms: 1_700_000_000_000,
        value: None,
        categories: vec!["books".to_owned()],
        properties: Default::default(),
    }
}

fn anonymous(id: &str, anonymous_id: &str, content: &str, ts: i64) -> Event {
    Event {
        user_id: None,
        anonymous_id: Some(anonymous_id.to_owned()),
        ..event(id, "unused", content, EventType::View, ts)
    }
}

/// An event that uses every optional field, to check that nothing is lost on the way.
fn rich_event(id: &str) -> Event {
    let properties = json!({"title": "Dune", "price": 9.5, "tags": ["a", "b"]});
    Event {
        event_id: id.to_owned(),
        user_id: Some("u-rich".into()),
        anonymous_id: Some("anon-rich".into()),
        session_id: Some("s1".into()),
        event_type: EventType::Rating,
        content_id: "c-rich".into(),
        timestamp_ms: 1_600_000_000_123,
        received_at_ms: 1_600_000_000_456,
        value: Some(4.5),
        categories: vec!["sci-fi".into(), "classic".into(), "books".into()],
        properties: properties.as_object().cloned().unwrap_or_default(),
    }
}

fn seqs(outcomes: &[AppendOutcome]) -> Vec<Option<i64>> {
    outcomes.iter().map(|o| o.seq()).collect()
}

pub fn append_is_idempotent(harness: &dyn Harness) {
    let store = harness.open();
    let e1 = event("e1", "u1", "c1", EventType::View, 10);
    let e2 = event("e2", "u1", "c2", EventType::View, 11);
    let e3 = event("e3", "u2", "c1", EventType::Purchase, 12);

    let first = store.append_events(&[e1.clone(), e2.clone(), e1.clone()]).unwrap();
    let second = store.append_events(&[e2.clone(), e3.clone()]).unwrap();
    let empty = store.append_events(&[]).unwrap();

    assert_eq!(seqs(&first), [Some(1), Some(2), None]);
    assert_eq!(second, [AppendOutcome::Duplicate, AppendOutcome::Accepted { seq: 3 }]);
    assert!(empty.is_empty());
    assert_eq!(store.count_events().unwrap(), 3);
    assert_eq!(store.last_seq().unwrap(), 3);
    let stored = store.events_since(0, 100).unwrap();
    assert_eq!(stored.iter().map(|e| &e.event).collect::<Vec<_>>(), [&e1, &e2, &e3]);
}

pub fn events_survive_reopen(harness: &dyn Harness) {
    let events = vec![rich_event("r1"), event("e2", "u1", "c1", EventType::Watch, 5)];
    let store = harness.open();
    store.append_events(&events).unwrap();
    drop(store);

    let store = harness.open();

    assert_eq!(store.count_events().unwrap(), 2);
    let stored: Vec<Event> =
        store.events_since(0, 10).unwrap().into_iter().map(|s| s.event).collect();
    assert_eq!(stored, events);
    assert_eq!(seqs(&store.append_events(&events).unwrap()), [None, None]);
    assert_eq!(store.count_events().unwrap(), 2);
}

pub fn events_since_pages_in_order(harness: &dyn Harness) {
    let store = harness.open();
    let events: Vec<Event> = (0..10)
        .map(|i| event(&format!("e{i}"), &format!("u{}", i % 3), "c", EventType::View, 100 - i))
        .collect();
    for chunk in events.chunks(4) {
        store.append_events(chunk).unwrap();
    }

    let page1 = store.events_since(0, 4).unwrap();
    let page2 = store.events_since(4, 100).unwrap();
    let page3 = store.events_since(10, 100).unwrap();

    assert_eq!(page1.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(page2.iter().map(|e| e.seq).collect::<Vec<_>>(), [5, 6, 7, 8, 9, 10]);
    assert!(page3.is_empty());
    let ids: Vec<&str> = page1.iter().chain(&page2).map(|e| e.event.event_id.as_str()).collect();
    let expected: Vec<String> = (0..10).map(|i| format!("e{i}")).collect();
    assert_eq!(ids, expected);
}

pub fn user_events_of_one_profile(harness: &dyn Harness) {
    let store = harness.open();
    store
        .append_events(&[
            event("a1", "alice", "c1", EventType::View, 1),
            event("b1", "bob", "c1", EventType::View, 2),
            anonymous("x1", "anon-1", "c2", 3),
            event("a2", "alice", "c2", EventType::Like, 4),
            event("a3", "alice", "c3", EventType::View, 5),
        ])
        .unwrap();

    let alice = store.user_events("alice", 0).unwrap();
    let alice_after = store.user_events("alice", 4).unwrap();
    let anon = store.user_events("anon-1", 0).unwrap();
    let nobody = store.user_events("carol", 0).unwrap();

    assert_eq!(alice.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 4, 5]);
    assert_eq!(alice_after.iter().map(|e| e.seq).collect::<Vec<_>>(), [5]);
    assert_eq!(anon.iter().map(|e| e.event.event_id.as_str()).collect::<Vec<_>>(), ["x1"]);
    assert!(nobody.is_empty());
}

pub fn states_round_trip_with_watermark_conflict(harness: &dyn Harness) {
    let store = harness.open();
    let events = vec![
        event("e1", "u1", "c1", EventType::View, 10),
        Event { value: Some(4.0), ..event("e2", "u1", "c1", EventType::Rating, 20) },
        event("e3", "u2", "c2", EventType::AddToCart, 30),
    ];
    store.append_events(&events).unwrap();
    let folded = ReducerState::fold(&events);
    let states: Vec<(&str, &centroid_core::UserState)> = folded.users_sorted();
    assert_eq!(store.watermark().unwrap(), Watermark::default());

    let saved = store.save_states(&states, 3, Watermark::default(), SaveMode::Upsert).unwrap();
    let stale = store.save_states(&states[..1], 3, Watermark::default(), SaveMode::Upsert);
    let beyond = store.save_states(&states, 4, saved, SaveMode::Upsert);

    assert_eq!(saved, Watermark { seq: 3, generation: 0 });
    assert_eq!(store.watermark().unwrap(), saved);
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert!(matches!(beyond, Err(StoreError::Invalid(_))), "{beyond:?}");
    assert_eq!(store.user_state("u1").unwrap().as_ref(), folded.user("u1"));
    assert_eq!(store.user_state("nobody").unwrap(), None);
    let loaded = store.load_states().unwrap();
    assert_eq!(loaded.users_sorted(), folded.users_sorted());
    let some = store.user_states(&["u2", "nobody", "u1"]).unwrap();
    assert_eq!(some.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["u2", "u1"]);
    assert_eq!(Some(&some[0].1), folded.user("u2"));
    drop(store);
    let store = harness.open();
    assert_eq!(store.watermark().unwrap(), saved);
    assert_eq!(store.load_states().unwrap().users_sorted(), folded.users_sorted());
}

pub fn states_replace_all(harness: &dyn Harness) {
    let store = harness.open();
    let events = vec![
        event("e1", "u1", "c1", EventType::View, 10),
        event("e2", "u2", "c2", EventType::View, 20),
    ];
    store.append_events(&events).unwrap();
    let both = ReducerState::fold(&events);
    let only_u2 = ReducerState::fold(&events[1..]);
    let start = Watermark::default();
    let saved = store.save_states(&both.users_sorted(), 2, start, SaveMode::Upsert).unwrap();

    let replaced =
        store.save_states(&only_u2.users_sorted(), 2, saved, SaveMode::ReplaceAll).unwrap();

    assert_eq!(replaced, saved);
    assert_eq!(store.user_state("u1").unwrap(), None);
    assert_eq!(store.load_states().unwrap().users_sorted(), only_u2.users_sorted());
}

fn item(id: &str, title: &str) -> ContentItem {
    let mut item = ContentItem::new(id);
    item.title = Some(title.to_owned());
    item.categories = vec!["books".into(), "sci-fi".into()];
    item.price = Some(12.5);
    item.url = Some(format!("https://shop.example/{id}"));
    item.image_url = Some(format!("https://shop.example/{id}.jpg"));
    item.attributes = json!({"brand": "acme", "year": 1965}).as_object().cloned().unwrap();
    item
}

pub fn catalogue_upsert_get_delete_deactivate(harness: &dyn Harness) {
    let store = harness.open();
    let dune = item("dune", "Dune");
    let emma = item("emma", "Emma");
    store.upsert_content(&[dune.clone(), emma.clone()]).unwrap();

    let bare = ContentItem::new("dune");
    let inserted = store.ensure_content(&[bare, ContentItem::new("zola")]).unwrap();
    let got = store.content(&["emma", "nothing", "dune"]).unwrap();

    assert_eq!(inserted, 1, "only the absent id is inserted");
    assert_eq!(got, [emma.clone(), dune.clone()], "ensure never overwrites richer data");
    assert_eq!(store.count_content().unwrap(), 3);

    let renamed = ContentItem { title: Some("Dune (1965)".into()), ..dune.clone() };
    store.upsert_content(std::slice::from_ref(&renamed)).unwrap();
    assert_eq!(store.content(&["dune"]).unwrap(), [renamed]);

    assert!(store.set_content_active("emma", false).unwrap());
    assert!(!store.set_content_active("nothing", false).unwrap());
    assert!(store.delete_content("zola").unwrap());
    assert!(!store.delete_content("zola").unwrap());
    let statuses = store.content_status(&["dune", "emma", "zola", "nothing"]).unwrap();
    assert_eq!(
        statuses,
        [
            ContentStatus::Active,
            ContentStatus::Inactive,
            ContentStatus::Missing,
            ContentStatus::Missing
        ]
    );
    assert_eq!(store.hidden_content().unwrap(), ["emma", "zola"]);
    assert!(store.content(&["zola"]).unwrap().is_empty());
    assert_eq!(store.count_content().unwrap(), 2);
    let emma_now = store.content(&["emma"]).unwrap();
    assert_eq!(emma_now, [ContentItem { active: false, ..emma.clone() }]);
    let listed: Vec<String> =
        store.list_content("", 10).unwrap().into_iter().map(|c| c.content_id).collect();
    assert_eq!(listed, ["dune", "emma"]);
    assert_eq!(store.list_content("dune", 10).unwrap().len(), 1);

    assert_eq!(store.ensure_content(&[ContentItem::new("zola")]).unwrap(), 0, "no revival");
    store.upsert_content(&[ContentItem::new("zola")]).unwrap();
    assert_eq!(store.content_status(&["zola"]).unwrap(), [ContentStatus::Active]);
    assert_eq!(store.hidden_content().unwrap(), ["emma"]);
}

/// A small trained-looking model, its predictions and view, built with the core's own code.
fn model_fixture(events: &[Event], k: usize, cluster_of: fn(&str) -> u32) -> Fixture {
    let state = ReducerState::fold(events);
    let spec = FeatureSpec::fit(&state, &FeatureOptions::default());
    let n_features = spec.n_features();
    let rows: Vec<f64> =
        state.users_sorted().iter().flat_map(|(_, u)| spec.raw(&u.aggregate)).collect();
    let scaler = Scaler::fit(&rows, n_features);
    let predictions: Vec<UserPrediction> = state
        .users_sorted()
        .iter()
        .map(|(id, _)| UserPrediction {
            user_id: (*id).to_owned(),
            cluster: cluster_of(id),
            distance: 0.5,
        })
        .collect();
    let view = ClusterView::build(&state, k, |id| Some(cluster_of(id)), &ViewParams::default());
    let model = ModelVersion {
        version: 0,
        trained_at_ms: 1_700_000_000_000,
        k,
        spec,
        scaler,
        centres: (0..k * n_features).map(|i| i as f32 * 0.25).collect(),
        inertia: 12.5,
        silhouette: Some(0.3),
        cluster_sizes: (0..k as u32)
            .map(|c| predictions.iter().filter(|p| p.cluster == c).count())
            .collect(),
        n_users: state.n_users(),
        n_events: state.n_events(),
        converged: true,
        seed: 7,
    };
    Fixture { model, predictions, view }
}

struct Fixture {
    model: ModelVersion,
    predictions: Vec<UserPrediction>,
    view: ClusterView,
}

fn model_events() -> Vec<Event> {
    let mut events = Vec::new();
    for (i, user) in ["ann", "ben", "cat", "dan"].into_iter().enumerate() {
        for j in 0..=i {
            let content = format!("c{}", (i + j) % 3);
            events.push(event(&format!("{user}{j}"), user, &content, EventType::View, j as i64));
        }
        let rating = Event {
            value: Some(1.0 + i as f64),
            ..event(&format!("{user}r"), user, "c9", EventType::Rating, 9)
        };
        events.push(rating);
    }
    events
}

pub fn publish_model_versions_do_not_mix(harness: &dyn Harness) {
    let store = harness.open();
    let events = model_events();
    let v1 = model_fixture(&events, 2, |id| u32::from(id < "c"));
    let v2 = model_fixture(&events, 3, |id| (id.as_bytes()[0] % 3) as u32);
    assert_eq!(store.current_model().unwrap(), None);
    assert_eq!(store.user_prediction("ann").unwrap(), None);

    let n1 = store.publish_model(&v1.model, &v1.predictions, &v1.view).unwrap();
    let n2 = store.publish_model(&v2.model, &v2.predictions, &v2.view).unwrap();

    assert_eq!((n1, n2), (1, 2));
    let current = store.current_model().unwrap().unwrap();
    assert_eq!(current, ModelVersion { version: 2, ..v2.model.clone() });
    assert_eq!(store.model(1).unwrap(), Some(ModelVersion { version: 1, ..v1.model.clone() }));
    assert_eq!(store.view(1).unwrap().as_ref(), Some(&v1.view));
    assert_eq!(store.view(2).unwrap().as_ref(), Some(&v2.view));
    assert_eq!(store.predictions(1).unwrap(), v1.predictions);
    let ann = v2.predictions.iter().find(|p| p.user_id == "ann").cloned().unwrap();
    assert_eq!(store.user_prediction("ann").unwrap(), Some((2, ann)));
    assert_eq!(store.user_prediction("nobody").unwrap(), None);

    let n3 = store.publish_model(&v1.model, &v1.predictions, &v1.view).unwrap();
    let listed = store.list_models().unwrap();

    assert_eq!(n3, 3);
    assert_eq!(store.view(1).unwrap(), None, "views older than the previous version are pruned");
    assert!(store.predictions(1).unwrap().is_empty());
    assert_eq!(store.view(2).unwrap().as_ref(), Some(&v2.view));
    assert_eq!(
        listed.iter().map(|m| (m.version, m.k, m.has_view)).collect::<Vec<_>>(),
        [(1, 2, false), (2, 3, true), (3, 2, true)]
    );
    assert_eq!(listed[0].n_users, 4);
}

pub fn failed_publish_keeps_current_model(harness: &dyn Harness) {
    let store = harness.open();
    let events = model_events();
    let good = model_fixture(&events, 2, |id| u32::from(id < "c"));
    store.publish_model(&good.model, &good.predictions, &good.view).unwrap();
    let mut bad_predictions = good.predictions.clone();
    bad_predictions.push(UserPrediction { user_id: "zed".into(), cluster: 7, distance: 1.0 });
    let mut bad_view = good.view.clone();
    bad_view.clusters[0].top[0]
        .push(centroid_core::view::RankedItem { content_id: "x".into(), score: f64::NAN });

    let wrong_cluster = store.publish_model(&good.model, &bad_predictions, &good.view);
    let nan_score = store.publish_model(&good.model, &good.predictions, &bad_view);

    assert!(wrong_cluster.is_err());
    assert!(nan_score.is_err());
    assert_eq!(store.current_model().unwrap().map(|m| m.version), Some(1));
    assert_eq!(store.list_models().unwrap().len(), 1);
    assert_eq!(store.view(1).unwrap().as_ref(), Some(&good.view));
    assert_eq!(store.user_prediction("zed").unwrap(), None);
}

pub fn merge_profiles_moves_events_and_state(harness: &dyn Harness) {
    let store = harness.open();
    let before = vec![
        anonymous("x1", "anon", "c1", 1),
        anonymous("x2", "anon", "c2", 2),
        event("u1", "user", "c1", EventType::Purchase, 3),
    ];
    store.append_events(&before).unwrap();
    let folded = ReducerState::fold(&before);
    let start = store.watermark().unwrap();
    let saved = store.save_states(&folded.users_sorted(), 3, start, SaveMode::Upsert).unwrap();
    // Not yet folded: must be re-attributed too, and folded later under the user.
    store.append_events(&[anonymous("x3", "anon", "c3", 4)]).unwrap();

    let merged = store.merge_profiles("anon", "user").unwrap();

    assert_eq!(merged.events_moved, 3);
    assert!(merged.state_merged);
    assert_ne!(merged.watermark.generation, saved.generation);
    assert_eq!(merged.watermark.seq, 3);
    let user_events: Vec<String> =
        store.user_events("user", 0).unwrap().into_iter().map(|e| e.event.event_id).collect();
    assert_eq!(user_events, ["x1", "x2", "u1", "x3"]);
    assert!(store.user_events("anon", 0).unwrap().is_empty());
    let mut expected = ReducerState::fold(&before);
    expected.merge_profiles("anon", "user");
    assert_eq!(store.user_state("user").unwrap().as_ref(), expected.user("user"));
    assert_eq!(store.user_state("anon").unwrap(), None);
    assert_eq!(store.linked_user("anon").unwrap().as_deref(), Some("user"));
    let stale = store.save_states(&[], 4, saved, SaveMode::Upsert);
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");

    let later = store.append_events(&[anonymous("x4", "anon", "c1", 5)]).unwrap();
    let stored = store.events_since(later[0].seq().unwrap() - 1, 1).unwrap();
    assert_eq!(stored[0].event.user_id.as_deref(), Some("user"));
    assert_eq!(stored[0].event.anonymous_id.as_deref(), Some("anon"));

    let again = store.merge_profiles("anon", "user").unwrap();
    assert_eq!((again.events_moved, again.state_merged), (0, false));
    assert_eq!(again.watermark, merged.watermark, "a repeated merge changes nothing");
    let other = store.merge_profiles("anon", "someone-else");
    assert!(matches!(other, Err(StoreError::Conflict(_))), "{other:?}");
    assert!(store.merge_profiles("user", "user").is_err());
}

pub fn delete_profile_removes_everything(harness: &dyn Harness) {
    let store = harness.open();
    let events = model_events();
    store.append_events(&events).unwrap();
    store.append_events(&[anonymous("x1", "anon", "c1", 1)]).unwrap();
    store.merge_profiles("anon", "ben").unwrap();
    let folded = ReducerState::fold(&events);
    let start = store.watermark().unwrap();
    let last = store.last_seq().unwrap();
    store.save_states(&folded.users_sorted(), last, start, SaveMode::Upsert).unwrap();
    let fixture = model_fixture(&events, 2, |id| u32::from(id < "c"));
    store.publish_model(&fixture.model, &fixture.predictions, &fixture.view).unwrap();
    store.publish_model(&fixture.model, &fixture.predictions, &fixture.view).unwrap();
    let ben_events = events.iter().filter(|e| e.actor() == "ben").count() as u64 + 1;
    let total = store.count_events().unwrap();
    let generation = store.watermark().unwrap().generation;

    let deleted = store.delete_profile("ben").unwrap();
    let nothing = store.delete_profile("ben").unwrap();

    assert_eq!(deleted.events, ben_events);
    assert_eq!(deleted.states, 1);
    assert_eq!(deleted.predictions, 2, "one per stored model version");
    assert_eq!(deleted.identity_links, 1);
    assert_eq!(nothing, crate::DeletedCounts::default());
    assert_eq!(store.count_events().unwrap(), total - ben_events);
    assert!(store.user_events("ben", 0).unwrap().is_empty());
    assert_eq!(store.user_state("ben").unwrap(), None);
    assert_eq!(store.user_prediction("ben").unwrap(), None);
    assert_eq!(store.linked_user("anon").unwrap(), None);
    assert!(store.load_states().unwrap().user("ben").is_none());
    assert!(store.watermark().unwrap().generation > generation);
    assert!(store.user_state("ann").unwrap().is_some(), "other profiles are kept");
}

pub fn two_handles_share_one_log(harness: &dyn Harness) {
    let a = harness.open();
    let b = harness.open();

    let from_a = a.append_events(&[event("e1", "u", "c", EventType::View, 1)]).unwrap();
    let from_b = b
        .append_events(&[
            event("e1", "u", "c", EventType::View, 1),
            event("e2", "u", "c", EventType::View, 2),
        ])
        .unwrap();

    assert_eq!(seqs(&from_a), [Some(1)]);
    assert_eq!(seqs(&from_b), [None, Some(2)]);
    assert_eq!(a.count_events().unwrap(), 2);
    assert_eq!(a.events_since(0, 10).unwrap().len(), 2);
}

pub fn integrity_check_passes(harness: &dyn Harness) {
    let store = harness.open();
    store.append_events(&model_events()).unwrap();
    store.integrity_check().unwrap();
}
