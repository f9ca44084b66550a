//! `fleetsim schema`: the scenario file's JSON Schema, or with `--markdown` the scenario
//! reference rendered from it (what `docs/scenario-reference.md` holds).

use crate::error::Result;
use crate::scenario::{reference, schema};

pub(crate) fn schema_command(markdown: bool) -> Result<i32> {
    if markdown {
        crate::out::text(&reference::markdown(schema::schema()))?;
    } else {
        crate::out::text(&schema::schema_text())?;
    }
    Ok(0)
}
