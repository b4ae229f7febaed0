//! `report.html`: self-contained and email-safe — tables and inline CSS only, no scripts,
//! no external resources. Every dynamic string passes through [`Esc`]; static markup is
//! the only unescaped text.

use super::{commentary_line, data_line, factor_value, signed_percent, NOT_ADVICE};
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

/// Under the rank: "new", an arrow with the places moved, and the streak.
fn movement(r: &RunReport, p: &RankedStock) -> String {
    let Some(c) = r.changes.as_ref().and_then(|c| c.picks.iter().find(|c| c.symbol == p.symbol)) else { return String::new() };
    let (text, color) = match (c.new_entry, c.moved) {
        (true, _) => ("new".to_string(), "#1b7f3b"),
        (false, Some(m)) if m > 0 => (format!("&#9650;{m}"), "#1b7f3b"),
        (false, Some(m)) if m < 0 => (format!("&#9660;{}", -m), "#cc0000"),
        _ => ("=".to_string(), "#777777"),
    };
    let streak = if c.streak > 1 { format!("<br><span style=\"color:#777\">{} runs</span>", c.streak) } else { String::new() };
    format!("<br><span class=\"move\" style=\"font-size:11px;color:{color}\">{text}</span><span style=\"font-size:11px\">{streak}</span>")
}

fn section_title(h: &mut String, id: &str, title: &str) {
    let _ = write!(h, "<h2 id=\"{id}\" style=\"font-size:16px;margin:20px 0 6px\">{}</h2>", Esc(title));
}

fn changes_section(h: &mut String, r: &RunReport) {
    let Some(c) = &r.changes else {
        section_title(h, "changes", "Since the last run");
        h.push_str("<p style=\"font-size:13px;color:#555\">No earlier run is stored to compare with: this is the first.</p>");
        return;
    };
    section_title(h, "changes", &format!("Since the last run ({})", c.previous_published.get(..10).unwrap_or(&c.previous_published)));
    let new: Vec<String> = c.picks.iter().filter(|p| p.new_entry).map(|p| format!("{} (#{})", p.symbol, p.rank)).collect();
    let dropped: Vec<String> = c
        .dropped
        .iter()
        .map(|d| match d.rank {
            Some(now) => format!("{} (#{} &rarr; #{now})", Esc(d.symbol.as_str()), d.previous_rank),
            None => format!("{} (#{} &rarr; not ranked)", Esc(d.symbol.as_str()), d.previous_rank),
        })
        .collect();
    let _ = write!(
        h,
        "<p id=\"new-entries\" style=\"font-size:13px;margin:2px 0\"><b>New ({}):</b> {}</p>\
         <p id=\"drop-outs\" style=\"font-size:13px;margin:2px 0\"><b>Dropped out ({}):</b> {}</p>",
        new.len(),
        if new.is_empty() { "none".to_string() } else { Esc(&new.join(", ")).to_string() },
        dropped.len(),
        if dropped.is_empty() { "none".to_string() } else { dropped.join(", ") }
    );
}

fn bar(width_px: u32, color: &str) -> String {
    format!(
        "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" style=\"border-collapse:collapse\"><tr><td style=\"width:{}px;height:8px;background:{color}\"></td></tr></table>",
        width_px.max(1)
    )
}

fn sector_section(h: &mut String, r: &RunReport) {
    let mix = r.sector_mix();
    if mix.is_empty() {
        return;
    }
    section_title(h, "sector-mix", "Sector mix: picks against all ranked companies");
    h.push_str(
        "<table id=\"sectors\" cellpadding=\"3\" cellspacing=\"0\" style=\"border-collapse:collapse;font-size:12px\">\
         <tr style=\"text-align:left;background:#f0f2f5\"><th>Sector</th><th>Picks</th><th></th><th>Universe</th><th></th></tr>",
    );
    let (np, nu) = (r.picks.len().max(1) as f64, r.ranking.len().max(1) as f64);
    for (sector, picks, all) in mix {
        let (sp, su) = (picks as f64 / np * 100.0, all as f64 / nu * 100.0);
        let _ = write!(
            h,
            "<tr class=\"sector\"><td>{}</td><td style=\"text-align:right\">{picks} ({sp:.0}%)</td><td>{}</td><td style=\"text-align:right\">{all} ({su:.0}%)</td><td>{}</td></tr>",
            Esc(&sector),
            bar((sp * 2.0).round() as u32, "#3c78d8"),
            bar((su * 2.0).round() as u32, "#b7b7b7")
        );
    }
    h.push_str("</table>");
}

