//! The unchecked JSON object a [`DoraEvent`](crate::DoraEvent) deserializes through: serde
//! reads a line into it, and the strict field checks of the JSON-lines parser turn it into an
//! event. A module of its own so the event types can name it without depending on the parser.

use serde::Deserialize;
use serde_json::{Map, Value};

/// A JSON object read but not yet checked; [`DoraEvent`](crate::DoraEvent) deserializes
/// through it.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(crate) struct RawEvent(pub(crate) Map<String, Value>);
