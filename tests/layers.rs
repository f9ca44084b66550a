//! Imports point down: a std-only scan of the crate's `crate::` and `super::` paths.
//!
//! The crate is a pipeline of layers (see `src/lib.rs`). A file may name items of its own
//! top-level module and of modules *below* it in [`LAYERS`]; a path to a module above it is an
//! upward import and fails this test with the offending line. Separately, no two files may
//! import each other, directly or through others (a cycle between files, even inside one
//! folder). A parent module naming its children by relative path (`mod x; x::f()`) is how Rust
//! declares them and is not counted; test modules (`#[cfg(test)]` to the end of the file) are
//! not scanned, since tests may reach anywhere.
//!
//! [`ALLOWED`] held the violations that existed when the test was written; the architecture
//! work emptied it, and it stays empty. Should an exception ever be needed, an allowed edge
//! that no longer occurs fails the test too, so the list can only shrink.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level modules from the bottom of the pipeline to the top.
const LAYERS: &[&str] = &[
    "error",
    "engine",
    "stats",
    "input_files",
    "scenario",
    "metrics",
    "fleet",
    "backend",
    "fault",
    "lifecycle",
    "policy",
    "replication",
    "memory",
    "analysis",
    "report",
    "out",
    "commands",
    "cli",
    "main",
];

/// Upward imports (`from -> to`, top-level modules) and file cycles (members joined by ` `)
/// tolerated for now: none.
const ALLOWED: &[&str] = &[];

type Module = Vec<String>;

fn module_of(rel: &str) -> Module {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn source_files(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            source_files(&p, root, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

/// The code of a file without comments and without its test module.
fn code_lines(src: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    for (i, line) in src.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let code = match line.find("//") {
            Some(k) => &line[..k],
            None => line,
        };
        lines.push((i + 1, code.to_string()));
    }
    lines
}

/// Every path that starts with `crate::` or `super::` in `code`, as segments (braced groups
/// of a `use` expanded one level).
fn paths_in(code: &str) -> Vec<(bool, Vec<String>)> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(k) = code[from..].find(start) {
            let at = from + k;
            from = at + start.len();
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                continue;
            }
            let rest = &code[at + start.len()..];
            let mut segs: Vec<String> = Vec::new();
            let mut tail = rest;
            loop {
                let n = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(tail.len());
                if n == 0 {
                    break;
                }
                segs.push(tail[..n].to_string());
                tail = &tail[n..];
                if let Some(t) = tail.strip_prefix("::") {
                    tail = t;
                } else {
                    break;
                }
            }
            let is_super = start == "super::";
            if let Some(group) = tail.strip_prefix('{') {
                let group = group.split('}').next().unwrap_or("");
                for item in group.split(',') {
                    let head = item.trim().split("::").next().unwrap_or("").trim();
                    if !head.is_empty() && head != "self" {
                        let mut s = segs.clone();
                        s.push(head.to_string());
                        found.push((is_super, s));
                    }
                }
            }
            found.push((is_super, segs));
        }
    }
    found
}

/// The longest known module a path names (`None`: the crate root or an unknown name).
fn resolve(modules: &BTreeSet<Module>, path: &[String]) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|k| path[..k].to_vec())
        .find(|m| modules.contains(m))
}

struct Graph {
    /// File-level edges with the first line that makes each.
    edges: BTreeMap<Module, BTreeMap<Module, String>>,
}

fn graph() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&root, &root, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|(rel, _)| module_of(rel)).collect();
    let mut edges: BTreeMap<Module, BTreeMap<Module, String>> = BTreeMap::new();
    for (rel, src) in &files {
        let me = module_of(rel);
        for (line_no, code) in code_lines(src) {
            for (is_super, segs) in paths_in(&code) {
                let mut path: Vec<String> = Vec::new();
                let mut segs = segs.as_slice();
                if is_super {
                    // `super` of `a/b.rs` and of `a/b/mod.rs` is `a`.
                    path = me[..me.len().saturating_sub(1)].to_vec();
                    while segs.first().is_some_and(|s| s == "super") {
                        path.pop();
                        segs = &segs[1..];
                    }
                }
                path.extend(segs.iter().cloned());
                let Some(target) = resolve(&modules, &path) else {
                    continue;
                };
                if target != me && !target.is_empty() {
                    edges
                        .entry(me.clone())
                        .or_default()
                        .entry(target)
                        .or_insert_with(|| format!("src/{rel}:{line_no}: {}", code.trim()));
                }
            }
        }
    }
    Graph { edges }
}

