//! The events the function accepts, as one type. The contract is `{"op": "run" | "lane" |
//! "sweep", ...}`; the old system's payloads are accepted unchanged and mapped onto it.
//! Parsing never panics and never guesses: anything else is refused with a reason.

use super::symbol::{parse_list, Symbol};
use super::time;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Event {
    Run(RunEvent),
    Lane(LaneEvent),
    Sweep(SweepEvent),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunEvent {
    /// `"sp500"` (the built-in list) or null.
    #[serde(default)]
    pub universe: Option<String>,
    /// Tickers to score instead of the universe.
    #[serde(default)]
    pub symbols: Option<Vec<String>>,
    /// GICS sectors for `symbols`, by position (the old `sp500_data` payload carries them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sectors: Option<Vec<String>>,
    #[serde(default = "default_top")]
    pub top: usize,
    #[serde(default)]
    pub run_id: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    /// EventBridge Scheduler's `<aws.scheduler.scheduled-time>`.
    #[serde(default)]
    pub scheduled_time: Option<String>,
}

fn default_top() -> usize {
    25
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneEvent {
    pub run_id: String,
    pub lane: usize,
    pub chunks: Vec<usize>,
    /// Index into `chunks` where this invocation starts (continuations move it on).
    #[serde(default)]
    pub offset: usize,
    #[serde(default)]
    pub depth: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepEvent {
    /// Finalize this run now, whatever its deadline (the old `finalize_results` with a run id).
    #[serde(default)]
    pub run_id: Option<String>,
}

/// Why an event was refused (the text is the reply's `error` field).
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("event must be a JSON object")]
    NotAnObject,
    /// An `op` event serde refused (unknown op or field, wrong type).
    #[error("invalid event: {0}")]
    Invalid(#[source] serde_json::Error),
    #[error("unknown event: expected \"op\" (run, lane, sweep) or an old payload (test_mode, sp500_data, operation); got keys [{}]", keys.join(", "))]
    Unknown { keys: Vec<String> },
    #[error("top must be 1-500, got {0}")]
    Top(usize),
    #[error("unknown universe {0:?}; only \"sp500\" is built in")]
    Universe(String),
    #[error("symbols is empty")]
    NoSymbols,
    #[error("{0} symbols; at most 20000")]
    TooManySymbols(usize),
    #[error("sectors must match symbols one for one")]
    SectorsMismatch,
    #[error("invalid run_id {0:?}: letters, digits and '-' only, at most 64")]
    RunId(String),
    #[error("scheduled_time {0:?} is not an RFC 3339 UTC time")]
    ScheduledTime(String),
    #[error("lane without chunks")]
    NoChunks,
    #[error("offset {offset} is past the lane's {chunks} chunks")]
    Offset { offset: usize, chunks: usize },
    #[error("depth {0} exceeds the limit of {MAX_DEPTH}")]
    Depth(u32),
    /// An old payload with a field of the wrong shape (`what`: "test_symbols must be a list").
    #[error("{0}")]
    Legacy(String),
    #[error("unknown operation {0}; expected process_chunk or finalize_results")]
    Operation(String),
}

/// Lambda stops recursive chains at about 16 invocations; stay well under.
pub const MAX_DEPTH: u32 = 12;

impl Event {
    /// Parses any accepted event shape and validates it.
    pub fn parse(v: &Value) -> Result<Event, EventError> {
        let obj = v.as_object().ok_or(EventError::NotAnObject)?;
        let event = if obj.contains_key("op") {
            serde_json::from_value::<Event>(v.clone()).map_err(EventError::Invalid)?
        } else if obj.contains_key("test_mode") || obj.contains_key("test_symbols") {
            legacy_test(obj)?
        } else if obj.contains_key("sp500_data") {
            legacy_sp500_data(obj)?
        } else if let Some(op) = obj.get("operation") {
            legacy_operation(op, obj)?
        } else {
            return Err(EventError::Unknown { keys: obj.keys().take(8).cloned().collect() });
        };
        event.validate()?;
        Ok(event)
    }

    fn validate(&self) -> Result<(), EventError> {
        match self {
            Event::Run(r) => {
                if !(1..=500).contains(&r.top) {
                    return Err(EventError::Top(r.top));
                }
                if let Some(u) = &r.universe {
                    if u != "sp500" {
                        return Err(EventError::Universe(u.clone()));
                    }
                }
                if let Some(syms) = &r.symbols {
                    if syms.is_empty() {
                        return Err(EventError::NoSymbols);
                    }
                    if syms.len() > 20_000 {
                        return Err(EventError::TooManySymbols(syms.len()));
                    }
                    if let Some(sectors) = &r.sectors {
                        if sectors.len() != syms.len() {
                            return Err(EventError::SectorsMismatch);
                        }
                    }
                }
                if let Some(id) = &r.run_id {
                    check_run_id(id)?;
                }
                if let Some(t) = &r.scheduled_time {
                    time::parse_rfc3339(t).ok_or_else(|| EventError::ScheduledTime(t.clone()))?;
                }
                Ok(())
            }
            Event::Lane(l) => {
                check_run_id(&l.run_id)?;
                if l.chunks.is_empty() {
                    return Err(EventError::NoChunks);
                }
                if l.offset > l.chunks.len() {
                    return Err(EventError::Offset { offset: l.offset, chunks: l.chunks.len() });
                }
                if l.depth > MAX_DEPTH {
                    return Err(EventError::Depth(l.depth));
                }
                Ok(())
            }
            Event::Sweep(s) => s.run_id.as_deref().map_or(Ok(()), check_run_id),
        }
    }

    /// The run's id for a scheduled run: `sched-YYYYMMDDTHHMMZ`, so a redelivered schedule
    /// event names the same run.
    pub fn scheduled_run_id(scheduled_time: &str) -> Option<String> {
        time::parse_rfc3339(scheduled_time).map(|t| format!("sched-{}", time::compact_minute(t)))
    }
}

/// Run ids become S3 key parts: letters, digits and `-` only, 1-64 characters.
pub fn check_run_id(id: &str) -> Result<(), EventError> {
    let ok = !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(EventError::RunId(id.chars().take(70).collect()))
    }
}

fn strings(v: Option<&Value>, what: &str) -> Result<Vec<String>, EventError> {
    let arr = v.and_then(Value::as_array).ok_or_else(|| EventError::Legacy(format!("{what} must be a list")))?;
    arr.iter().map(|x| x.as_str().map(String::from).ok_or_else(|| EventError::Legacy(format!("{what} must hold strings")))).collect()
}

/// `{"test_mode": true, "test_symbols": [...]}`
fn legacy_test(obj: &serde_json::Map<String, Value>) -> Result<Event, EventError> {
    let symbols = match obj.get("test_symbols") {
        Some(v) => Some(strings(Some(v), "test_symbols")?),
        None => None,
    };
    Ok(Event::Run(RunEvent {
        universe: None,
        symbols,
        sectors: None,
        top: obj.get("top").and_then(Value::as_u64).map_or(25, |t| t as usize),
        run_id: None,
        dry_run: false,
        scheduled_time: None,
    }))
}

/// `{"sp500_data": [{"Symbol": "AAPL", "Sector": "Information Technology"}, ...]}`
fn legacy_sp500_data(obj: &serde_json::Map<String, Value>) -> Result<Event, EventError> {
    let rows = obj.get("sp500_data").and_then(Value::as_array).ok_or_else(|| EventError::Legacy("sp500_data must be a list".into()))?;
    let mut symbols = Vec::with_capacity(rows.len());
    let mut sectors = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let sym = row.get("Symbol").and_then(Value::as_str).ok_or_else(|| EventError::Legacy(format!("sp500_data[{i}] has no Symbol")))?;
        symbols.push(sym.to_string());
        sectors.push(row.get("Sector").or_else(|| row.get("GICS Sector")).and_then(Value::as_str).unwrap_or("").to_string());
    }
    Ok(Event::Run(RunEvent {
        universe: None,
        symbols: Some(symbols),
        sectors: Some(sectors),
        top: 25,
        run_id: None,
        dry_run: false,
        scheduled_time: None,
    }))
}

