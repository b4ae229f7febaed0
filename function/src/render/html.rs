//! `report.html`: self-contained and email-safe — tables and inline CSS only, no scripts,
//! no external resources. Every dynamic string passes through [`Esc`]; static markup is
//! the only unescaped text.

use super::{data_line, factor_value, NOT_ADVICE};
use crate::domain::report::RunReport;
use crate::domain::scoring::{Grade, RankedStock};
use std::fmt::{self, Write};

/// Displays a string HTML-escaped (text and attribute safe).
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

fn grade_colors(g: Option<Grade>) -> (&'static str, &'static str) {
    match g {
        Some(Grade::A) => ("#1b7f3b", "#ffffff"),
        Some(Grade::B) => ("#6aa84f", "#ffffff"),
        Some(Grade::C) => ("#f1c232", "#222222"),
        Some(Grade::D) => ("#e69138", "#ffffff"),
        Some(Grade::F) => ("#cc0000", "#ffffff"),
        None => ("#dddddd", "#555555"),
    }
}

fn chips(p: &RankedStock) -> String {
    let mut out = String::new();
    for (group, grade) in p.grades.iter() {
        let (bg, fg) = grade_colors(*grade);
        let letter = grade.map(|g| g.letter()).unwrap_or("-");
        let initial: String = group.chars().take(1).collect::<String>().to_uppercase();
        let _ = write!(
            out,
            "<span title=\"{}\" class=\"chip\" style=\"display:inline-block;min-width:30px;padding:1px 3px;margin:1px;border-radius:3px;background:{bg};color:{fg};font-size:11px;text-align:center\">{}&nbsp;{}</span>",
            Esc(group),
            Esc(&initial),
            letter
        );
    }
    out
}

fn score_bar(score: f64) -> String {
    let w = score.clamp(0.0, 100.0).round() as u32;
    format!(
        "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" style=\"width:100px;border-collapse:collapse\"><tr><td style=\"width:{w}px;height:6px;background:#3c78d8\"></td><td style=\"height:6px;background:#e8eef9\"></td></tr></table>"
    )
}

pub fn render(r: &RunReport, unsubscribe: &str) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title></head>\
         <body style=\"margin:0;padding:16px;background:#f6f7f9;font-family:Arial,Helvetica,sans-serif;color:#222\">\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:960px;margin:0 auto;background:#fff;border:1px solid #e2e4e8\"><tr><td style=\"padding:16px\">",
        Esc(&r.subject())
    );
    let headline_style = if r.partial.is_some() { "color:#b00020" } else { "color:#222" };
    let _ = write!(h, "<p id=\"headline\" style=\"margin:0 0 8px;font-weight:bold;{headline_style}\">{}</p>", Esc(&r.headline()));
    if r.data_source.is_synthetic() {
        let _ = write!(
            h,
            "<p id=\"synthetic\" style=\"margin:0 0 8px;padding:8px;background:#fff3cd;border:1px solid #e0c060\">SYNTHETIC DATA: these figures come from the built-in Alpha Vantage simulator, not from real companies.</p>"
        );
    }
    let _ = write!(
        h,
        "<h1 style=\"font-size:20px;margin:8px 0\">stockpicks &middot; weekly top {} &middot; {}</h1>",
        r.picks.len(),
        Esc(&r.data_date.fetched)
    );
    let _ = write!(h, "<p id=\"coverage\" style=\"margin:0 0 12px;font-size:13px;color:#555\">{}</p>", Esc(&data_line(r)));

    let _ = write!(
        h,
        "<table id=\"picks\" cellpadding=\"6\" cellspacing=\"0\" style=\"width:100%;border-collapse:collapse;font-size:13px\">\
         <tr style=\"background:#f0f2f5;text-align:left\"><th>#</th><th>Company</th><th>Sector</th><th>Score</th><th>Grades</th><th>Why</th></tr>"
    );
    for p in &r.picks {
        let reasons: String = p.reasons.iter().map(|s| format!("<li>{}</li>", Esc(s))).collect();
        let _ = write!(
            h,
            "<tr class=\"pick\" style=\"border-top:1px solid #e2e4e8;vertical-align:top\">\
             <td>{}</td>\
             <td><b>{}</b><br><span style=\"color:#555\">{}</span><br><span style=\"color:#777;font-size:11px\">EY {} &middot; ROE {} &middot; Rev {}</span></td>\
             <td>{}</td>\
             <td><b>{:.1}</b>{}<span style=\"color:#777;font-size:11px\">coverage {:.0}%</span></td>\
             <td>{}</td>\
             <td><ul style=\"margin:0;padding-left:16px\">{}</ul></td></tr>",
            p.rank,
            Esc(p.symbol.as_str()),
            Esc(&p.name),
            Esc(&factor_value(p, "earnings_yield")),
            Esc(&factor_value(p, "roe")),
            Esc(&factor_value(p, "revenue_growth")),
            Esc(&p.sector),
            p.score,
            score_bar(p.score),
            p.coverage * 100.0,
            chips(p),
            reasons
        );
    }
    h.push_str("</table>");

    if !r.unranked.is_empty() {
        let shown: Vec<String> = r.unranked.iter().take(30).map(|u| format!("{} ({})", u.symbol, u.reason)).collect();
        let more = r.unranked.len().saturating_sub(30);
        let tail = if more > 0 { format!("; and {more} more in results.json") } else { String::new() };
        let _ = write!(
            h,
            "<p id=\"unranked\" style=\"font-size:12px;color:#555\"><b>Not ranked ({}):</b> {}{}</p>",
            r.unranked.len(),
            Esc(&shown.join("; ")),
            Esc(&tail)
        );
    }
    let _ = write!(
        h,
        "<p style=\"font-size:12px;color:#555\">Run {} &middot; {} API calls, {} throttled, {} retries, {:.1} s.</p>\
         <p id=\"disclaimer\" style=\"font-size:12px;color:#555\">{}</p>\
         <p style=\"font-size:12px\"><a href=\"{}\" style=\"color:#3c78d8\">Unsubscribe</a></p>\
         </td></tr></table></body></html>",
        Esc(&r.run_id),
        r.stats.api_calls,
        r.stats.throttled,
        r.stats.retries,
        r.stats.elapsed_ms as f64 / 1000.0,
        Esc(NOT_ADVICE),
        Esc(unsubscribe)
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_dangerous() {
        assert_eq!(
            Esc("<script>alert('x')</script> & \"q\"").to_string(),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
