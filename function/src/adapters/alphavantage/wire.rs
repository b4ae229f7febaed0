//! What an Alpha Vantage reply means. Errors arrive with HTTP 200 and a JSON body; the
//! wording changes over the years, so replies are classified by their key and a few
//! robust phrases, never by the whole text.

use crate::domain::fundamentals::Fundamentals;
use crate::domain::outcome::FetchError;
use serde_json::{Map, Value};

/// Classifies the parsed body of any Alpha Vantage reply. `Ok` carries the JSON object
/// for the caller to read; every known error shape becomes a typed `FetchError`.
pub fn classify(body: &Value) -> Result<&Map<String, Value>, FetchError> {
    let obj = body.as_object().ok_or_else(|| FetchError::Malformed(format!("expected a JSON object, got {}", kind(body))))?;
    if obj.is_empty() {
        return Err(FetchError::NotFound);
    }
    if let Some(msg) = obj.get("Error Message") {
        return Err(FetchError::InvalidCall(short(msg)));
    }
    if obj.contains_key("Note") {
        // The old throttle text ("5 calls per minute and 500 calls per day").
        return Err(FetchError::Throttled);
    }
    if let Some(info) = obj.get("Information") {
        return Err(classify_information(&info.as_str().unwrap_or_default().to_ascii_lowercase()));
    }
    // The premium notice of endpoints like REALTIME_BULK_QUOTES: comes with ARTIFICIAL
    // sample rows that must never be used.
    if let Some(msg) = obj.get("message").and_then(Value::as_str) {
        let m = msg.to_ascii_lowercase();
        if m.contains("premium") || m.contains("artificial") {
            return Err(FetchError::PremiumOnly);
        }
    }
    Ok(obj)
}

fn classify_information(text: &str) -> FetchError {
    if text.contains("demo") && text.contains("api key") {
        FetchError::DemoKey
    } else if text.contains("sparingly") || text.contains("per second") || text.contains("burst") || text.contains("per minute") {
        // Checked before the daily wording: the burst text also mentions "25 requests per day".
        FetchError::Throttled
    } else if text.contains("premium endpoint") {
        FetchError::PremiumOnly
    } else if text.contains("per day") || text.contains("daily") {
        FetchError::DailyQuotaExhausted
    } else {
        // Unknown wording: treat as a rate signal, which is retried a bounded number of times.
        FetchError::Throttled
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn short(v: &Value) -> String {
    v.as_str().unwrap_or_default().chars().take(120).collect()
}

/// Parses a reply body's bytes as JSON (malformed when not).
pub fn parse_body(bytes: &[u8]) -> Result<Value, FetchError> {
    serde_json::from_slice(bytes).map_err(|e| FetchError::Malformed(format!("not JSON ({e})")))
}

/// An OVERVIEW reply: an object carrying at least `Symbol`.
pub fn overview(body: &Value) -> Result<Fundamentals, FetchError> {
    let obj = classify(body)?;
    if !obj.contains_key("Symbol") {
        return Err(FetchError::Malformed("OVERVIEW reply without a Symbol field".into()));
    }
    Ok(Fundamentals::from_overview(obj))
}

/// A GLOBAL_QUOTE reply: `{"Global Quote": {"05. price": "..."}}`; an empty quote object
/// is an unknown symbol.
pub fn global_quote(body: &Value) -> Result<f64, FetchError> {
    let obj = classify(body)?;
    let quote = obj
        .get("Global Quote")
        .and_then(Value::as_object)
        .ok_or_else(|| FetchError::Malformed("GLOBAL_QUOTE reply without a Global Quote object".into()))?;
    if quote.is_empty() {
        return Err(FetchError::NotFound);
    }
    let raw = quote.get("05. price").and_then(Value::as_str).ok_or_else(|| FetchError::Malformed("quote without 05. price".into()))?;
    match crate::domain::fundamentals::read_cell(raw, true) {
        crate::domain::fundamentals::Cell::Number(p) if p > 0.0 => Ok(p),
        _ => Err(FetchError::Malformed(format!("unreadable price {raw:?}"))),
    }
}

/// A REALTIME_BULK_QUOTES reply with data: `{"data": [{"symbol": .., "close": ..}, ..]}`.
/// The premium notice (with its ARTIFICIAL rows) is `PremiumOnly` via [`classify`]; rows
/// with a bad symbol or price are left out (those symbols then get no bulk price).
pub fn bulk_quotes(body: &Value) -> Result<Vec<(crate::domain::Symbol, f64)>, FetchError> {
    let obj = classify(body)?;
    let rows =
        obj.get("data").and_then(Value::as_array).ok_or_else(|| FetchError::Malformed("bulk quotes reply without a data array".into()))?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let sym = crate::domain::Symbol::parse(r.get("symbol")?.as_str()?).ok()?;
            let raw = r.get("close").or_else(|| r.get("price"))?.as_str()?;
            match crate::domain::fundamentals::read_cell(raw, true) {
                crate::domain::fundamentals::Cell::Number(p) if p > 0.0 => Some((sym, p)),
                _ => None,
            }
        })
        .collect())
}

