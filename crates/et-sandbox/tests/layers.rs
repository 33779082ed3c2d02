//! The sandbox's inside runs one way (crate docs, "Inside: the data path"):
//! each module of the notification path uses only those before it, so
//! app.rs and the notification code can never import each other again.

/// In dependency order: a module may use only the ones before it.
const LAYERS: &[(&str, &str)] = &[
    ("machine", include_str!("../src/machine.rs")),
    ("money", include_str!("../src/money.rs")),
    ("outbox", include_str!("../src/outbox.rs")),
    ("app", include_str!("../src/app.rs")),
    ("engine", include_str!("../src/engine.rs")),
    ("refund_reply", include_str!("../src/refund_reply.rs")),
    ("delivery", include_str!("../src/delivery.rs")),
    ("ticker", include_str!("../src/ticker.rs")),
];

/// The modules `source` uses (`crate::name`), comments left out.
fn uses(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .flat_map(|line| line.split("crate::").skip(1))
        .filter_map(|rest| {
            rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                .next()
        })
        .collect()
}

#[test]
fn the_notification_path_depends_one_way() {
    for (i, (name, source)) in LAYERS.iter().enumerate() {
        let later: Vec<&str> = LAYERS[i + 1..].iter().map(|(n, _)| *n).collect();
        let wrong: Vec<&str> = uses(source)
            .into_iter()
            .filter(|used| later.contains(used))
            .collect();
        assert!(
            wrong.is_empty(),
            "{name} uses {wrong:?}, which come after it"
        );
    }
}

#[test]
fn the_check_sees_a_use() {
    assert_eq!(
        uses("use crate::app::{self, App};\n// crate::ticker"),
        ["app"]
    );
    assert_eq!(uses("x: crate::delivery::HttpClient"), ["delivery"]);
}
