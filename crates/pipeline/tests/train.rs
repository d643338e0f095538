//! Training end to end on synthetic personas whose right clustering is known.

use centroid_core::event::{Event, EventType};
use centroid_core::reducer::ReducerState;
use centroid_core::view::{Metric, Ranking};
use centroid_pipeline::{train, KChoice, TrainParams};

fn event(
    id: usize,
    user: &str,
    content: &str,
    event_type: EventType,
    value: Option<f64>,
    category: &str,
) -> Event {
    Event {
        event_id: format!("e{id}"),
        user_id: Some(user.to_owned()),
        anonymous_id: None,
        session_id: None,
        event_type,
        content_id: content.to_owned(),
        timestamp_ms: id as i64,
        received_at_ms: 0,
        value,
        categories: vec![category.to_owned()],
        properties: Default::default(),
    }
}

/// Three personas: sports viewers, book buyers, film watchers; `n` users each.
fn personas(n: usize, extra_user_events: usize) -> Vec<Event> {
    let mut events = Vec::new();
    let mut id = 0;
    let mut push = |events: &mut Vec<Event>, user: &str, content: &str, t, v, cat| {
        id += 1;
        events.push(event(id, user, content, t, v, cat));
    };
    for u in 0..n {
        let sport = format!("sport{u}");
        let book = format!("book{u}");
        let film = format!("film{u}");
        for i in 0..(6 + u % 3 + extra_user_events) {
            push(&mut events, &sport, &format!("s{}", i % 4), EventType::View, None, "sport");
            push(
                &mut events,
                &book,
                &format!("b{}", i % 5),
                EventType::Purchase,
                Some(1.0),
                "books",
            );
            push(&mut events, &film, &format!("f{}", i % 3), EventType::Watch, Some(600.0), "film");
        }
    }
    events
}

fn cluster_of(trained: &centroid_pipeline::Trained, user: &str) -> u32 {
    trained.predictions.iter().find(|p| p.user_id == user).unwrap().cluster
}

#[test]
fn three_personas_give_three_pure_clusters() {
    let state = ReducerState::fold(&personas(10, 0));
    let params = TrainParams { k: KChoice::Fixed(3), ..TrainParams::default() };

    let trained = train(&state, &params, None).unwrap();

    assert_eq!(trained.model.k, 3);
    assert_eq!(trained.predictions.len(), 30);
    let mut sizes = trained.model.cluster_sizes.clone();
    sizes.sort_unstable();
    assert_eq!(sizes, [10, 10, 10]);
    for persona in ["sport", "book", "film"] {
        let first = cluster_of(&trained, &format!("{persona}0"));
        for u in 1..10 {
            assert_eq!(cluster_of(&trained, &format!("{persona}{u}")), first, "{persona}{u}");
        }
    }

    // Each cluster's top list holds its persona's content, and differs from the global one.
    let books = cluster_of(&trained, "book0");
    let top = trained.view.lists(Some(books)).list(Metric::Purchases, Ranking::Top);
    assert!(top.iter().all(|item| item.content_id.starts_with('b')));
    let sport = cluster_of(&trained, "sport0");
    let sport_views = trained.view.lists(Some(sport)).list(Metric::Engagement, Ranking::Top);
    let global = trained.view.lists(None).list(Metric::Engagement, Ranking::Top);
    assert_ne!(sport_views[0].content_id, global[0].content_id);
}

#[test]
fn auto_k_finds_the_three_personas_and_says_why() {
    let state = ReducerState::fold(&personas(12, 0));

    let trained = train(&state, &TrainParams::default(), None).unwrap();

    let selection = trained.k_selection.unwrap();
    assert_eq!(selection.chosen, 3, "{}", selection.reason);
    assert!(selection.reason.contains("silhouette"));
    assert!(trained.model.silhouette.unwrap() > 0.5);
}

#[test]
fn retraining_keeps_the_ids_of_clusters_that_did_not_move() {
    let state = ReducerState::fold(&personas(10, 0));
    let params = TrainParams { k: KChoice::Fixed(3), ..TrainParams::default() };
    let first = train(&state, &params, None).unwrap();

    // More events of the same kind, and a different seed that would number clusters anew.
    let state = ReducerState::fold(&personas(10, 2));
    let params = TrainParams { seed: 7, ..params };
    let second = train(&state, &params, Some(&first.model)).unwrap();

    for user in ["sport3", "book5", "film9"] {
        assert_eq!(cluster_of(&second, user), cluster_of(&first, user), "{user}");
    }
}