/// EARNINGS_CALENDAR replies with CSV; errors still come as JSON.
pub fn earnings_calendar(bytes: &[u8]) -> Result<crate::domain::cache::Calendar, FetchError> {
    let text = std::str::from_utf8(bytes).map_err(|_| FetchError::Malformed("calendar is not UTF-8".into()))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        return classify(&parse_body(trimmed.as_bytes())?)
            .and(Err(FetchError::Malformed("JSON where the calendar CSV was expected".into())));
    }
    let (cal, skipped) = crate::domain::cache::Calendar::from_csv(text).map_err(|e| FetchError::Malformed(e.to_string()))?;
    if skipped > 0 {
        tracing::debug!(skipped, "earnings calendar rows skipped");
    }
    Ok(cal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_error_shape_is_typed() {
        assert_eq!(classify(&json!({})).unwrap_err(), FetchError::NotFound);
        assert!(matches!(classify(&json!({"Error Message": "Invalid API call."})), Err(FetchError::InvalidCall(_))));
        assert_eq!(classify(&json!({"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day."})).unwrap_err(), FetchError::Throttled);
        assert_eq!(
            classify(&json!({"Information": "Thank you for using Alpha Vantage! Please consider spreading out your free API requests more sparingly (1 request per second). You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to lift the free key rate limit (25 requests per day), raise the per-second burst limit, and instantly unlock all premium endpoints"})).unwrap_err(),
            FetchError::Throttled
        );
        assert_eq!(
            classify(&json!({"Information": "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."})).unwrap_err(),
            FetchError::DailyQuotaExhausted
        );
        assert_eq!(
            classify(&json!({"Information": "Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly unlock all premium endpoints"})).unwrap_err(),
            FetchError::PremiumOnly
        );
        assert_eq!(
            classify(&json!({"Information": "The **demo** API key is for demo purposes only. Please claim your free API key"}))
                .unwrap_err(),
            FetchError::DemoKey
        );
        assert_eq!(
            classify(&json!({"endpoint": "Realtime Bulk Quotes", "message": "This is a premium endpoint. ***THE SAMPLE DATA SCHEMA BELOW IS ARTIFICIAL***", "data": [{"symbol": "MSFT", "close": "418.16"}]})).unwrap_err(),
            FetchError::PremiumOnly
        );
        assert!(matches!(classify(&json!([1, 2])), Err(FetchError::Malformed(_))));
        assert!(matches!(parse_body(b"{\"Symbol\": \"AA"), Err(FetchError::Malformed(_))));
    }

    #[test]
    fn quote_shapes() {
        assert_eq!(global_quote(&json!({"Global Quote": {}})).unwrap_err(), FetchError::NotFound);
        assert_eq!(global_quote(&json!({"Global Quote": {"05. price": "112.1300"}})).unwrap(), 112.13);
        assert!(matches!(global_quote(&json!({"Global Quote": {"05. price": "0"}})), Err(FetchError::Malformed(_))));
    }

    #[test]
    fn bulk_quotes_and_calendar_shapes() {
        let rows = bulk_quotes(&json!({"endpoint": "Realtime Bulk Quotes", "message": "", "data": [
            {"symbol": "MSFT", "close": "418.16"}, {"symbol": "<b>", "close": "1"}, {"symbol": "IBM", "close": "0"}]}))
        .unwrap();
        assert_eq!(rows, vec![(crate::domain::Symbol::parse("MSFT").unwrap(), 418.16)]);
        assert!(matches!(bulk_quotes(&json!({"endpoint": "x", "message": ""})), Err(FetchError::Malformed(_))));
        let cal =
            earnings_calendar(b"symbol,name,reportDate,fiscalDateEnding,estimate,currency\nKO,Coca-Cola,2027-02-10,2026-12-31,,USD\n")
                .unwrap();
        assert_eq!(cal.next_report.len(), 1);
        assert_eq!(
            earnings_calendar(
                br#"{"Information": "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day."}"#
            )
            .unwrap_err(),
            FetchError::DailyQuotaExhausted
        );
        assert!(matches!(earnings_calendar(b"{}"), Err(FetchError::NotFound)));
        assert!(matches!(earnings_calendar(b"<html>busy</html>"), Err(FetchError::Malformed(_))));
    }

    #[test]
    fn overview_needs_symbol() {
        assert!(matches!(overview(&json!({"Name": "x"})), Err(FetchError::Malformed(_))));
        assert_eq!(overview(&json!({"Symbol": "X", "EPS": "1.5"})).unwrap().value("EPS"), Some(1.5));
    }
}
