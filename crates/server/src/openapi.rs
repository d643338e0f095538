//! The OpenAPI description served at `/openapi.json`, generated from the handlers' annotations
//! and the wire types in [`crate::api`].

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;
use crate::error::ErrorBody;
use crate::routes::{assign, content, context, events, health, ops, profiles, recommendations};

/// The v1 API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Centroid", description = "K-means personalisation service (v1 API)"),
    paths(
        events::events_ingest,
        assign::assign_post,
        assign::user_cluster_get,
        recommendations::recommendations_list,
        recommendations::user_recommendations_list,
        content::content_get,
        content::content_list,
        content::content_put,
        content::content_upsert,
        content::content_delete,
        context::context_post,
        profiles::profile_get,
        profiles::profile_merge,
        profiles::profile_delete,
        ops::train_start,
        ops::job_get,
        ops::models_list,
        ops::model_current,
        health::healthz,
        health::readyz,
    ),
    components(schemas(
        ErrorBody,
        api::EventsResponse,
        api::EventResult,
        api::EventStatus,
        api::AssignRequest,
        api::Assignment,
        api::RunnerUp,
        api::RecommendationsResponse,
        api::RecommendedItem,
        api::UserRecommendationsResponse,
        api::ContentBody,
        api::ContentList,
        api::ContentUpsert,
        api::ContentWritten,
        api::ContextRequest,
        api::ContextResponse,
        api::ProfileResponse,
        api::SessionView,
        api::MergeRequest,
        api::MergeResponse,
        api::DeletedProfile,
        api::TrainRequest,
        api::JobView,
        api::JobStatus,
        api::ModelView,
        api::ModelsResponse,
        api::CurrentModel,
        api::Health,
    )),
    modifiers(&KeySchemes)
)]
pub struct ApiDoc;

/// Declares the two bearer keys.
struct KeySchemes;

impl Modify for KeySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for name in ["write_key", "admin_key"] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}