/// `{"operation": "process_chunk", "run_id": .., "chunk_index": i}` and
/// `{"operation": "finalize_results"[, "run_id": ..]}`.
fn legacy_operation(op: &Value, obj: &serde_json::Map<String, Value>) -> Result<Event, EventError> {
    let run_id = obj.get("run_id").and_then(Value::as_str).map(String::from);
    match op.as_str() {
        Some("process_chunk") => {
            let run_id = run_id.ok_or_else(|| EventError::Legacy("process_chunk needs run_id".into()))?;
            let chunk = obj
                .get("chunk_index")
                .or_else(|| obj.get("chunk_id"))
                .and_then(Value::as_u64)
                .ok_or_else(|| EventError::Legacy("process_chunk needs chunk_index".into()))?;
            Ok(Event::Lane(LaneEvent { run_id, lane: chunk as usize, chunks: vec![chunk as usize], offset: 0, depth: 0 }))
        }
        Some("finalize_results") => Ok(Event::Sweep(SweepEvent { run_id })),
        _ => Err(EventError::Operation(op.to_string())),
    }
}

/// The symbols a run event asks for: `(good, bad tickers with reasons)`.
pub fn requested_symbols(r: &RunEvent) -> Option<(Vec<Symbol>, Vec<String>)> {
    let syms = r.symbols.as_ref()?;
    let (good, bad) = parse_list(syms.iter().map(String::as_str));
    Some((good, bad.iter().map(|e| e.to_string()).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contract_events() {
        let e = Event::parse(&json!({"op": "run", "universe": "sp500", "scheduled_time": "2026-11-30T13:00:00Z"})).unwrap();
        let Event::Run(r) = e else { panic!() };
        assert_eq!(r.top, 25);
        assert_eq!(Event::scheduled_run_id(r.scheduled_time.as_deref().unwrap()).unwrap(), "sched-20261130T1300Z");
        // An offset is applied exactly (the old parser read 14:00 and ignored "+01:00"), and
        // an impossible date is refused.
        assert_eq!(Event::scheduled_run_id("2026-11-30T14:00:00+01:00").as_deref(), Some("sched-20261130T1300Z"));
        assert_eq!(Event::scheduled_run_id("2026-02-30T13:00:00Z"), None);
        assert!(Event::parse(&json!({"op": "run", "scheduled_time": "2026-02-30T13:00:00Z"})).is_err());
        let l = Event::parse(&json!({"op": "lane", "run_id": "r-1", "lane": 0, "chunks": [0, 3, 6], "offset": 0, "depth": 1})).unwrap();
        assert!(matches!(l, Event::Lane(LaneEvent { depth: 1, .. })));
        assert_eq!(Event::parse(&json!({"op": "sweep"})).unwrap(), Event::Sweep(SweepEvent::default()));
    }

    #[test]
    fn old_payloads_are_accepted() {
        let Event::Run(r) = Event::parse(&json!({"test_mode": true, "test_symbols": ["AAPL", "MSFT"]})).unwrap() else { panic!() };
        assert_eq!(r.symbols.unwrap(), ["AAPL", "MSFT"]);
        let Event::Run(r) = Event::parse(&json!({"sp500_data": [{"Symbol": "BRK.B", "Sector": "Financials"}]})).unwrap() else { panic!() };
        assert_eq!(r.sectors.unwrap(), ["Financials"]);
        let l = Event::parse(&json!({"operation": "process_chunk", "run_id": "abc", "chunk_index": 4})).unwrap();
        assert!(matches!(l, Event::Lane(LaneEvent { ref chunks, .. }) if chunks == &[4]));
        let f = Event::parse(&json!({"operation": "finalize_results"})).unwrap();
        assert_eq!(f, Event::Sweep(SweepEvent { run_id: None }));
    }

    #[test]
    fn bad_events_are_refused_with_a_reason() {
        for (v, want) in [
            (json!([1]), "JSON object"),
            (json!({"hello": 1}), "unknown event"),
            (json!({"op": "explode"}), "invalid event"),
            (json!({"op": "run", "top": 0}), "top must be"),
            (json!({"op": "run", "universe": "nasdaq"}), "unknown universe"),
            (json!({"op": "run", "symbols": []}), "symbols is empty"),
            (json!({"op": "run", "run_id": "../../etc"}), "invalid run_id"),
            (json!({"op": "run", "scheduled_time": "yesterday"}), "scheduled_time"),
            (json!({"op": "run", "colour": "red"}), "unknown field"),
            (json!({"op": "lane", "run_id": "r", "lane": 0, "chunks": []}), "without chunks"),
            (json!({"op": "lane", "run_id": "r", "lane": 0, "chunks": [1], "depth": 99}), "depth"),
            (json!({"operation": "process_chunk"}), "needs run_id"),
            (json!({"operation": "dance"}), "unknown operation"),
            (json!({"test_symbols": "AAPL"}), "must be a list"),
        ] {
            let e = Event::parse(&v).unwrap_err().to_string();
            assert!(e.contains(want), "{v}: {e}");
        }
    }

    #[test]
    fn refusals_are_typed_and_keep_the_parsers_error() {
        let e = Event::parse(&json!({"op": "run", "colour": "red"})).unwrap_err();
        assert!(matches!(&e, EventError::Invalid(_)), "{e:?}");
        assert!(std::error::Error::source(&e).is_some_and(|s| s.is::<serde_json::Error>()));
        assert!(matches!(Event::parse(&json!({"op": "run", "top": 0})), Err(EventError::Top(0))));
        assert!(matches!(Event::parse(&json!([])), Err(EventError::NotAnObject)));
        assert!(matches!(check_run_id("a/b"), Err(EventError::RunId(id)) if id == "a/b"));
    }
}
