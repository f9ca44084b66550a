//! `fleetsim schema`: the scenario file's JSON Schema, or with `--markdown` the scenario
//! reference rendered from it (what `docs/scenario-reference.md` holds).

use crate::error::Result;
use crate::scenario::{json_schema, reference};

pub(crate) fn schema_command(markdown: bool) -> Result<i32> {
    if markdown {
        crate::out::text(&reference::markdown(json_schema::schema()))?;
    } else {
        crate::out::text(&json_schema::schema_text())?;
    }
    Ok(0)
}
