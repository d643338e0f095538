//! The cluster-content view against hand-computed rankings.

use centroid_core::event::{Event, EventType};
use centroid_core::reducer::ReducerState;
use centroid_core::view::{ClusterView, Metric, Ranking, ViewParams};

fn event(id: u32, user: &str, content: &str, event_type: EventType, value: Option<f64>) -> Event {
    Event {
        event_id: id.to_string(),
        user_id: Some(user.to_owned()),
        anonymous_id: None,
        session_id: None,
        event_type,
        content_id: content.to_owned(),
        timestamp_ms: 0,
        received_at_ms: 0,
        value,
        categories: vec![],
        properties: Default::default(),
    }
}

fn ids(list: &[centroid_core::view::RankedItem]) -> Vec<&str> {
    list.iter().map(|item| item.content_id.as_str()).collect()
}

#[test]
fn ranks_by_metric_with_ties_broken_by_content_id() {
    // Cluster 0 = {a, b}, cluster 1 = {c}.
    let events = [
        event(1, "a", "x", EventType::View, None),
        event(2, "b", "x", EventType::View, None),
        event(3, "a", "y", EventType::View, None),
        event(4, "b", "w", EventType::View, None),
        event(5, "a", "w", EventType::Purchase, Some(1.0)),
        event(6, "c", "z", EventType::View, None),
        event(7, "c", "z", EventType::View, None),
        event(8, "c", "x", EventType::View, None),
    ];
    let state = ReducerState::fold(&events);
    let cluster_of = |u: &str| Some(if u == "c" { 1 } else { 0 });

    let view = ClusterView::build(&state, 2, cluster_of, &ViewParams::default());

    let c0 = view.lists(Some(0));
    assert_eq!(ids(c0.list(Metric::Views, Ranking::Top)), ["x", "w", "y"]);
    assert_eq!(c0.list(Metric::Views, Ranking::Top)[0].score, 2.0);
    assert_eq!(ids(c0.list(Metric::Purchases, Ranking::Top)), ["w"]);
    assert_eq!(ids(view.lists(Some(1)).list(Metric::Views, Ranking::Top)), ["z", "x"]);
    // Global: x 3 views, z 2, then w and y with 1 each in id order.
    assert_eq!(ids(view.lists(None).list(Metric::Views, Ranking::Top)), ["x", "z", "w", "y"]);
    assert_eq!(view.lists(Some(9)), view.lists(None));
    assert_eq!((c0.n_users, view.global.n_users), (2, 3));
}

#[test]
fn one_five_star_vote_does_not_top_a_smoothed_list() {
    let mut events = vec![event(1, "a", "single", EventType::Rating, Some(5.0))];
    for i in 0..10 {
        events.push(event(10 + i, &format!("u{i}"), "steady", EventType::Rating, Some(4.5)));
        events.push(event(30 + i, &format!("u{i}"), "weak", EventType::Rating, Some(2.0)));
    }
    let state = ReducerState::fold(&events);

    let view = ClusterView::build(&state, 1, |_| Some(0), &ViewParams::default());

    // mu = (5 + 45 + 20) / 21; single = (5 + 5 mu) / 6; steady = (45 + 5 mu) / 15.
    let mu = 70.0 / 21.0;
    let list = view.lists(Some(0)).list(Metric::Rating, Ranking::Top);
    assert_eq!(ids(list), ["steady", "single", "weak"]);
    assert!((list[0].score - (45.0 + 5.0 * mu) / 15.0).abs() < 1e-12);
    assert!((list[1].score - (5.0 + 5.0 * mu) / 6.0).abs() < 1e-12);
}

#[test]
fn lift_keeps_a_globally_viral_item_from_topping_every_cluster() {
    // "viral" is viewed by everyone; "niche" only by cluster 0, a little.
    let mut events = Vec::new();
    let mut id = 0;
    for user in ["a", "b", "c", "d"] {
        for _ in 0..5 {
            id += 1;
            events.push(event(id, user, "viral", EventType::View, None));
        }
    }
    for _ in 0..3 {
        id += 1;
        events.push(event(id, "a", "niche", EventType::View, None));
    }
    let state = ReducerState::fold(&events);
    let params = ViewParams { lift_pseudo_count: 1.0, ..ViewParams::default() };
    let cluster_of = |u: &str| Some(if u == "a" || u == "b" { 0 } else { 1 });

    let view = ClusterView::build(&state, 2, cluster_of, &params);

    let c0 = view.lists(Some(0));
    assert_eq!(ids(c0.list(Metric::Views, Ranking::Top)), ["viral", "niche"]);
    assert_eq!(ids(c0.list(Metric::Views, Ranking::Lift)), ["niche", "viral"]);
    // C_0 = 13, G = 23: niche expects 13·3/23; lift = (3 + 1) / (39/23 + 1).
    let expected = 4.0 / (39.0 / 23.0 + 1.0);
    assert!((c0.list(Metric::Views, Ranking::Lift)[0].score - expected).abs() < 1e-12);
    assert!(c0.list(Metric::Rating, Ranking::Lift).is_empty());
}

#[test]
fn lists_are_cut_to_top_n() {
    let events: Vec<Event> =
        (0..50).map(|i| event(i, "a", &format!("c{i:02}"), EventType::View, None)).collect();
    let state = ReducerState::fold(&events);
    let params = ViewParams { top_n: 7, ..ViewParams::default() };

    let view = ClusterView::build(&state, 1, |_| Some(0), &params);

    let list = view.lists(Some(0)).list(Metric::Views, Ranking::Top);
    assert_eq!(ids(list), ["c00", "c01", "c02", "c03", "c04", "c05", "c06"]);
}
