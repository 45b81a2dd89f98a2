//! HTML building: escaping, the page frame (navigation, stylesheet, script), tables and the
//! figures a browser test checks against the JSON API.
//!
//! Every value that reaches a page goes through [`esc`]; the frame carries no inline script or
//! style, so the Content-Security-Policy ([`crate::assets::SECURITY_HEADERS`]) can forbid both.

use std::fmt::Write;

/// Escapes text for an HTML element body or a double-quoted attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A site: its name and navigation (path, label).
pub struct Site {
    /// Shown in the header and the title.
    pub name: &'static str,
    /// Navigation links.
    pub nav: &'static [(&'static str, &'static str)],
}

/// One page: the site frame around `body`. `api` names the JSON resource whose figures the page
/// shows (the `data-key` pointers of [`figure`] resolve in it); `refresh_secs` > 0 makes the
/// page re-fetch itself and swap its `<main>` in place (no reload, no flicker).
pub struct Page<'a> {
    /// Title (escaped here).
    pub title: &'a str,
    /// The path of this page, to mark its navigation link.
    pub path: &'a str,
    /// The JSON resource with this page's figures.
    pub api: &'a str,
    /// Seconds between refreshes (0: never).
    pub refresh_secs: u32,
    /// A line under the title (escaped here).
    pub subtitle: &'a str,
}

impl Page<'_> {
    /// The whole document.
    pub fn render(&self, site: &Site, body: &str) -> String {
        let mut nav = String::new();
        for (href, label) in site.nav {
            let current = if *href == self.path {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(nav, "<a href=\"{href}\"{current}>{}</a>", esc(label));
        }
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · {site}</title>\
             <link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\">\
             <link rel=\"stylesheet\" href=\"/assets/strata.css\">\
             <script src=\"/assets/strata.js\" defer></script></head>\
             <body><header><span class=\"brand\">{site}</span><nav>{nav}</nav><span class=\"live\" id=\"live\"></span></header>\
             <main id=\"main\" data-api=\"{api}\" data-refresh=\"{refresh}\">\
             <h1>{title}</h1><p class=\"sub\">{sub}</p>{body}</main>\
             <footer>Served by this process; no remote resources. Figures: <a href=\"{api}\">{api}</a></footer>\
             </body></html>\n",
            title = esc(self.title),
            site = esc(site.name),
            api = esc(self.api),
            refresh = self.refresh_secs,
            sub = esc(self.subtitle),
        )
    }
}

/// A figure: `shown` (escaped) in a card labelled `label`, carrying the raw `value` of the JSON
/// pointer `key` in the page's API resource, so a test can check page and API agree.
pub fn figure(label: &str, key: &str, value: &str, shown: &str) -> String {
    format!(
        "<div class=\"card\"><div class=\"label\">{}</div>\
         <div class=\"value\" data-key=\"{}\" data-value=\"{}\">{}</div></div>",
        esc(label),
        esc(key),
        esc(value),
        esc(shown)
    )
}

/// The text of the value at JSON pointer `key` in `v` as `data-value` carries it: strings
/// unquoted, everything else as JSON; empty if absent.
pub fn raw_at(v: &serde_json::Value, key: &str) -> String {
    match v.pointer(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(x) => x.to_string(),
        None => String::new(),
    }
}

/// A [`figure`] whose raw value is read from the page's API value `v` at `key`.
pub fn figure_at(v: &serde_json::Value, label: &str, key: &str, shown: &str) -> String {
    figure(label, key, &raw_at(v, key), shown)
}

/// [`keyed`] text whose raw value is read from the page's API value `v` at `key`.
pub fn keyed_at(v: &serde_json::Value, key: &str, shown: &str) -> String {
    keyed(key, &raw_at(v, key), shown)
}

/// Inline text carrying the JSON pointer `key` and its raw `value` (see [`figure`]).
pub fn keyed(key: &str, value: &str, shown: &str) -> String {
    format!(
        "<span data-key=\"{}\" data-value=\"{}\">{}</span>",
        esc(key),
        esc(value),
        esc(shown)
    )
}

/// A row of figure cards.
pub fn cards(items: &[String]) -> String {
    format!("<div class=\"cards\">{}</div>", items.concat())
}

/// A section with a heading.
pub fn section(title: &str, body: &str) -> String {
    format!("<section><h2>{}</h2>{body}</section>", esc(title))
}

/// A table; `head` is escaped, `rows` are cells of trusted HTML (build them with [`esc`],
/// [`keyed`] or [`link`]).
pub fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        let _ = write!(
            out,
            "<tr><td class=\"empty\" colspan=\"{}\">nothing yet</td></tr>",
            head.len().max(1)
        );
    }
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{c}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// A link (href and text escaped).
pub fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", esc(href), esc(text))
}

/// A status badge: `class` picks the colour (`ok`, `warn`, `bad`, `idle`).
pub fn badge(class: &str, text: &str) -> String {
    format!("<span class=\"badge {}\">{}</span>", esc(class), esc(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_open_markup() {
        assert_eq!(
            esc("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        let t = table(&["a"], &[vec![esc("<b>")]]);
        assert!(t.contains("&lt;b&gt;") && !t.contains("<b>"));
        let f = figure("x\"", "/a\"", "1\"", "<i>");
        assert!(!f.contains("x\"<") && f.contains("&lt;i&gt;") && f.contains("/a&quot;"));
    }

    #[test]
    fn the_frame_marks_the_current_page_and_names_its_api() {
        let site = Site {
            name: "S",
            nav: &[("/", "Home"), ("/b", "B")],
        };
        let p = Page {
            title: "T",
            path: "/b",
            api: "/api/b",
            refresh_secs: 5,
            subtitle: "",
        }
        .render(&site, "<p>x</p>");
        assert!(p.contains("<a href=\"/b\" aria-current=\"page\">B</a>"));
        assert!(p.contains("<a href=\"/\">Home</a>"));
        assert!(p.contains("data-api=\"/api/b\" data-refresh=\"5\""));
        assert!(!p.contains("style=") && !p.contains("<script>"));
    }
}
