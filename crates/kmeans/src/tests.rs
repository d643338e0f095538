//! Behaviour tests of the public API, with hand-computed right answers.

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::kernel::sq_dist;
use crate::*;

fn fit_with(
    values: &[f32],
    n_features: usize,
    params: KMeansParams,
) -> Result<KMeans, KMeansError> {
    let data = Matrix::new(values, values.len() / n_features, n_features)?;
    fit(&params.check()?, data)
}

fn from_centres(k: usize, centres: &[f32]) -> KMeansParams {
    KMeansParams::new(k).init(Init::Centres(centres.to_vec()))
}

/// `n_per` points around each centre, uniform noise of half-width `spread`.
fn blobs(centres: &[[f32; 2]], n_per: usize, spread: f32, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut values = Vec::new();
    for _ in 0..n_per {
        for centre in centres {
            for &c in centre {
                values.push(c + rng.gen_range(-spread..spread));
            }
        }
    }
    values
}

fn random_data(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n * d).map(|i| rng.gen_range(-1.0f32..1.0) + ((i / d) % 5) as f32 * 3.0).collect()
}

#[test]
fn two_pairs_on_a_line_give_their_midpoints() {
    let values = [0.0, 1.0, 10.0, 11.0];

    let model = fit_with(&values, 1, from_centres(2, &[0.0, 10.0])).unwrap();

    assert_eq!(model.centres(), [0.5, 10.5]);
    assert_eq!(model.inertia(), 1.0);
    assert_eq!(model.labels(), [0, 0, 1, 1]);
    assert_eq!(model.cluster_sizes(), [2, 2]);
    assert!(model.converged());
}

#[test]
fn one_iteration_stops_after_one_lloyd_step() {
    // Step by hand from centres 0 and 10: {0, 2, 4} are nearer 0, {10} is nearer 10, so the
    // centres become 2 and 10, and the inertia against them is 4 + 0 + 4 + 0.
    let values = [0.0, 2.0, 4.0, 10.0];

    let model = fit_with(&values, 1, from_centres(2, &[0.0, 10.0]).max_iter(1)).unwrap();

    assert!(!model.converged());
    assert_eq!(model.n_iter(), 1);
    assert_eq!(model.centres(), [2.0, 10.0]);
    assert_eq!(model.inertia(), 8.0);
}

#[test]
fn a_cluster_that_empties_is_reseeded_with_the_farthest_point() {
    // Centre 100 gets no point. The farthest points from their centres are 0, 2, 10 and 12
    // (squared distance 1); the lowest index, point 0, re-seeds it, leaving {1, 2} to the
    // first centre. The next pass changes no label.
    let values = [0.0, 1.0, 2.0, 10.0, 11.0, 12.0];

    let model = fit_with(&values, 1, from_centres(3, &[1.0, 11.0, 100.0])).unwrap();

    assert_eq!(model.centres(), [1.5, 11.0, 0.0]);
    assert_eq!(model.labels(), [2, 0, 0, 1, 1, 1]);
    assert_eq!(model.inertia(), 2.5);
    assert_eq!(model.n_iter(), 2);
    assert!(model.converged());
}

#[test]
fn more_clusters_than_distinct_points_is_an_error() {
    let values = [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, -0.0, 0.0];

    let error = fit_with(&values, 2, KMeansParams::new(4)).unwrap_err();

    assert_eq!(error, KMeansError::TooManyClusters { n_clusters: 4, n_distinct: 3 });
}

#[test]
fn identical_points_give_that_point_as_the_only_centre() {
    let values = [3.0, -1.0].repeat(50);

    let model = fit_with(&values, 2, KMeansParams::new(1)).unwrap();
    let error = fit_with(&values, 2, KMeansParams::new(2)).unwrap_err();

    assert_eq!(model.centres(), [3.0, -1.0]);
    assert_eq!(model.inertia(), 0.0);
    assert_eq!(error, KMeansError::TooManyClusters { n_clusters: 2, n_distinct: 1 });
}

#[test]
fn non_finite_values_are_reported_with_row_and_column() {
    let mut values = vec![0.0f32; 12];
    values[7] = f32::NAN;

    let error = fit_with(&values, 3, KMeansParams::new(1)).unwrap_err();

    assert!(matches!(error, KMeansError::NonFinite { row: 2, column: 1, .. }));
    assert!(error.to_string().starts_with("non-finite value NaN at row 2, column 1"));
}

#[test]
fn a_constant_column_keeps_its_value_in_every_centre() {
    let values = [0.0, 5.0, 1.0, 5.0, 10.0, 5.0, 11.0, 5.0];

    let seeded = fit_with(&values, 2, KMeansParams::new(2).seed(3)).unwrap();
    let mut centres: Vec<f32> = seeded.centres().chunks(2).map(|c| c[0]).collect();
    centres.sort_by(f32::total_cmp);

    assert_eq!(centres, [0.5, 10.5]);
    assert!(seeded.centres().chunks(2).all(|c| c[1] == 5.0));
    assert_eq!(seeded.inertia(), 1.0);
}

