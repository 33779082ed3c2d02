//! EasyTransfer (易思汇) Open API constants and payload types: no crypto, no I/O.