fn rank(top: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| *l == top)
        .unwrap_or_else(|| panic!("module `{top}` is in no layer: add it to LAYERS (and lib.rs)"))
}

/// Strongly connected components with more than one file (Tarjan, iterative enough for a
/// crate of a few hundred files).
fn cycles(g: &Graph) -> Vec<Vec<Module>> {
    struct T<'g> {
        g: &'g Graph,
        index: BTreeMap<Module, usize>,
        low: BTreeMap<Module, usize>,
        stack: Vec<Module>,
        on: BTreeSet<Module>,
        out: Vec<Vec<Module>>,
    }
    fn visit(t: &mut T, v: &Module) {
        let n = t.index.len();
        t.index.insert(v.clone(), n);
        t.low.insert(v.clone(), n);
        t.stack.push(v.clone());
        t.on.insert(v.clone());
        let next: Vec<Module> =
            t.g.edges
                .get(v)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
        for w in next {
            if !t.index.contains_key(&w) {
                visit(t, &w);
                let lw = t.low[&w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(&w) {
                let iw = t.index[&w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on.remove(&w);
                let done = &w == v;
                comp.push(w);
                if done {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    let nodes: Vec<Module> = g.edges.keys().cloned().collect();
    for v in nodes {
        if !t.index.contains_key(&v) {
            visit(&mut t, &v);
        }
    }
    t.out
}

#[test]
fn imports_point_down_and_files_form_no_cycle() {
    let g = graph();
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    for (from, targets) in &g.edges {
        for (to, line) in targets {
            let (a, b) = (&from[0], &to[0]);
            if a != b && rank(b) > rank(a) {
                found
                    .entry(format!("{a} -> {b}"))
                    .or_insert_with(|| line.clone());
            }
        }
    }
    for comp in cycles(&g) {
        let names: Vec<String> = comp.iter().map(|m| m.join("::")).collect();
        let first = &comp[0];
        let line = comp
            .iter()
            .find_map(|m| g.edges.get(first).and_then(|e| e.get(m)))
            .cloned()
            .unwrap_or_default();
        found.insert(names.join(" "), format!("cycle; one of its edges: {line}"));
    }
    let allowed: BTreeSet<&str> = ALLOWED.iter().copied().collect();
    let new: Vec<String> = found
        .iter()
        .filter(|(k, _)| !allowed.contains(k.as_str()))
        .map(|(k, line)| format!("  {k}\n      {line}"))
        .collect();
    let gone: Vec<&&str> = ALLOWED
        .iter()
        .filter(|a| !found.contains_key(**a))
        .collect();
    assert!(
        new.is_empty(),
        "imports that point up the layers (lib.rs has the table) or close a cycle:\n{}",
        new.join("\n")
    );
    assert!(
        gone.is_empty(),
        "allowed violations that no longer occur; remove them from ALLOWED: {gone:?}"
    );
}

#[test]
fn the_scan_sees_paths_and_groups() {
    let p = paths_in("use crate::engine::{time::SimTime, rng}; let x = super::super::a::b;");
    assert!(p.contains(&(false, vec!["engine".into(), "time".into()])));
    assert!(p.contains(&(false, vec!["engine".into(), "rng".into()])));
    assert!(p.contains(&(true, vec!["super".into(), "a".into(), "b".into()])));
    assert_eq!(module_of("policy/mod.rs"), vec!["policy".to_string()]);
    assert_eq!(
        module_of("policy/gate.rs"),
        vec!["policy".to_string(), "gate".to_string()]
    );
}
