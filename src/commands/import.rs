//! `fleetsim import SYSTEM FILE [--into SCENARIO]`: a production rollout system's own
//! configuration turned into fleetsim's `[policy]` (SPEC §3).
//!
//! Supported today: **AWS IoT Jobs** (`aws-iot-job`): a `CreateJob` request or a job template,
//! read for `jobExecutionsRolloutConfig`, `abortConfig`, `timeoutConfig`,
//! `jobExecutionsRetryConfig`, `schedulingConfig` and `targetSelection`. Every field is either
//! mapped to a key fleetsim simulates or named in a `# not mapped:` comment saying why: an
//! import never emits a key the simulator would ignore.
//!
//! **Mender** (`mender`): a `POST /deployments` body — `phases` (`batch_size`, `start_ts`) as
//! stages with `open_at`, `retries`, `max_devices`.
//!
//! **Azure Device Update** (`azure-adu`): a deployment as Deployments - Create Or Update takes
//! it — the whole group at once (one stage, no rate), `startDateTime` as `start`, and
//! `rollbackPolicy.failure` (`devicesFailedPercentage`, `devicesFailedCount`) as rollback rules
//! on `any_failure_rate` of the devices notified.
//!
//! **Eclipse hawkBit** (`hawkbit`): a `POST /rest/v1/rollouts` body — `amountGroups` or
//! `groups` as hawkBit rollout groups with their success and error conditions, `type` and
//! `forcetime` as the action type, `startAt` as `start` ([`hawkbit`]).
//!
//! Without `--into`, the output is the `[policy]` alone (its `target` left for the user to name:
//! a job document names no release). With `--into SCENARIO`, it is that scenario with every
//! `policy` table replaced, keeping what the job document cannot say — `target`,
//! `rollback_to`, `preflight` and `skip_migrations` — and it is validated before it is printed,
//! so what comes out is ready to run. Times are taken relative to the scenario's
//! `simulation.start`, or to the document's own earliest time.

use crate::error::{Error, InputError, Result};
use crate::scenario;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

/// The systems `fleetsim import` names (SPEC §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum System {
    /// An AWS IoT Jobs `CreateJob` request or job template (JSON).
    AwsIotJob,
    /// An Eclipse hawkBit `POST /rest/v1/rollouts` body.
    Hawkbit,
    /// A Mender `POST /deployments` body, with `phases`.
    Mender,
    /// An Azure Device Update deployment (Deployments - Create Or Update body), with its
    /// cloud-initiated `rollbackPolicy`.
    AzureAdu,
}

/// Keys of a scenario's `[policy]` that a job document cannot replace.
const KEPT: &[&str] = &["target", "rollback_to", "preflight", "skip_migrations"];

pub(crate) fn import_command(system: System, file: &Path, into: Option<&Path>) -> Result<i32> {
    let label = file.display().to_string();
    let bytes = crate::input_files::read(file, crate::input_files::DOCUMENT)
        .map_err(|e| input(&label, "", None, e))?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| {
        input(
            &label,
            "",
            Some((e.line(), e.column())),
            crate::input_files::json_error_text(&e),
        )
    })?;
    let scenario = into
        .map(|path| -> Result<_> {
            let (label, text) = scenario::read_source(path)?;
            let table = scenario_table(&text, &label)?;
            Ok((label, text, table))
        })
        .transpose()?;
    let start_unix_s = scenario.as_ref().and_then(|(_, _, t)| simulation_start(t));
    let policy = match system {
        System::AwsIotJob => aws_iot_job(&doc, &label, start_unix_s)?,
        System::Mender => mender(&doc, &label, start_unix_s)?,
        System::AzureAdu => azure_adu(&doc, &label, start_unix_s)?,
        System::Hawkbit => hawkbit::rollout(&doc, &label, start_unix_s)?,
    };
    let out = match (&scenario, into) {
        (Some((slabel, stext, table)), Some(path)) => {
            let merged = replace_policy(stext, table, &policy);
            // What is printed must run: validate it as the scenario it now is.
            scenario::load_str(&merged, slabel, &scenario::base_dir(path), &[])?;
            merged
        }
        _ => policy.text(None),
    };
    crate::out::text(&out)?;
    Ok(0)
}

fn input(file: &str, key: &str, position: Option<(usize, usize)>, message: String) -> Error {
    Error::Input(vec![InputError {
        file: file.to_string(),
        key_path: key.to_string(),
        position,
        message,
    }])
}