#[test]
fn fewer_users_than_clusters_reduces_k() {
    let events = [
        event(1, "a", "x", EventType::View, None, "c"),
        event(2, "b", "y", EventType::Like, None, "d"),
    ];
    let state = ReducerState::fold(&events);
    let params = TrainParams { k: KChoice::Fixed(5), ..TrainParams::default() };

    let trained = train(&state, &params, None).unwrap();

    assert_eq!(trained.model.k, 2);
    assert!(trained.model.centres.iter().all(|x| x.is_finite()));
}

#[test]
fn an_empty_state_is_a_clear_error() {
    let err = train(&ReducerState::new(), &TrainParams::default(), None).unwrap_err();

    assert_eq!(err.to_string(), "no users with events to train on");
}

#[test]
fn a_visitor_posting_a_training_users_events_lands_where_that_user_is() {
    let events = personas(10, 0);
    let state = ReducerState::fold(&events);
    let params = TrainParams { k: KChoice::Fixed(3), ..TrainParams::default() };
    let trained = train(&state, &params, None).unwrap();
    let placer = centroid_pipeline::Placer::new(trained.model.clone()).unwrap();

    // The browser posts book4's events under an anonymous id.
    let posted: Vec<Event> = events
        .iter()
        .filter(|e| e.user_id.as_deref() == Some("book4"))
        .map(|e| Event { user_id: None, anonymous_id: Some("anon".into()), ..e.clone() })
        .collect();
    let placement = placer.place_events(&posted).unwrap();

    let expected = trained.predictions.iter().find(|p| p.user_id == "book4").unwrap();
    let centroid_pipeline::Placement::Cluster(assignment) = placement else {
        panic!("expected a cluster, got {placement:?}");
    };
    assert_eq!(assignment.cluster, expected.cluster);
    assert!((assignment.distance - expected.distance).abs() < 1e-4);
    assert!(assignment.runner_up.is_some());
    assert_eq!(placer.place_events(&[]).unwrap(), centroid_pipeline::Placement::Global);
}

#[test]
fn selection_fills_from_global_and_skips_excluded_and_hidden_items() {
    let state = ReducerState::fold(&personas(10, 0));
    let params = TrainParams { k: KChoice::Fixed(3), ..TrainParams::default() };
    let trained = train(&state, &params, None).unwrap();
    let books = cluster_of(&trained, "book0");
    let exclude: std::collections::HashSet<String> = ["b0".to_owned()].into();
    let selection = centroid_pipeline::Selection {
        cluster: Some(books),
        metric: Metric::Purchases,
        ranking: Ranking::Top,
        offset: 0,
        limit: 6,
        exclude: &exclude,
    };

    let items = centroid_pipeline::select(&trained.view, &selection, |id| id != "b1");

    // The book cluster bought b0..b4 only; b0 is excluded and b1 hidden, so three remain and
    // the global purchases list has nothing else: the list is as long as it can be.
    let ids: Vec<&str> = items.iter().map(|r| r.content_id.as_str()).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| ["b2", "b3", "b4"].contains(id)));
    assert_eq!(items.iter().map(|r| r.rank).collect::<Vec<_>>(), [1, 2, 3]);

    // Engagement fills the cluster's list with other clusters' items from the global list.
    let selection =
        centroid_pipeline::Selection { metric: Metric::Engagement, limit: 10, ..selection };
    let items = centroid_pipeline::select(&trained.view, &selection, |_| true);
    assert_eq!(items.len(), 10);
    assert!(items[..4].iter().all(|r| !r.from_global && r.content_id.starts_with('b')));
    assert!(items[4..].iter().all(|r| r.from_global && !r.content_id.starts_with('b')));

    // Paging: offset 4 continues exactly where the first four stopped.
    let page = centroid_pipeline::select(
        &trained.view,
        &centroid_pipeline::Selection { offset: 4, limit: 3, ..selection },
        |_| true,
    );
    assert_eq!(
        page.iter().map(|r| r.content_id.clone()).collect::<Vec<_>>(),
        items[4..7].iter().map(|r| r.content_id.clone()).collect::<Vec<_>>()
    );
}
