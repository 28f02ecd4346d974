//! The dependency graph as SVG (`GET /api/graph.svg`): one box per state, coloured by its
//! status and labelled with its start duration, uptime and restart count, laid out and drawn
//! by `layout-rs`.
//!
//! Reads the rows of `view` and the runtime's `graph()`. Imports the page's `view` and `Shared` and
//! the runtime (through the crate root); nothing imports it back (`console` and `server` must not
//! import `admin`).

use super::view::{self, colours, Row};
use super::Shared;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::{get_size_for_str, Point};
use layout::core::style::StyleAttr;
use layout::std_shapes::shapes::{Arrow, Element, ShapeKind};
use layout::topo::layout::VisualGraph;
use std::collections::HashMap;
use std::sync::Arc;

/// A node's label: the name, then what it is doing and how it started.
fn label(row: &Row) -> String {
    let mut lines = vec![row.name.clone(), row.status.replace('_', " ")];
    let mut timing = Vec::new();
    if let Some(took) = row.start_ms {
        timing.push(format!("start {took:.1} ms"));
    }
    if let Some(up) = row.uptime_s {
        timing.push(format!("up {}", uptime(up)));
    }
    if !timing.is_empty() {
        lines.push(timing.join(", "));
    }
    lines.push(match row.restarts {
        1 => "1 restart".to_owned(),
        n => format!("{n} restarts"),
    });
    lines.join("\n")
}

/// An uptime as people read it: `42 s`, `3 min`, `2.5 h`.
fn uptime(seconds: f64) -> String {
    match seconds {
        s if s < 60.0 => format!("{s:.0} s"),
        s if s < 3600.0 => format!("{:.0} min", s / 60.0),
        s => format!("{:.1} h", s / 3600.0),
    }
}

fn attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The picture of `rows` with the recorded dependency edges (`a -> b`: a's start read b).
pub(super) fn svg(rows: &[Row]) -> String {
    if rows.is_empty() {
        return r#"<svg xmlns="http://www.w3.org/2000/svg" width="240" height="40"><text x="8" y="24">no states</text></svg>"#.to_owned();
    }
    let graph = crate::graph();
    let rows = rows.to_vec();
    // layout-rs is not ours: a panic in it becomes a picture that says so, not a dropped
    // connection.
    std::panic::catch_unwind(move || draw(&rows, &graph)).unwrap_or_else(|_| {
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="320" height="40"><text x="8" y="24">the graph could not be laid out</text></svg>"#.to_owned()
    })
}

fn draw(rows: &[Row], graph: &crate::Graph) -> String {
    let mut picture = VisualGraph::new(Orientation::LeftToRight);
    let mut handles = HashMap::new();
    for row in rows {
        let text = label(row);
        let (fill, line) = colours(&row.status);
        let look = StyleAttr::new(
            Color::new(line << 8 | 0xff),
            2,
            Some(Color::new(fill << 8 | 0xff)),
            6,
            13,
        );
        let size = get_size_for_str(&text, 13).add(Point::new(14.0, 10.0));
        let properties = format!(
            r#"class="node status-{}" data-state="{}""#,
            attribute(&row.status),
            attribute(&row.name)
        );
        let element = Element::create_with_properties(
            ShapeKind::new_box(&text),
            look,
            Orientation::LeftToRight,
            size,
            properties,
        );
        handles.insert(row.name.clone(), picture.add_node(element));
    }
    for (from, to) in &graph.edges {
        let (from, to) = (graph.nodes[*from].name(), graph.nodes[*to].name());
        if let (Some(&from), Some(&to)) = (handles.get(from), handles.get(to)) {
            picture.add_edge(Arrow::simple(""), from, to);
        }
    }
    let mut writer = SVGWriter::new();
    picture.do_it(false, false, false, &mut writer);
    let svg = writer.finalize();
    // The XML declaration has no place inside an HTML page.
    let svg = svg.find("<svg").map_or(svg.as_str(), |at| &svg[at..]);
    fit(svg, &picture)
}

/// The picture's own size: layout-rs grows its window by a text's length as if it were a
/// height, so multi-line labels leave a tall empty band; the nodes' boxes say where the
/// drawing ends.
fn fit(svg: &str, picture: &VisualGraph) -> String {
    let (mut width, mut height) = (0.0f64, 0.0f64);
    for node in picture.iter_nodes() {
        let (_, bottom_right) = picture.pos(node).bbox(true);
        width = width.max(bottom_right.x);
        height = height.max(bottom_right.y);
    }
    let Some(end) = svg.find('>') else {
        return svg.to_owned();
    };
    let (width, height) = (width.ceil() + 10.0, height.ceil() + 10.0);
    format!(
        r#"<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{}"#,
        &svg[end + 1..]
    )
}

/// `GET /api/graph.svg`.
pub(super) async fn graph_svg(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let (_, rows) = view::rows(&shared);
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg(&rows),
    )
}