#[test]
fn one_and_two_threads_give_bit_identical_results() {
    let values = random_data(3000, 6, 11);
    let params = KMeansParams::new(7).seed(5).n_init(2).max_iter(20);

    let one = fit_with(&values, 6, params.clone().n_threads(Some(1))).unwrap();
    let two = fit_with(&values, 6, params.n_threads(Some(2))).unwrap();

    let bits = |m: &KMeans| m.centres().iter().map(|c| c.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one), bits(&two));
    assert_eq!(one.labels(), two.labels());
    assert_eq!(one.inertia().to_bits(), two.inertia().to_bits());
}

#[test]
fn the_same_seed_gives_the_same_model() {
    let values = random_data(1000, 3, 2);
    let params = KMeansParams::new(5).seed(9);

    let first = fit_with(&values, 3, params.clone()).unwrap();
    let again = fit_with(&values, 3, params).unwrap();

    assert_eq!(first.centres(), again.centres());
    assert_eq!(first.labels(), again.labels());
    assert_eq!(first.inertia(), again.inertia());
}

#[test]
fn sampled_mode_labels_and_scores_every_point() {
    let values = blobs(&[[0.0, 0.0], [50.0, 0.0], [0.0, 50.0]], 400, 2.0, 4);
    let data = Matrix::new(&values, values.len() / 2, 2).unwrap();

    let model = fit_with(&values, 2, KMeansParams::new(3).seed(1).sample(Some(90))).unwrap();

    assert_eq!(model.labels().len(), 1200);
    assert_eq!(model.cluster_sizes(), [400, 400, 400]);
    let direct: f64 = (0..1200)
        .map(|i| f64::from(sq_dist(data.row(i), model.centre(model.labels()[i] as usize))))
        .sum();
    approx::assert_relative_eq!(model.inertia(), direct, max_relative = 1e-9);
    assert_eq!(model.predict_all(data).unwrap(), model.labels());
}

#[test]
fn prediction_gives_euclidean_distances_and_the_runner_up() {
    let model = KMeans::from_centres(vec![0.0, 0.0, 6.0, 8.0, 0.0, 3.0], 3, 2).unwrap();

    let assignment = model.predict(&[0.0, 4.0]).unwrap();
    let single = KMeans::from_centres(vec![1.0], 1, 1).unwrap().predict(&[4.0]).unwrap();

    assert_eq!(assignment, Assignment { cluster: 2, distance: 1.0, runner_up: Some((0, 4.0)) });
    assert_eq!(single, Assignment { cluster: 0, distance: 3.0, runner_up: None });
    assert_eq!(
        model.predict(&[1.0]).unwrap_err(),
        KMeansError::Dimension { expected: 2, found: 1 }
    );
}

#[test]
fn relabelling_undoes_a_permutation_of_the_centres() {
    let values = blobs(&[[0.0, 0.0], [30.0, 0.0], [0.0, 30.0]], 50, 1.0, 8);
    let model = fit_with(&values, 2, KMeansParams::new(3).seed(2)).unwrap();
    // The previous model called the current cluster 0 "2", 1 "0" and 2 "1".
    let previous: Vec<f32> = [1, 2, 0].iter().flat_map(|&j| model.centre(j).to_vec()).collect();

    let mut relabelled = model.clone();
    let map = relabelled.relabel_to_match(&previous, 3).unwrap();

    assert_eq!(map, [2, 0, 1]);
    assert_eq!(relabelled.centres(), &previous[..]);
    for (old, new) in model.labels().iter().zip(relabelled.labels()) {
        assert_eq!(*new, map[*old as usize]);
    }
}

#[test]
fn relabelling_when_k_grows_or_shrinks() {
    // Current centres 10, 0, 20; the previous model had 0 as id 0 and 20 as id 1.
    let mut grown = KMeans::from_centres(vec![10.0, 0.0, 20.0], 3, 1).unwrap();
    let grown_map = grown.relabel_to_match(&[0.0, 20.0], 2).unwrap();
    // Current centres 19, 1; the previous model had 0 as id 0, 10 as id 1 and 20 as id 2.
    let mut shrunk = KMeans::from_centres(vec![19.0, 1.0], 2, 1).unwrap();
    let shrunk_map = shrunk.relabel_to_match(&[0.0, 10.0, 20.0], 3).unwrap();

    assert_eq!(grown_map, [2, 0, 1]);
    assert_eq!(grown.centres(), [0.0, 20.0, 10.0]);
    // 1 keeps id 0; 19 matched id 2, which does not fit below K = 2, so it takes id 1.
    assert_eq!(shrunk_map, [1, 0]);
    assert_eq!(shrunk.centres(), [1.0, 19.0]);
}

