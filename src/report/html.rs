//! `report.html`: one self-contained page per results folder — inline CSS and inline SVG plots,
//! no script, no external font, image or style sheet — that a browser opens offline and that
//! prints sensibly. This module owns the page skeleton and its building blocks; the pages of a
//! run and of the experiments are in `html_run` and `html_experiment`.

/// The style sheet, kept as a file so it reads as CSS (included at build time).
const CSS: &str = include_str!("report.css");

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A table cell: text (escaped), a number (escaped, right-aligned), or trusted markup.
pub enum Cell {
    Text(String),
    Num(String),
    Html(String),
}

impl Cell {
    fn render(&self) -> String {
        match self {
            Cell::Text(t) => format!("<td>{}</td>", esc(t)),
            Cell::Num(t) => format!("<td class=\"num\">{}</td>", esc(t)),
            Cell::Html(h) => format!("<td>{h}</td>"),
        }
    }
}

pub fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

pub fn num(s: impl Into<String>) -> Cell {
    Cell::Num(s.into())
}

/// `pass` / `fail` as a coloured word.
pub fn verdict(passed: bool) -> Cell {
    Cell::Html(if passed {
        "<span class=\"pass\">pass</span>".into()
    } else {
        "<span class=\"fail\">fail</span>".into()
    })
}

/// A page being assembled: sections are appended in reading order.
pub struct Page {
    title: String,
    meta: String,
    nav: Vec<(String, String)>,
    body: String,
}

impl Page {
    /// `meta` is trusted markup shown under the title.
    pub fn new(title: &str, meta: String) -> Page {
        Page {
            title: title.to_string(),
            meta,
            nav: Vec::new(),
            body: String::new(),
        }
    }

    /// A section heading, listed in the page's navigation.
    pub fn section(&mut self, id: &str, heading: &str) {
        self.nav.push((id.to_string(), heading.to_string()));
        self.body
            .push_str(&format!("<h2 id=\"{}\">{}</h2>\n", esc(id), esc(heading)));
    }

    pub fn h3(&mut self, heading: &str) {
        self.body.push_str(&format!("<h3>{}</h3>\n", esc(heading)));
    }

    /// A paragraph of text (escaped).
    pub fn para(&mut self, text: &str) {
        self.body.push_str(&format!("<p>{}</p>\n", esc(text)));
    }

    /// A muted note (escaped).
    pub fn note(&mut self, text: &str) {
        self.body
            .push_str(&format!("<p class=\"note\">{}</p>\n", esc(text)));
    }

    /// Trusted markup.
    pub fn raw(&mut self, html: &str) {
        self.body.push_str(html);
    }

    /// Headline figures as cards: `(label, value, sub-line)`.
    pub fn cards(&mut self, cards: &[(String, String, String)]) {
        self.body.push_str("<div class=\"cards\">\n");
        for (label, value, sub) in cards {
            self.body.push_str(&format!(
                "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div>\
                 <div class=\"sub\">{}</div></div>\n",
                esc(label),
                esc(value),
                esc(sub)
            ));
        }
        self.body.push_str("</div>\n");
    }

    /// A table; `numeric` marks the columns whose headers align right. Rows whose flag is set
    /// are highlighted (a failed check, a regression).
    pub fn table(&mut self, headers: &[&str], numeric: &[usize], rows: Vec<(bool, Vec<Cell>)>) {
        self.body.push_str("<table>\n<thead><tr>");
        for (i, h) in headers.iter().enumerate() {
            let class = if numeric.contains(&i) {
                " class=\"num\""
            } else {
                ""
            };
            self.body.push_str(&format!("<th{class}>{}</th>", esc(h)));
        }
        self.body.push_str("</tr></thead>\n<tbody>\n");
        for (flagged, cells) in rows {
            self.body.push_str(if flagged {
                "<tr class=\"fail\">"
            } else {
                "<tr>"
            });
            for c in &cells {
                self.body.push_str(&c.render());
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody>\n</table>\n");
    }

    /// An inline SVG plot with its caption; the PNG twin is named for people who paste it.
    pub fn figure(&mut self, svg: &str, caption: &str, png: &str) {
        // Plotters writes a bare `<svg …>` element; an XML declaration, if any, is dropped so
        // the element sits inside HTML.
        let svg = svg
            .trim_start()
            .strip_prefix("<?xml")
            .and_then(|s| s.split_once("?>").map(|(_, rest)| rest))
            .unwrap_or(svg);
        self.body.push_str(&format!(
            "<figure>\n{}\n<figcaption>{} <span class=\"note\">(also <code>plots/{}</code>)</span>\
             </figcaption>\n</figure>\n",
            svg.trim(),
            esc(caption),
            esc(png)
        ));
    }

    pub fn finish(self) -> String {
        let nav: String = self
            .nav
            .iter()
            .map(|(id, h)| format!("<a href=\"#{}\">{}</a>", esc(id), esc(h)))
            .collect::<Vec<_>>()
            .join("");
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title} — fleetsim report</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
             <main>\n<header>\n<h1>{title}</h1>\n<div class=\"meta\">{meta}</div>\n\
             <nav>{nav}</nav>\n</header>\n{body}<footer>Written by fleetsim {version}. Every \
             number on this page comes from the data files in this folder; \
             <code>fleetsim report DIR</code> renders it again from them.</footer>\n</main>\n\
             </body>\n</html>\n",
            title = esc(&self.title),
            meta = self.meta,
            body = self.body,
            version = env!("CARGO_PKG_VERSION"),
        )
    }
}