/// The imported policy: `[policy]` keys, stage and abort tables, and what was not mapped.
#[derive(Debug, Default)]
pub(crate) struct Policy {
    source: String,
    keys: Vec<(String, String)>,
    /// `[[policy.stage]]` tables (none: one stage of every device).
    stages: Vec<Vec<(String, String)>>,
    /// A `[policy.groups]` table (hawkBit `amountGroups`), in place of stages.
    groups: Vec<(String, String)>,
    aborts: Vec<Vec<(String, String)>>,
    not_mapped: Vec<String>,
}

impl Policy {
    /// An empty policy imported from `source`.
    fn from(source: String) -> Policy {
        Policy {
            source,
            ..Policy::default()
        }
    }

    /// `retry` from a system's retry count: it counts retries after the first try, fleetsim
    /// counts tries.
    fn retries(&mut self, retries: u64) {
        let tries = format!("{{ attempts = {} }}", retries + 1);
        self.keys.push(("retry".into(), tries));
    }

    /// The policy as TOML; `kept` holds the scenario's own lines for [`KEPT`] keys.
    fn text(&self, kept: Option<&[(String, String)]>) -> String {
        let mut s = format!(
            "# [policy] imported by `fleetsim import` from {}.\n",
            self.source
        );
        for note in &self.not_mapped {
            let _ = writeln!(s, "# not mapped: {note}");
        }
        s.push_str("[policy]\n");
        match kept {
            Some(kept) => kept.iter().for_each(|(k, v)| {
                let _ = writeln!(s, "{k} = {v}");
            }),
            None => {
                s.push_str(
                    "# target = \"…\"   # the release to roll out: a job document names none\n",
                );
                if self
                    .aborts
                    .iter()
                    .flatten()
                    .any(|(k, v)| k == "action" && v == "\"rollback\"")
                {
                    // A rollback rule needs the release it pushes; the scenario names it.
                    s.push_str("# rollback_to = \"…\"   # the release a rollback pushes\n");
                }
            }
        }
        for (k, v) in &self.keys {
            let _ = writeln!(s, "{k} = {v}");
        }
        if !self.groups.is_empty() {
            s.push_str("\n[policy.groups]\n");
            for (k, v) in &self.groups {
                let _ = writeln!(s, "{k} = {v}");
            }
        } else if self.stages.is_empty() {
            // No stages in the document (AWS IoT Jobs): one stage of every targeted device.
            s.push_str("\n[[policy.stage]]\nname = \"all\"\nselect = {}\npercent = 100\n");
        }
        for stage in &self.stages {
            s.push_str("\n[[policy.stage]]\n");
            for (k, v) in stage {
                let _ = writeln!(s, "{k} = {v}");
            }
        }
        for abort in &self.aborts {
            s.push_str("\n[[policy.abort]]\n");
            for (k, v) in abort {
                let _ = writeln!(s, "{k} = {v}");
            }
        }
        s
    }
}

/// A duration in fleetsim's syntax, in the largest unit that divides it.
fn duration(minutes: i64) -> String {
    match minutes {
        m if m % 1440 == 0 && m != 0 => format!("\"{}d\"", m / 1440),
        m if m % 60 == 0 && m != 0 => format!("\"{}h\"", m / 60),
        m => format!("\"{m}m\""),
    }
}

/// An AWS `schedulingConfig` time (`yyyy-MM-dd'T'HH:mm`, UTC), as Unix seconds.
fn aws_time(v: &Value, file: &str, key: &str) -> Result<i64> {
    let s = v.as_str().unwrap_or_default();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc().timestamp())
        .ok_or_else(|| {
            input(
                file,
                key,
                None,
                format!("`{s}` is not a time; AWS IoT Jobs writes yyyy-MM-ddTHH:mm (UTC)"),
            )
        })
}

/// An RFC 3339 time field (Mender `start_ts`, ADU `startDateTime`), as Unix seconds.
fn rfc3339(v: &Value, file: &str, key: &str) -> Result<i64> {
    let s = v.as_str().unwrap_or_default();
    scenario::validate::unix_seconds(s).map_err(|_| {
        let shown = v.as_str().map_or(v.to_string(), str::to_string);
        input(
            file,
            key,
            None,
            format!("`{shown}` is not an RFC 3339 time"),
        )
    })
}

/// The document as a JSON object (`what` it should be, for the error).
fn object<'a>(
    doc: &'a Value,
    file: &str,
    what: &str,
) -> Result<&'a serde_json::Map<String, Value>> {
    doc.as_object()
        .ok_or_else(|| input(file, "", None, format!("expected a JSON object ({what})")))
}

