"""The Lingua SDK: lingua.v1 is generated from protos/ by `make proto` (do not edit it); lingua.client,
lingua.formats and lingua.rpc are hand-written."""
