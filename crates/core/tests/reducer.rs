//! Properties of the shared reducer: order, splits and repeats never change the tables.

use centroid_core::event::{Event, EventType};
use centroid_core::features::{FeatureOptions, FeatureSpec, FeatureTable};
use centroid_core::reducer::{Applied, ReducerState, CATEGORY_UNIT};
use proptest::prelude::*;

fn event(
    id: &str,
    user: &str,
    content: &str,
    event_type: EventType,
    ts: i64,
    value: Option<f64>,
    categories: &[&str],
) -> Event {
    Event {
        event_id: id.to_owned(),
        user_id: Some(user.to_owned()),
        anonymous_id: None,
        session_id: None,
        event_type,
        content_id: content.to_owned(),
        timestamp_ms: ts,
        received_at_ms: ts,
        value,
        categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        properties: Default::default(),
    }
}

/// A snapshot of everything the fold produces, in a comparable form.
fn snapshot(state: &ReducerState) -> (Vec<String>, Vec<u64>) {
    let table = state
        .interaction_table()
        .into_iter()
        .map(|row| format!("{}|{}|{:?}", row.user_id, row.content_id, row.interaction))
        .collect();
    let spec = FeatureSpec::fit(state, &FeatureOptions::default());
    let features = FeatureTable::build(state, &spec);
    let bits = features.raw.iter().chain(&features.scaled).map(|x| x.to_bits()).collect();
    (table, bits)
}

fn arb_event() -> impl Strategy<Value = Event> {
    (
        0u32..40,
        0u32..6,
        0u32..12,
        0usize..7,
        0i64..1_000_000,
        0u32..11,
        prop::sample::subsequence(vec!["a", "b", "c", "d"], 0..=3),
    )
        .prop_map(|(id, user, content, t, ts, v, cats)| {
            let event_type = EventType::ALL[t];
            let value = match event_type {
                EventType::Rating => Some(0.5 * f64::from(v.max(1))),
                EventType::Watch => Some(f64::from(v) * 13.7),
                _ => None,
            };
            // The same id always carries the same fields, as a client retry does.
            let _ = (user, content, ts);
            let user = id % 6;
            let content = (id * 7) % 12;
            event(
                &format!("e{id}"),
                &format!("u{user}"),
                &format!("c{content}"),
                event_type,
                ts,
                value,
                &cats,
            )
        })
}

proptest! {
    #[test]
    fn shuffled_input_folds_to_identical_tables(events in prop::collection::vec(arb_event(), 1..80), seed in any::<u64>()) {
        // Duplicates by id are dropped before we compare, so only order differs.
        let mut unique = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for e in &events {
            if seen.insert(e.event_id.clone()) { unique.push(e.clone()); }
        }
        let mut shuffled = unique.clone();
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(snapshot(&ReducerState::fold(&unique)), snapshot(&ReducerState::fold(&shuffled)));
    }

    #[test]
    fn resplit_input_folds_to_identical_tables(events in prop::collection::vec(arb_event(), 1..80), cut in 0usize..80) {
        let whole = ReducerState::fold(&events);

        // Split by event id so that a repeated id lands in one part (as the parallel fold
        // shards), fold each part alone, then merge.
        let (left, right): (Vec<Event>, Vec<Event>) = events.iter().cloned().partition(|e| {
            e.event_id.trim_start_matches('e').parse::<usize>().unwrap() < cut % 40
        });
        let mut merged = ReducerState::fold(&left);
        merged.merge(ReducerState::fold(&right)).unwrap();
        prop_assert_eq!(snapshot(&whole), snapshot(&merged));

        // Folding new events into an existing state (the incremental path) agrees too.
        let mut incremental = ReducerState::fold(&events[..cut.min(events.len())]);
        for e in &events[cut.min(events.len())..] {
            incremental.apply(e);
        }
        prop_assert_eq!(snapshot(&whole), snapshot(&incremental));
    }
}