/// Field `name` of `v` (`null` when absent: the typed readers below then name it).
fn field<'a>(v: &'a Value, name: &str) -> &'a Value {
    v.get(name).unwrap_or(&Value::Null)
}

/// A non-negative integer field, or an error naming it.
fn count(v: &Value, file: &str, key: &str) -> Result<u64> {
    v.as_u64().ok_or_else(|| {
        input(
            file,
            key,
            None,
            format!("expected a whole number, found {v}"),
        )
    })
}

fn number(v: &Value, file: &str, key: &str) -> Result<f64> {
    v.as_f64()
        .ok_or_else(|| input(file, key, None, format!("expected a number, found {v}")))
}

/// Fields of a `CreateJob` request that do not shape the rollout's dynamics.
const AWS_IGNORED: &[&str] = &[
    "jobId",
    "jobTemplateId",
    "jobTemplateArn",
    "description",
    "document",
    "documentSource",
    "documentParameters",
    "presignedUrlConfig",
    "tags",
    "namespaceId",
    "destinationPackageVersions",
    "jobArn",
];

/// An AWS IoT Jobs `CreateJob` request (or job template) as a policy.
pub(crate) fn aws_iot_job(doc: &Value, file: &str, start_unix_s: Option<i64>) -> Result<Policy> {
    let fields = object(doc, file, "a CreateJob request or job template")?;
    let mut p = Policy::from(format!("{file} (AWS IoT Jobs)"));
    for (key, value) in fields {
        match key.as_str() {
            "targetSelection" => match value.as_str() {
                Some("CONTINUOUS") => p.keys.push(("selection".into(), "\"continuous\"".into())),
                Some("SNAPSHOT") => p.keys.push(("selection".into(), "\"snapshot\"".into())),
                _ => {
                    return Err(input(
                        file,
                        key,
                        None,
                        format!("expected SNAPSHOT or CONTINUOUS, found {value}"),
                    ))
                }
            },
            "targets" => p.not_mapped.push(format!(
                "targets ({} thing or group ARNs): the fleet is the scenario's populations",
                value.as_array().map_or(0, Vec::len)
            )),
            "jobExecutionsRolloutConfig" => aws_rollout(value, file, &mut p)?,
            "abortConfig" => aws_aborts(value, file, &mut p)?,
            "timeoutConfig" => {
                if let Some(m) = value.get("inProgressTimeoutInMinutes") {
                    let m = count(m, file, "timeoutConfig.inProgressTimeoutInMinutes")?;
                    p.keys.push(("timeout".into(), duration(m as i64)));
                }
            }
            "jobExecutionsRetryConfig" => aws_retry(value, file, &mut p)?,
            "schedulingConfig" => aws_scheduling(value, file, start_unix_s, &mut p)?,
            k if AWS_IGNORED.contains(&k) => p
                .not_mapped
                .push(format!("{k}: it does not change how the rollout proceeds")),
            k => p
                .not_mapped
                .push(format!("{k}: not a CreateJob field fleetsim knows")),
        }
    }
    if !p.keys.iter().any(|(k, _)| k == "rate") {
        // AWS's default: at most 1000 notifications a minute.
        p.keys.push(("rate".into(), "{ per_minute = 1000 }".into()));
    }
    Ok(p)
}

/// `jobExecutionsRolloutConfig`: `maximumPerMinute` and `exponentialRate`.
fn aws_rollout(v: &Value, file: &str, p: &mut Policy) -> Result<()> {
    let max = match v.get("maximumPerMinute") {
        Some(m) => count(m, file, "jobExecutionsRolloutConfig.maximumPerMinute")?,
        None => 1000,
    };
    let Some(exp) = v.get("exponentialRate") else {
        p.keys
            .push(("rate".into(), format!("{{ per_minute = {max} }}")));
        return Ok(());
    };
    let key = "jobExecutionsRolloutConfig.exponentialRate";
    let base = count(
        field(exp, "baseRatePerMinute"),
        file,
        &format!("{key}.baseRatePerMinute"),
    )?;
    let factor = number(
        field(exp, "incrementFactor"),
        file,
        &format!("{key}.incrementFactor"),
    )?;
    let criteria = exp
        .get("rateIncreaseCriteria")
        .cloned()
        .unwrap_or(Value::Null);
    let notified = criteria
        .get("numberOfNotifiedThings")
        .map(|v| {
            count(
                v,
                file,
                &format!("{key}.rateIncreaseCriteria.numberOfNotifiedThings"),
            )
        })
        .transpose()?;
    let succeeded = criteria
        .get("numberOfSucceededThings")
        .map(|v| {
            count(
                v,
                file,
                &format!("{key}.rateIncreaseCriteria.numberOfSucceededThings"),
            )
        })
        .transpose()?;
    let every = match (notified, succeeded) {
        (Some(n), Some(s)) => format!("every_notified = {n}, every_succeeded = {s}"),
        (Some(n), None) => format!("every_notified = {n}"),
        (None, Some(s)) => format!("every_succeeded = {s}"),
        (None, None) => {
            return Err(input(
                file,
                &format!("{key}.rateIncreaseCriteria"),
                None,
                "needs numberOfNotifiedThings or numberOfSucceededThings".into(),
            ))
        }
    };
    p.keys.push((
        "rate".into(),
        format!("{{ per_minute = {base}, factor = {factor:?}, {every}, max_per_minute = {max} }}"),
    ));
    Ok(())
}

