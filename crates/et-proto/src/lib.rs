//! Sans-I/O EasyTransfer protocol: request builders, response openers, notification verifiers, both directions.
