//! The content catalogue entry: what a recommendation shows.

use serde_json::{Map, Value};

use crate::parse::{check_id, EventError};

/// One item of the site's catalogue.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContentItem {
    /// The id events refer to.
    pub content_id: String,
    /// Display title.
    pub title: Option<String>,
    /// One or more categories.
    pub categories: Vec<String>,
    /// Price, in the site's currency.
    pub price: Option<f64>,
    /// Link to the item's page.
    pub url: Option<String>,
    /// Link to an image of the item.
    pub image_url: Option<String>,
    /// Any other attributes (brand, year, ...).
    pub attributes: Map<String, Value>,
    /// Inactive items never appear in recommendations.
    pub active: bool,
}

impl ContentItem {
    /// An active item with only an id.
    pub fn new(content_id: impl Into<String>) -> Self {
        ContentItem { content_id: content_id.into(), active: true, ..ContentItem::default() }
    }

    /// Checks the fields a client may get wrong.
    pub fn validate(&self) -> Result<(), EventError> {
        check_id(&self.content_id, "content_id")?;
        for category in &self.categories {
            check_id(category, "categories")?;
        }
        if let Some(price) = self.price {
            if !price.is_finite() || price < 0.0 {
                return Err(EventError {
                    field: "price".into(),
                    reason: "must be a finite, non-negative number".into(),
                });
            }
        }
        Ok(())
    }
}