/// `abortConfig.criteriaList`: one `[[policy.abort]]` per criterion, in order (AWS checks them
/// in order, and so does fleetsim), by failure type: `FAILED` → `update_failure_rate`,
/// `REJECTED` → `rejected_rate`, `TIMED_OUT` → `timeout_rate`, `ALL` → `any_failure_rate`.
fn aws_aborts(v: &Value, file: &str, p: &mut Policy) -> Result<()> {
    let list = v
        .get("criteriaList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, c) in list.iter().enumerate() {
        let key = format!("abortConfig.criteriaList[{i}]");
        let failure = c
            .get("failureType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let metric = match failure {
            "FAILED" => "update_failure_rate",
            "REJECTED" => "rejected_rate",
            "TIMED_OUT" => "timeout_rate",
            "ALL" => "any_failure_rate",
            other => {
                return Err(input(
                    file,
                    &format!("{key}.failureType"),
                    None,
                    format!("expected FAILED, REJECTED, TIMED_OUT or ALL, found `{other}`"),
                ))
            }
        };
        let pct = number(
            field(c, "thresholdPercentage"),
            file,
            &format!("{key}.thresholdPercentage"),
        )?;
        let min = count(
            field(c, "minNumberOfExecutedThings"),
            file,
            &format!("{key}.minNumberOfExecutedThings"),
        )?;
        if c.get("action").and_then(Value::as_str) != Some("CANCEL") {
            return Err(input(
                file,
                &format!("{key}.action"),
                None,
                "AWS IoT Jobs' only abort action is CANCEL".into(),
            ));
        }
        p.aborts.push(vec![
            ("metric".into(), format!("\"{metric}\"")),
            ("threshold".into(), format!("{:?}", pct / 100.0)),
            ("min_executed".into(), min.to_string()),
            // CANCEL stops the job; executions already done stay done: no rollback.
            ("action".into(), "\"abort\"".into()),
        ]);
    }
    Ok(())
}

/// `jobExecutionsRetryConfig.criteriaList`: one `retry` budget per failure type (`ALL` alone
/// is the table form). AWS counts retries after the first try; fleetsim counts tries.
fn aws_retry(v: &Value, file: &str, p: &mut Policy) -> Result<()> {
    let list = v
        .get("criteriaList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut retries: Vec<(String, u64)> = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let key = format!("jobExecutionsRetryConfig.criteriaList[{i}]");
        let n = count(
            field(c, "numberOfRetries"),
            file,
            &format!("{key}.numberOfRetries"),
        )?;
        let failure = c
            .get("failureType")
            .and_then(Value::as_str)
            .unwrap_or("ALL")
            .to_string();
        if !matches!(failure.as_str(), "ALL" | "FAILED" | "TIMED_OUT") {
            return Err(input(
                file,
                &format!("{key}.failureType"),
                None,
                format!("`{failure}`: AWS failure types are FAILED, TIMED_OUT and ALL"),
            ));
        }
        if n > 10 {
            return Err(input(
                file,
                &format!("{key}.numberOfRetries"),
                None,
                format!("{n}: AWS allows 0 to 10 retries"),
            ));
        }
        if retries.iter().any(|(f, _)| *f == failure) {
            p.not_mapped.push(format!(
                "{key}: a second {failure} entry; the first is used"
            ));
            continue;
        }
        retries.push((failure, n));
    }
    if let Some(&(_, n)) = retries.iter().find(|(f, _)| f == "ALL") {
        if retries.len() > 1 {
            p.not_mapped.push(format!(
                "jobExecutionsRetryConfig: ALL ({n}) next to a per-type entry; fleetsim takes ALL alone as one budget for every failure type"
            ));
        }
        // AWS retries at once: no backoff.
        p.retries(n);
        return Ok(());
    }
    let total: u64 = retries.iter().map(|(_, n)| n).sum();
    if total > 10 {
        return Err(input(
            file,
            "jobExecutionsRetryConfig.criteriaList",
            None,
            format!("{total} retries in all: AWS allows at most 10 across failure types"),
        ));
    }
    let entries: Vec<String> = retries
        .iter()
        .map(|(f, n)| {
            let on = if f == "FAILED" { "failed" } else { "timed_out" };
            format!("{{ on = \"{on}\", attempts = {} }}", n + 1)
        })
        .collect();
    if !entries.is_empty() {
        p.keys
            .push(("retry".into(), format!("[{}]", entries.join(", "))));
    }
    Ok(())
}

