//! The directors' drain marks (`model::drained`) in the live commands: once the facts are in,
//! the cluster is planned again with the marks they hold, and every host's changes computed
//! again from the same facts (no second round trip).

use std::collections::BTreeMap;

use crate::error::Result;
use crate::live::{self, HostInspection};
use crate::model::drained::DrainMark;
use crate::model::Cluster;
use crate::plan::{self, HostPlan, Secrets};
use crate::render::Templates;

/// Plans of `cluster` as the live commands use them: `--limit`ed, with their alternatives.
pub fn live_plans(cluster: &Cluster, templates: &Templates, limit: &[String]) -> Result<Vec<HostPlan>> {
    let mut plans = plan::build(cluster, templates)?;
    super::options::limit(&mut plans, limit)?;
    plan::with_alternatives(&mut plans, templates)?;
    Ok(plans)
}

/// The cluster with `marks`, and its plans (None when nothing is drained).
pub fn with_marks(cluster: &Cluster, templates: &Templates, limit: &[String], marks: &BTreeMap<String, DrainMark>) -> Result<Option<(Cluster, Vec<HostPlan>)>> {
    if marks.is_empty() && cluster.drained.is_empty() {
        return Ok(None);
    }
    let c = cluster.with_drained(marks);
    let plans = live_plans(&c, templates, limit)?;
    Ok(Some((c, plans)))
}

/// After `live::inspect`: the inspections planned again with the directors' marks. Returns
/// the cluster and plans with the marks when there are any.
pub fn replan(cluster: &Cluster, templates: &Templates, limit: &[String], plans: &[HostPlan], inspections: &mut [HostInspection], secrets: &Secrets) -> Result<Option<(Cluster, Vec<HostPlan>)>> {
    let marks = live::drain_marks(inspections.iter().filter_map(|i| i.outcome.as_ref().ok()).map(|i| &i.facts));
    let Some((c, new)) = with_marks(cluster, templates, limit, &marks)? else { return Ok(None) };
    live::replan(inspections, plans, &new, secrets);
    Ok(Some((c, new)))
}
