//! The one list of operations (`for_each_operation!`) names each typed
//! operation once, each with its own `server_type`: dispatch on ET's side
//! picks the first whose name matches, so a repeated one would hide another.

use std::collections::HashSet;

use et_model::Operation;

macro_rules! server_types {
    ($($(#[$doc:meta])* $method:ident: $op:ident => $output:ident,)*) => {
        vec![$((stringify!($method), <et_model::$op as Operation>::SERVER_TYPE)),*]
    };
}

#[test]
fn every_operation_of_the_list_has_its_own_method_and_server_type() {
    let all = et_model::for_each_operation!(server_types);
    let methods: HashSet<_> = all.iter().map(|(method, _)| *method).collect();
    let wire: HashSet<_> = all
        .iter()
        .map(|(_, server_type)| server_type.as_str())
        .collect();
    assert_eq!(methods.len(), all.len());
    assert_eq!(wire.len(), all.len(), "{all:?}");
}