#[test]
fn the_same_event_posted_twice_counts_once() {
    let e = event("id-1", "u1", "c1", EventType::Purchase, 10, Some(2.0), &["shoes"]);
    let mut state = ReducerState::new();

    assert_eq!(state.apply(&e), Applied::Counted);
    assert_eq!(state.apply(&e), Applied::Duplicate);

    let user = state.user("u1").unwrap();
    assert_eq!(user.aggregate.counts[EventType::Purchase.index()], 1);
    assert_eq!(user.interactions["c1"].count(EventType::Purchase), 1);
    assert_eq!(state.n_events(), 1);
}

#[test]
fn merging_states_that_share_an_event_is_refused() {
    let e = event("id-1", "u1", "c1", EventType::View, 10, None, &[]);
    let mut a = ReducerState::fold([&e]);
    let before = snapshot(&a);

    let err = a.merge(ReducerState::fold([&e])).unwrap_err();

    assert_eq!(err.shared, 1);
    assert_eq!(snapshot(&a), before);
}

#[test]
fn interaction_table_matches_hand_computed_values() {
    let events = [
        event("1", "u1", "c1", EventType::View, 100, None, &["x"]),
        event("2", "u1", "c1", EventType::Rating, 50, Some(4.5), &["x"]),
        event("3", "u1", "c1", EventType::Rating, 300, Some(3.0), &["x"]),
        event("4", "u1", "c1", EventType::Watch, 200, Some(61.5), &["x"]),
        event("5", "u1", "c1", EventType::Watch, 250, None, &["x"]),
        event("6", "u2", "c1", EventType::Like, 7, None, &["x"]),
    ];

    let state = ReducerState::fold(&events);
    let table = state.interaction_table();

    assert_eq!(table.len(), 2);
    let row = &table[0];
    assert_eq!((row.user_id, row.content_id), ("u1", "c1"));
    assert_eq!(row.interaction.counts, [1, 0, 0, 0, 0, 2, 2]);
    assert_eq!(row.interaction.rating_sum.to_f64(), 7.5);
    assert_eq!(row.interaction.mean_rating(), Some(3.75));
    assert_eq!(row.interaction.watch_seconds.to_f64(), 61.5);
    assert_eq!((row.interaction.first_ts, row.interaction.last_ts), (50, 300));
    assert_eq!(table[1].user_id, "u2");
    assert_eq!(table[1].interaction.counts, [0, 0, 0, 0, 1, 0, 0]);
}

#[test]
fn multi_category_content_splits_its_weight_equally() {
    let events = [
        event("1", "u1", "c1", EventType::View, 1, None, &["a", "b", "c"]),
        event("2", "u1", "c2", EventType::View, 2, None, &["a"]),
    ];

    let state = ReducerState::fold(&events);
    let weights = &state.user("u1").unwrap().aggregate.category_weights;

    assert_eq!(weights["a"], CATEGORY_UNIT + CATEGORY_UNIT / 3);
    assert_eq!(weights["b"], CATEGORY_UNIT / 3);
    assert_eq!(weights["c"], CATEGORY_UNIT / 3);
}

#[test]
fn anonymous_profile_merges_into_the_user() {
    let mut anonymous = event("1", "x", "c1", EventType::View, 1, None, &[]);
    anonymous.user_id = None;
    anonymous.anonymous_id = Some("anon-1".into());
    let known = event("2", "u1", "c1", EventType::Like, 2, None, &[]);
    let mut state = ReducerState::fold([&anonymous, &known]);

    assert!(state.merge_profiles("anon-1", "u1"));

    assert!(state.user("anon-1").is_none());
    let user = state.user("u1").unwrap();
    assert_eq!(user.interactions["c1"].counts, [1, 0, 0, 0, 1, 0, 0]);
    assert_eq!((user.aggregate.first_ts, user.aggregate.last_ts), (1, 2));
}

#[test]
fn user_state_round_trips_through_its_binary_form() {
    let events = [
        event("1", "u1", "c1", EventType::Rating, 5, Some(4.0), &["a", "b"]),
        event("2", "u1", "c2", EventType::Watch, 9, Some(12.25), &[]),
    ];
    let state = ReducerState::fold(&events);
    let user = state.user("u1").unwrap();

    let decoded = centroid_core::UserState::decode(&user.encode()).unwrap();

    assert_eq!(&decoded, user);
    assert!(centroid_core::UserState::decode(b"\x07garbage").is_err());
}
