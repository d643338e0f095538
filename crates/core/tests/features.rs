//! Feature values checked against hand-computed numbers.

use centroid_core::event::{Event, EventType};
use centroid_core::features::{FeatureOptions, FeatureSpec, FeatureTable, Scaler};
use centroid_core::reducer::ReducerState;

fn event(id: u32, user: &str, event_type: EventType, value: Option<f64>, category: &str) -> Event {
    Event {
        event_id: id.to_string(),
        user_id: Some(user.to_owned()),
        anonymous_id: None,
        session_id: None,
        event_type,
        content_id: format!("c{id}"),
        timestamp_ms: i64::from(id),
        received_at_ms: 0,
        value,
        categories: if category.is_empty() { vec![] } else { vec![category.to_owned()] },
        properties: Default::default(),
    }
}

#[test]
fn default_features_match_hand_computed_values() {
    // u1: 3 events (2 in "b", 1 in "a"), a rating of 4 and a watch of 30 s.
    // u2: 1 event in "b", a watch of 10 s.
    let events = [
        event(1, "u1", EventType::View, None, "b"),
        event(2, "u1", EventType::Rating, Some(4.0), "b"),
        event(3, "u1", EventType::Watch, Some(30.0), "a"),
        event(4, "u2", EventType::Watch, Some(10.0), "b"),
    ];
    let state = ReducerState::fold(&events);

    let spec = FeatureSpec::fit(&state, &FeatureOptions { top_categories: 1 });
    let table = FeatureTable::build(&state, &spec);

    // "b" has 3 events, "a" 1: "b" is the one top category.
    assert_eq!(spec.top_categories, vec!["b".to_owned()]);
    assert_eq!(spec.total_watch_seconds, 40.0);
    assert_eq!(
        table.names,
        [
            "cat_00",
            "cat_other",
            "log1p_n_view",
            "log1p_n_add_to_cart",
            "log1p_n_remove_from_cart",
            "log1p_n_purchase",
            "log1p_n_like",
            "log1p_n_rating",
            "log1p_n_watch",
            "mean_rating",
            "watch_share",
        ]
    );
    let ln2 = 2f64.ln();
    let u1 = [2.0 / 3.0, 1.0 / 3.0, ln2, 0.0, 0.0, 0.0, 0.0, ln2, ln2, 4.0, 0.75];
    let u2 = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, ln2, 0.0, 0.25];
    assert_eq!(table.users, ["u1", "u2"]);
    assert_eq!(&table.raw[..11], &u1);
    assert_eq!(&table.raw[11..], &u2);

    // Two rows: each non-constant column scales to -1 and +1; constant ones to 0.
    for j in 0..11 {
        let (a, b) = (table.scaled[j], table.scaled[11 + j]);
        if u1[j] == u2[j] {
            assert_eq!((a, b), (0.0, 0.0), "column {j}");
        } else {
            assert!((a.abs() - 1.0).abs() < 1e-12 && (a + b).abs() < 1e-12, "column {j}");
        }
    }
}

#[test]
fn ties_between_categories_go_to_the_smaller_name() {
    let events = [
        event(1, "u1", EventType::View, None, "zeta"),
        event(2, "u1", EventType::View, None, "alpha"),
        event(3, "u1", EventType::View, None, "mid"),
        event(4, "u1", EventType::View, None, "mid"),
    ];

    let spec =
        FeatureSpec::fit(&ReducerState::fold(&events), &FeatureOptions { top_categories: 2 });

    assert_eq!(spec.top_categories, ["mid", "alpha"]);
}

#[test]
fn constant_and_empty_columns_never_yield_nan_or_inf() {
    // Nobody rates or watches: mean_rating and watch_share are 0/0 cases.
    let events =
        [event(1, "u1", EventType::View, None, "a"), event(2, "u2", EventType::View, None, "a")];
    let state = ReducerState::fold(&events);

    let spec = FeatureSpec::fit(&state, &FeatureOptions::default());
    let table = FeatureTable::build(&state, &spec);

    assert!(table.raw.iter().chain(&table.scaled).all(|x| x.is_finite()));
    assert!(table.scaled.iter().all(|&x| x == 0.0), "every column is constant");
}

#[test]
fn near_constant_column_scales_finitely() {
    let rows = [1.0, 1.0 + f64::EPSILON, 1.0];
    let scaler = Scaler::fit(&rows, 1);

    let mut row = [1.0 + f64::EPSILON];
    scaler.transform(&mut row);

    assert!(row[0].is_finite());
    let mut far = [1e300];
    scaler.transform(&mut far);
    assert!(far[0].is_finite());
}

#[test]
fn a_new_visitor_is_scaled_with_the_saved_parameters() {
    let rows = [0.0, 10.0, 2.0, 30.0];
    let scaler = Scaler::fit(&rows, 2);

    let mut visitor = [4.0, 20.0];
    scaler.transform(&mut visitor);

    // Column 0: mean 1, std 1. Column 1: mean 20, std 10.
    assert_eq!(visitor, [3.0, 0.0]);
    assert_eq!(scaler.mean, [1.0, 20.0]);
}