/// `schedulingConfig`: `startTime` and `endTime` as `start` and `window`.
fn aws_scheduling(v: &Value, file: &str, start_unix_s: Option<i64>, p: &mut Policy) -> Result<()> {
    let start = v
        .get("startTime")
        .map(|t| aws_time(t, file, "schedulingConfig.startTime"))
        .transpose()?;
    let end = v
        .get("endTime")
        .map(|t| aws_time(t, file, "schedulingConfig.endTime"))
        .transpose()?;
    // Relative to the scenario's start, or to the document's earliest time.
    let origin = start_unix_s.or(start).or(end).unwrap_or(0);
    if let Some(s) = start {
        let minutes = (s - origin) / 60;
        if minutes < 0 {
            p.not_mapped.push("schedulingConfig.startTime: before the scenario's simulation.start; the rollout opens at the start".into());
        }
        p.keys.push(("start".into(), duration(minutes.max(0))));
    }
    if let Some(e) = end {
        let opened = start.unwrap_or(origin).max(origin);
        if e <= opened {
            return Err(input(
                file,
                "schedulingConfig.endTime",
                None,
                "ends before the rollout opens".into(),
            ));
        }
        p.keys.push(("window".into(), duration((e - opened) / 60)));
    }
    let end_behavior = match v.get("endBehavior").and_then(Value::as_str) {
        None => None,
        Some("STOP_ROLLOUT") => Some("stop"),
        Some("CANCEL") => Some("cancel"),
        Some("FORCE_CANCEL") => Some("force-cancel"),
        Some(b) => {
            return Err(input(
                file,
                "schedulingConfig.endBehavior",
                None,
                format!("`{b}`: AWS end behaviours are STOP_ROLLOUT, CANCEL and FORCE_CANCEL"),
            ))
        }
    };
    match (end_behavior, end) {
        (Some(b), Some(_)) => p.keys.push(("end_behavior".into(), format!("\"{b}\""))),
        // AWS: without an `endTime` the end behaviour does not apply.
        (Some(b), None) => p.not_mapped.push(format!(
            "schedulingConfig.endBehavior {b}: the document gives no endTime, so AWS does not apply it either"
        )),
        (None, _) => {}
    }
    if let Some(list) = v.get("maintenanceWindows").and_then(Value::as_array) {
        let mut windows = Vec::new();
        for (i, w) in list.iter().enumerate() {
            let at = format!("schedulingConfig.maintenanceWindows[{i}]");
            let start = w
                .get("startTime")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let minutes = w.get("durationInMinutes").and_then(Value::as_i64);
            match (aws_cron(start), minutes) {
                (Ok(cron), Some(m)) if m > 0 => windows.push(format!(
                    "{{ cron = \"{cron}\", duration = {}, zone = \"utc\", applies_to = \"notify\" }}",
                    duration(m)
                )),
                (Err(why), _) => p.not_mapped.push(format!("{at}.startTime `{start}`: {why}")),
                _ => p
                    .not_mapped
                    .push(format!("{at}: no positive durationInMinutes")),
            }
        }
        if !windows.is_empty() {
            p.keys
                .push(("maintenance".into(), format!("[{}]", windows.join(", "))));
        }
    }
    Ok(())
}