#[test]
fn select_k_prefers_the_true_number_of_separated_blobs() {
    let values = blobs(&[[0.0, 0.0], [40.0, 0.0], [0.0, 40.0]], 100, 1.0, 3);
    let data = Matrix::new(&values, 300, 2).unwrap();
    let base = KMeansParams::new(1).seed(4).n_init(2).check().unwrap();

    let scores = select_k(data, &[1, 2, 3, 4, 5], &base, 150).unwrap();

    assert_eq!(scores.iter().map(|s| s.k).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(scores[0].silhouette, None);
    let best = scores.iter().max_by(|a, b| a.silhouette.partial_cmp(&b.silhouette).unwrap());
    assert_eq!(best.map(|s| s.k), Some(3));
    assert!(scores[2].silhouette.unwrap() > 0.95);
    assert!(scores.windows(2).all(|w| w[1].inertia <= w[0].inertia));
}

#[test]
fn invalid_parameters_and_shapes_are_errors() {
    let values = [0.0, 1.0, 2.0, 3.0];

    assert_eq!(KMeansParams::new(0).check().unwrap_err(), KMeansError::ZeroClusters);
    assert_eq!(KMeansParams::new(2).n_init(0).check().unwrap_err(), KMeansError::ZeroRestarts);
    assert_eq!(KMeansParams::new(2).max_iter(0).check().unwrap_err(), KMeansError::ZeroMaxIter);
    assert_eq!(
        KMeansParams::new(2).tol(-1.0).check().unwrap_err(),
        KMeansError::InvalidTolerance(-1.0)
    );
    assert_eq!(
        KMeansParams::new(2).n_threads(Some(0)).check().unwrap_err(),
        KMeansError::ZeroThreads
    );
    assert_eq!(
        KMeansParams::new(3).sample(Some(2)).check().unwrap_err(),
        KMeansError::SampleTooSmall { sample: 2, n_clusters: 3 }
    );
    assert_eq!(
        fit_with(&values, 2, from_centres(2, &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0])).unwrap_err(),
        KMeansError::CentresShape { len: 6, n_clusters: 2, n_features: 2 }
    );
    assert_eq!(fit_with(&[], 2, KMeansParams::new(1)).unwrap_err(), KMeansError::EmptyData);
    assert_eq!(
        Matrix::new(&values, 3, 2).unwrap_err(),
        KMeansError::Shape { len: 4, n_rows: 3, n_cols: 2 }
    );
    assert_eq!(KMeansError::ZeroClusters.to_string(), "`n_clusters` must be at least 1");
}

#[test]
fn model_and_params_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}

    assert_send_sync::<KMeans>();
    assert_send_sync::<KMeansParams>();
    assert_send_sync::<ValidKMeansParams>();
    assert_send_sync::<KMeansError>();
}

/// Small integer-valued data sets, so that distinct points are easy to count.
fn small_data() -> impl Strategy<Value = (Vec<f32>, usize)> {
    (1usize..=3).prop_flat_map(|d| {
        (prop::collection::vec(-40i32..40, (2 * d)..(40 * d)), Just(d)).prop_map(|(ints, d)| {
            let n = ints.len() / d;
            (ints[..n * d].iter().map(|&v| v as f32 * 0.5).collect(), d)
        })
    })
}

fn n_distinct(values: &[f32], d: usize) -> usize {
    let mut rows: Vec<Vec<u32>> =
        values.chunks(d).map(|r| r.iter().map(|v| (v + 0.0).to_bits()).collect()).collect();
    rows.sort();
    rows.dedup();
    rows.len()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_point_ends_at_its_nearest_centre((values, d) in small_data(), k in 1usize..5, seed in 0u64..1000) {
        prop_assume!(n_distinct(&values, d) >= k);

        let model = fit_with(&values, d, KMeansParams::new(k).seed(seed).tol(0.0)).unwrap();

        for (row, &label) in values.chunks(d).zip(model.labels()) {
            prop_assert!((label as usize) < k);
            let own = sq_dist(row, model.centre(label as usize));
            let nearest = (0..k).map(|j| sq_dist(row, model.centre(j))).fold(f32::INFINITY, f32::min);
            prop_assert!(own <= nearest + 1e-3 * (1.0 + nearest), "{own} > {nearest}");
        }
    }

    #[test]
    fn inertia_never_rises_between_iterations((values, d) in small_data(), k in 1usize..5) {
        prop_assume!(n_distinct(&values, d) >= k);
        let start = values[..k * d].to_vec();

        let inertias: Vec<f64> = (1..7)
            .map(|max_iter| {
                let params = from_centres(k, &start).max_iter(max_iter).tol(0.0);
                fit_with(&values, d, params).unwrap().inertia()
            })
            .collect();

        for pair in inertias.windows(2) {
            prop_assert!(pair[1] <= pair[0] * (1.0 + 1e-6) + 1e-6, "{inertias:?}");
        }
    }

    #[test]
    fn one_cluster_is_the_mean((values, d) in small_data()) {
        let n = values.len() / d;

        let model = fit_with(&values, d, KMeansParams::new(1)).unwrap();

        for column in 0..d {
            let mean = values.iter().skip(column).step_by(d).map(|&v| f64::from(v)).sum::<f64>()
                / n as f64;
            prop_assert!((f64::from(model.centre(0)[column]) - mean).abs() <= 1e-5 * (1.0 + mean.abs()));
        }
    }
}
