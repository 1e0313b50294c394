//! The crate's shape, checked from its sources (R-ENG-3, R-ENG-4): no module of `src/` imports a
//! module that imports it back, the core does not depend on a wire format, and the crate root holds
//! the few items a host that issues tokens needs.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The modules the adapters are: nothing of the core may use them.
const ADAPTERS: [&str; 2] = ["wire", "oauth"];

/// The core: the engine, what it decides with, and the drivers that run it.
const CORE: [&str; 11] = [
    "engine",
    "driver",
    "store",
    "config",
    "jwt",
    "client",
    "registry",
    "token",
    "keyring",
    "hook",
    "directory",
];

/// The crate root's re-exports, by name, and the module each comes from.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for item in lib.split("pub use ").skip(1) {
        let item = &item[..item.find(';').expect("a `pub use` ends with `;`")];
        let (module, list) = item.split_once("::").expect("`pub use module::...`");
        for name in list
            .split([',', '{', '}'])
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            names.insert(name.to_owned(), module.trim().to_owned());
        }
    }
    names
}

/// The lines of `text` the build compiles outside tests: up to a trailing `#[cfg(test)] mod ...`, and
/// without comments (an intra-doc link is no import).
fn code_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with("#[cfg(test)]") {
            let next = lines[i + 1..]
                .iter()
                .map(|l| l.trim())
                .find(|l| !l.is_empty());
            if next.is_some_and(|n| n.starts_with("mod ") || n.starts_with("pub mod ")) {
                break;
            }
        }
        if !t.starts_with("//") {
            out.push(*line);
        }
    }
    out
}

/// Which top-level module of `src/` each top-level module uses, from the `crate::` paths in its files.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let reexports = root_reexports(&lib);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_str()
                .unwrap();
            let module = first.trim_end_matches(".rs").to_owned();
            if module == "lib" || path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for line in code_lines(&text) {
                for (at, _) in line.match_indices("crate::") {
                    let rest = &line[at + "crate::".len()..];
                    let end = rest
                        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len());
                    let name = &rest[..end];
                    // A root re-export stands for its module; macro helpers (`__...`) are no module.
                    let used = reexports.get(name).map_or(name, String::as_str);
                    if !used.is_empty() && !used.starts_with("__") && used != module {
                        graph
                            .entry(module.clone())
                            .or_default()
                            .insert(used.to_owned());
                    }
                }
            }
        }
    }
    graph
}

/// A cycle of the graph, if it has one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|n| n == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn r_eng_3_no_module_imports_one_that_imports_it_back() {
    let graph = module_graph();
    assert!(
        graph.contains_key("engine") && graph.contains_key("wire"),
        "{graph:?}"
    );
    assert_eq!(find_cycle(&graph), None, "{graph:#?}");
}

#[test]
fn r_eng_3_the_core_does_not_depend_on_a_wire_format() {
    let graph = module_graph();
    for core in CORE {
        for adapter in ADAPTERS {
            assert!(
                !graph.get(core).is_some_and(|uses| uses.contains(adapter)),
                "{core} uses the {adapter} adapter: {graph:#?}"
            );
        }
    }
}

#[test]
fn r_eng_3_the_cycle_check_sees_a_cycle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(find_cycle(&graph).unwrap().len(), 4);
    let lines =
        code_lines("use crate::a;\n// crate::b\n#[cfg(test)]\nmod tests {\nuse crate::c;\n}");
    assert_eq!(lines, ["use crate::a;"]);
}

#[test]
fn r_eng_4_the_root_holds_about_fifteen_items_and_the_audiences_have_modules() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let root = root_reexports(&lib);
    assert!(
        (10..=20).contains(&root.len()),
        "{} root items: {root:?}",
        root.len()
    );
    for name in [
        "TokenIssuer",
        "AsyncTokenIssuer",
        "ClientRegistry",
        "AppClientConfig",
        "Error",
    ] {
        assert!(root.contains_key(name), "{name} at the root: {root:?}");
    }
    for module in [
        "store", "config", "jwt", "hook", "wire", "oauth", "testkit", "engine", "driver",
    ] {
        assert!(
            lib.contains(&format!("pub mod {module};")),
            "pub mod {module}"
        );
    }
}