fn track_section(h: &mut String, r: &RunReport) {
    section_title(h, "track-record", "Track record");
    if r.track_record.is_empty() {
        h.push_str("<p style=\"font-size:13px;color:#555\">No earlier run is stored yet: the record starts with this one.</p>");
        return;
    }
    h.push_str(
        "<p style=\"font-size:12px;color:#555;margin:0 0 4px\">Each earlier run's picks, from the prices it published with to the prices this run fetched (equal weight), against the median stock. Past results say nothing certain about future ones.</p>\
         <table id=\"track\" cellpadding=\"3\" cellspacing=\"0\" style=\"border-collapse:collapse;font-size:12px\">\
         <tr style=\"text-align:left;background:#f0f2f5\"><th>Published</th><th>Days</th><th>Picks</th><th>Median stock</th><th>Difference</th><th>Beat median</th></tr>",
    );
    for t in r.track_record.iter().take(12) {
        let color = match t.excess {
            Some(x) if x > 0.0 => "#1b7f3b",
            Some(x) if x < 0.0 => "#cc0000",
            _ => "#222",
        };
        let _ = write!(
            h,
            "<tr class=\"track\"><td>{}</td><td style=\"text-align:right\">{:.1}</td><td style=\"text-align:right\">{}</td><td style=\"text-align:right\">{}</td><td style=\"text-align:right;color:{color}\"><b>{}</b></td><td style=\"text-align:right\">{} of {}</td></tr>",
            Esc(t.published.get(..10).unwrap_or(&t.published)),
            t.days,
            signed_percent(t.picks_return),
            signed_percent(t.universe_median),
            signed_percent(t.excess),
            t.beat_median,
            t.picks_priced
        );
    }
    h.push_str("</table>");
    if r.track_record.len() > 12 {
        let _ = write!(h, "<p style=\"font-size:12px;color:#555\">{} earlier runs in results.json.</p>", r.track_record.len() - 12);
    }
}

pub fn render(r: &RunReport, unsubscribe: super::Unsubscribe<'_>) -> String {
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
    let _ = write!(h, "<p id=\"coverage\" style=\"margin:0 0 4px;font-size:13px;color:#555\">{}</p>", Esc(&data_line(r)));
    if let Some(l) = &r.llm_scoring {
        let _ = write!(h, "<p id=\"llm-scoring\" style=\"margin:0 0 4px;font-size:12px;color:#b00020\">{}</p>", Esc(&l.note));
    }
    let _ = write!(h, "<p id=\"commentary-source\" style=\"margin:0 0 12px;font-size:12px;color:#777\">{}</p>", Esc(&commentary_line(r)));

    let _ = write!(
        h,
        "<table id=\"picks\" cellpadding=\"6\" cellspacing=\"0\" style=\"width:100%;border-collapse:collapse;font-size:13px\">\
         <tr style=\"background:#f0f2f5;text-align:left\"><th>#</th><th>Company</th><th>Sector</th><th>Score</th><th>Grades</th><th>Why</th></tr>"
    );
    for p in &r.picks {
        let mut reasons = String::new();
        if let Some(c) = &p.commentary {
            let _ = write!(reasons, "<p class=\"commentary\" style=\"margin:0 0 4px;font-style:italic\">{}</p>", Esc(c));
        }
        let items: String = p.reasons.iter().map(|s| format!("<li>{}</li>", Esc(s))).collect();
        let _ = write!(reasons, "<ul style=\"margin:0;padding-left:16px\">{items}</ul>");
        let _ = write!(
            h,
            "<tr class=\"pick\" style=\"border-top:1px solid #e2e4e8;vertical-align:top\">\
             <td>{}{}</td>\
             <td><b>{}</b><br><span style=\"color:#555\">{}</span><br><span style=\"color:#777;font-size:11px\">EY {} &middot; ROE {} &middot; Rev {}</span></td>\
             <td>{}</td>\
             <td><b>{:.1}</b>{}<span style=\"color:#777;font-size:11px\">coverage {:.0}%</span></td>\
             <td>{}</td>\
             <td>{}</td></tr>",
            p.rank,
            movement(r, p),
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
    changes_section(&mut h, r);
    sector_section(&mut h, r);
    track_section(&mut h, r);

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
         <p style=\"font-size:12px\">{}</p>\
         </td></tr></table></body></html>",
        Esc(&r.run_id),
        r.stats.api_calls,
        r.stats.throttled,
        r.stats.retries,
        r.stats.elapsed_ms as f64 / 1000.0,
        Esc(NOT_ADVICE),
        match unsubscribe {
            super::Unsubscribe::Link(url) => format!("<a href=\"{}\" style=\"color:#3c78d8\">Unsubscribe</a>", Esc(url)),
            super::Unsubscribe::ByMailService => Esc(super::UNSUBSCRIBE_BY_SERVICE).to_string(),
        }
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
