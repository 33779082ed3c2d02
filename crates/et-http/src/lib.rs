//! A thin hyper transport for EasyTransfer: the client and a webhook receiver.
