//! Placing a visitor in a trained model's clusters, from the same reducer state as training.

use centroid_core::event::Event;
use centroid_core::model::ModelVersion;
use centroid_core::reducer::{ReducerState, UserAggregate};
use centroid_kmeans::{Assignment, KMeans};

use crate::PipelineError;

/// A model ready to place visitors: its centres loaded into a K-means predictor.
#[derive(Debug, Clone)]
pub struct Placer {
    model: ModelVersion,
    kmeans: KMeans,
}

/// Where a visitor lands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Placement {
    /// A cluster of the model, with the runner-up.
    Cluster(Assignment),
    /// No usable events: the cold-start "global" pseudo-cluster.
    Global,
}

impl Placer {
    /// Loads a model's centres.
    pub fn new(model: ModelVersion) -> Result<Placer, PipelineError> {
        let kmeans = KMeans::from_centres(model.centres.clone(), model.k, model.n_features())?;
        Ok(Placer { model, kmeans })
    }

    /// The model this placer uses.
    pub fn model(&self) -> &ModelVersion {
        &self.model
    }

    /// Places a profile from its aggregates, scaled with the model's saved parameters.
    pub fn place(&self, aggregate: &UserAggregate) -> Result<Placement, PipelineError> {
        if aggregate.n_events() == 0 {
            return Ok(Placement::Global);
        }
        let mut row = self.model.spec.raw(aggregate);
        self.model.scaler.transform(&mut row);
        let point: Vec<f32> = row.into_iter().map(|x| x as f32).collect();
        Ok(Placement::Cluster(self.kmeans.predict(&point)?))
    }

    /// Folds a posted list of events (ids counted once) and places the result.
    ///
    /// All events are taken as the same visitor's, whatever ids they carry.
    pub fn place_events(&self, events: &[Event]) -> Result<Placement, PipelineError> {
        let mut state = ReducerState::new();
        for event in events {
            let mut event = event.clone();
            event.user_id = Some(String::from("visitor"));
            state.apply(&event);
        }
        match state.user("visitor") {
            Some(user) => self.place(&user.aggregate),
            None => Ok(Placement::Global),
        }
    }
}
