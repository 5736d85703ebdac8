// Package ingest owns the way observations come in: the ingest formats
// (JSON, NDJSON, CSV, GeoJSON; see docs/ingest.md), their streaming
// decoders, and the validation that turns a wire record (api.Observation)
// into a truce.Observation, naming the field and the reason of every
// rejection.
//
// Invariants:
//   - Every observation a Decoder or Validate returns is valid and canonical
//     (truce.Observation.Canonical): validating its wire form again
//     (api.FromObservation) gives the same observation.
//   - A Decoder streams: it holds one record at a time, at most
//     Options.MaxRecordBytes of it, whatever the size of its input.
//   - One bad record rejects that record only; the records around it are
//     still decoded. Only input that is not of its format at all (ErrFormat)
//     or a failing reader stops a Decoder early.
//   - Records are numbered from 0 in input order, rejected or not, so that a
//     report of rejections lines up with what the sender sent.
//   - The package never reads the clock: the present comes in Options.Now.
//
// A Decoder is not safe for concurrent use; Validate is.
package ingest