/// An AWS maintenance window's `cron(Minutes Hours Day-of-month Month Day-of-week Year)` as
/// five-field POSIX cron: `?` is `*`, a numeric day of the week moves from AWS's 1 = Sunday to
/// cron's 0 = Sunday, and the year must be `*` (a window in one year only is not mapped).
fn aws_cron(text: &str) -> std::result::Result<String, String> {
    let inner = text
        .trim()
        .strip_prefix("cron(")
        .and_then(|t| t.strip_suffix(')'))
        .ok_or("not a cron(...) expression")?;
    let fields: Vec<&str> = inner.split_whitespace().collect();
    let [minute, hour, dom, month, dow, year] = fields[..] else {
        return Err("an AWS cron expression has six fields".into());
    };
    if year != "*" {
        return Err(
            "a window limited to given years is not simulated (fleetsim repeats it every year)"
                .into(),
        );
    }
    let posix = |f: &str| {
        if f == "?" {
            "*".to_string()
        } else {
            f.to_string()
        }
    };
    let dow =
        match dow.parse::<u8>() {
            Ok(n @ 1..=7) => (n - 1).to_string(),
            _ if dow.chars().any(|c| c.is_ascii_digit()) && !dow.contains('#') => return Err(
                "numeric day-of-week ranges and lists are not converted; write day names (MON-FRI)"
                    .into(),
            ),
            _ => posix(dow),
        };
    Ok(format!(
        "{minute} {hour} {} {} {dow}",
        posix(dom),
        posix(month)
    ))
}

/// Fields of a Mender deployment that name what is deployed to whom, not how.
const MENDER_WHO: &[&str] = &["devices", "group", "all_devices", "filter_id"];

/// A Mender `POST /deployments` body as a policy: each phase a stage (cumulative shares,
/// `start_ts` as `open_at`), `retries`, `max_devices`.
pub(crate) fn mender(doc: &Value, file: &str, start_unix_s: Option<i64>) -> Result<Policy> {
    let fields = object(doc, file, "a Mender deployment")?;
    let mut p = Policy::from(format!("{file} (Mender)"));
    for (key, value) in fields {
        match key.as_str() {
            "phases" => mender_phases(value, file, start_unix_s, &mut p)?,
            "retries" => p.retries(count(value, file, key)?),
            "max_devices" => p
                .keys
                .push(("max_devices".into(), count(value, file, key)?.to_string())),
            "artifact_name" => p
                .not_mapped
                .push("artifact_name: the release rolled out is the scenario's `target`".into()),
            "name" => p
                .not_mapped
                .push("name: it does not change how the rollout proceeds".into()),
            k if MENDER_WHO.contains(&k) => p
                .not_mapped
                .push(format!("{k}: the fleet is the scenario's populations")),
            k => p.not_mapped.push(format!(
                "{k}: not simulated (fleetsim knows Mender's phases, retries and max_devices)"
            )),
        }
    }
    Ok(p)
}

/// Mender `phases`: a stage each, shares cumulative (the last takes the rest), every phase
/// after the first opening at its `start_ts`.
fn mender_phases(v: &Value, file: &str, start_unix_s: Option<i64>, p: &mut Policy) -> Result<()> {
    let phases = v
        .as_array()
        .ok_or_else(|| input(file, "phases", None, "expected a list of phases".into()))?;
    let time = |ph: &Value, i: usize| -> Result<Option<i64>> {
        ph.get("start_ts")
            .map(|t| rfc3339(t, file, &format!("phases[{i}].start_ts")))
            .transpose()
    };
    let first = phases.first().map(|ph| time(ph, 0)).transpose()?.flatten();
    // The rollout opens at the first phase's start (relative to the scenario's start, else to
    // the deployment's own first time).
    let origin = start_unix_s.or(first).unwrap_or(0);
    let opens = first.unwrap_or(origin).max(origin);
    if opens > origin {
        p.keys
            .push(("start".into(), duration((opens - origin) / 60)));
    }
    let mut share = 0.0;
    for (i, ph) in phases.iter().enumerate() {
        let last = i + 1 == phases.len();
        let mut stage = vec![
            ("name".into(), format!("\"phase-{}\"", i + 1)),
            ("select".into(), "{}".into()),
        ];
        match ph.get("batch_size") {
            Some(b) if !last => share += number(b, file, &format!("phases[{i}].batch_size"))?,
            Some(_) => p.not_mapped.push(format!(
                "phases[{i}].batch_size: the last phase takes the rest of the devices"
            )),
            None if !last => {
                return Err(input(
                    file,
                    &format!("phases[{i}].batch_size"),
                    None,
                    "every phase but the last needs a batch_size".into(),
                ))
            }
            None => {}
        }
        if share > 100.0 {
            return Err(input(
                file,
                &format!("phases[{i}].batch_size"),
                None,
                "the phases add up to more than 100 %".into(),
            ));
        }
        stage.push((
            "percent".into(),
            if last {
                "100".into()
            } else {
                format!("{share:?}")
            },
        ));
        if i > 0 {
            let at = time(ph, i)?.ok_or_else(|| {
                input(
                    file,
                    &format!("phases[{i}].start_ts"),
                    None,
                    "every phase but the first needs a start_ts".into(),
                )
            })?;
            stage.push(("open_at".into(), duration((at - opens).max(0) / 60)));
        }
        p.stages.push(stage);
    }
    Ok(())
}

