//! The et command: keys, envelopes, notifications, the local sandbox and the demo.
