//! A local EasyTransfer simulator: ET's side of the protocol, state in SQLite.