/// Azure Device Update deployment fields that name what is deployed to whom, or which
/// deployment this is: not how it proceeds.
const ADU_WHO: &[(&str, &str)] = &[
    (
        "deploymentId",
        "it names the deployment; it does not change how the rollout proceeds",
    ),
    ("groupId", "the fleet is the scenario's populations"),
    (
        "deviceClassSubgroups",
        "the fleet is the scenario's populations",
    ),
    (
        "update",
        "the release rolled out is the scenario's `target`",
    ),
];

/// Azure Device Update deployment flags that say what state a deployment is in, not its plan:
/// noted with their value.
const ADU_STATE: &[(&str, &str)] = &[
    (
        "isCanceled",
        "the deployment's state, not its plan; the rehearsal plays the deployment as created",
    ),
    (
        "isRetried",
        "an ADU retry is an operator's one-off action on the failed devices, not part of the plan; the imported policy does not retry",
    ),
    (
        "isCloudInitiatedRollback",
        "whether ADU created this deployment as a rollback; it is rehearsed as a rollout of the scenario's `target`",
    ),
];

/// An Azure Device Update deployment (the Deployments - Create Or Update body) as a policy:
/// every device of the group at once (one stage, no rate: ADU notifies the whole group when
/// the deployment starts), `startDateTime` as `start`, and `rollbackPolicy.failure` as
/// rollback rules.
pub(crate) fn azure_adu(doc: &Value, file: &str, start_unix_s: Option<i64>) -> Result<Policy> {
    let fields = object(doc, file, "an Azure Device Update deployment")?;
    let mut p = Policy::from(format!("{file} (Azure Device Update)"));
    for (key, value) in fields {
        match key.as_str() {
            "startDateTime" => adu_start(value, file, start_unix_s, &mut p)?,
            "rollbackPolicy" => adu_rollback(value, file, &mut p)?,
            k => {
                let why = |table: &[(&str, &'static str)]| {
                    table.iter().find(|(name, _)| *name == k).map(|(_, w)| *w)
                };
                let note = match (why(ADU_STATE), why(ADU_WHO)) {
                    (Some(why), _) => format!("{k} ({}): {why}", boolean(value, file, k)?),
                    (None, Some(why)) => format!("{k}: {why}"),
                    (None, None) => format!(
                        "{k}: not a deployment field fleetsim knows (it reads startDateTime and rollbackPolicy)"
                    ),
                };
                p.not_mapped.push(note);
            }
        }
    }
    // ADU has no phases: every device of the group is offered the update at once.
    p.stages.push(vec![
        ("name".into(), "\"group\"".into()),
        ("select".into(), "{}".into()),
        ("percent".into(), "100".into()),
    ]);
    Ok(p)
}

/// A boolean field, or an error naming it.
fn boolean(v: &Value, file: &str, key: &str) -> Result<bool> {
    v.as_bool().ok_or_else(|| {
        input(
            file,
            key,
            None,
            format!("expected true or false, found {v}"),
        )
    })
}

/// ADU `startDateTime` (RFC 3339): `start`, relative to the scenario's `simulation.start`; a
/// deployment read alone starts at its own time (no `start`).
fn adu_start(v: &Value, file: &str, start_unix_s: Option<i64>, p: &mut Policy) -> Result<()> {
    let at = rfc3339(v, file, "startDateTime")?;
    let origin = start_unix_s.unwrap_or(at);
    if at < origin {
        p.not_mapped.push(
            "startDateTime: before the scenario's simulation.start; the rollout opens at the start"
                .into(),
        );
    } else if at > origin {
        p.keys.push(("start".into(), duration((at - origin) / 60)));
    }
    Ok(())
}

/// ADU `rollbackPolicy`: `failure.devicesFailedPercentage` and `failure.devicesFailedCount`,
/// each a rollback rule (either fires: fleetsim checks the rules in order, the first that
/// fires acts). ADU's one "failed" device state covers every way an update does not land, so
/// the rules read `any_failure_rate`, of the devices in the deployment (`per = "notified"`:
/// ADU offers the update to the whole group at once).
fn adu_rollback(v: &Value, file: &str, p: &mut Policy) -> Result<()> {
    let policy = v.as_object().ok_or_else(|| {
        input(
            file,
            "rollbackPolicy",
            None,
            format!("expected an object with `update` and `failure`, found {v}"),
        )
    })?;
    let mut failure = None;
    for (key, value) in policy {
        match key.as_str() {
            "failure" => failure = Some(value),
            "update" => p.not_mapped.push(
                "rollbackPolicy.update: the release a rollback pushes is the scenario's `rollback_to`"
                    .into(),
            ),
            k => p.not_mapped.push(format!(
                "rollbackPolicy.{k}: not a rollback policy field fleetsim knows"
            )),
        }
    }
    let failure = failure.ok_or_else(|| {
        input(
            file,
            "rollbackPolicy.failure",
            None,
            "a rollback policy needs `failure` (devicesFailedPercentage, devicesFailedCount)"
                .into(),
        )
    })?;
    let conditions = failure.as_object().ok_or_else(|| {
        input(
            file,
            "rollbackPolicy.failure",
            None,
            format!("expected an object, found {failure}"),
        )
    })?;
    let rule = |limit: (&str, String)| {
        vec![
            ("metric".into(), "\"any_failure_rate\"".into()),
            (limit.0.to_string(), limit.1),
            ("per".into(), "\"notified\"".into()),
            ("action".into(), "\"rollback\"".into()),
        ]
    };
    // The percentage first, then the count: either fires, and both roll back.
    let first = p.aborts.len();
    for (key, value) in conditions {
        let at = format!("rollbackPolicy.failure.{key}");
        match key.as_str() {
            "devicesFailedPercentage" => {
                let pct = number(value, file, &at)?;
                if !(0.0..=100.0).contains(&pct) {
                    return Err(input(
                        file,
                        &at,
                        None,
                        format!("{pct} is not a percentage between 0 and 100"),
                    ));
                }
                p.aborts
                    .insert(first, rule(("threshold", format!("{:?}", pct / 100.0))));
            }
            "devicesFailedCount" => {
                let n = count(value, file, &at)?;
                if n == 0 {
                    return Err(input(
                        file,
                        &at,
                        None,
                        "0 devices: a rollback fires on a count of at least 1".into(),
                    ));
                }
                p.aborts.push(rule(("max_count", n.to_string())));
            }
            k => p.not_mapped.push(format!(
                "rollbackPolicy.failure.{k}: not a failure condition fleetsim knows"
            )),
        }
    }
    if p.aborts.len() == first {
        return Err(input(
            file,
            "rollbackPolicy.failure",
            None,
            "needs devicesFailedPercentage or devicesFailedCount".into(),
        ));
    }
    Ok(())
}

/// The `--into` scenario as a TOML table.
fn scenario_table(text: &str, label: &str) -> Result<toml::Table> {
    toml::from_str(text).map_err(|e| {
        input(
            label,
            "",
            None,
            format!("not a TOML scenario: {}", e.message()),
        )
    })
}

/// The scenario's `simulation.start` as Unix seconds, if it has one.
fn simulation_start(table: &toml::Table) -> Option<i64> {
    let start = table
        .get("simulation")
        .and_then(|s| s.get("start"))
        .and_then(|s| s.as_str());
    start.and_then(|s| scenario::validate::unix_seconds(s).ok())
}

/// Whether a line opens a table of the policy (`[policy]`, `[policy.x]`, `[[policy.stage]]`…).
fn opens_policy(line: &str) -> bool {
    let t = line.trim_start().trim_start_matches('[').trim_start();
    line.trim_start().starts_with('[') && (t.starts_with("policy]") || t.starts_with("policy."))
}

/// The scenario text with every `policy` table removed and `policy` appended, keeping the
/// scenario's [`KEPT`] keys.
fn replace_policy(text: &str, table: &toml::Table, policy: &Policy) -> String {
    let old = table.get("policy").and_then(toml::Value::as_table);
    let kept: Vec<(String, String)> = KEPT
        .iter()
        .filter_map(|k| {
            old.and_then(|t| t.get(*k))
                .map(|v| (k.to_string(), inline(v)))
        })
        .collect();
    let mut out = String::new();
    let mut in_policy = false;
    for line in text.lines() {
        if line.trim_start().starts_with('[') {
            in_policy = opens_policy(line);
        }
        if !in_policy {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push('\n');
    out.push_str(&policy.text(Some(&kept)));
    out
}

/// A TOML value on one line (tables inline).
fn inline(v: &toml::Value) -> String {
    match v {
        toml::Value::Table(t) => {
            let parts: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{k} = {}", inline(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        toml::Value::Array(a) => {
            format!("[{}]", a.iter().map(inline).collect::<Vec<_>>().join(", "))
        }
        other => other.to_string(),
    }
}

mod hawkbit;
#[cfg(test)]
mod tests;
