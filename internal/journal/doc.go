// Package journal defines truce's one source of truth: the append-only
// sequence of entries (events) that every projection, derived result and
// evidence proof is computed from, and the canonical byte encoding of an
// entry.
//
// The encoding is RFC 8785 (JSON Canonicalization Scheme) restricted to
// strings, integers of magnitude below 2^53, objects and arrays: object keys
// in sorted order, no insignificant white space, strings escaped exactly as
// RFC 8785 says, every real quantity written as a whole number of a fixed
// unit (see truce.DegreeUnit). It depends on nothing that changes with map
// order, float formatting or the Go version, and any RFC 8785 implementation
// reproduces it from the parsed value. docs/journal.md is the reference.
//
// Decode accepts only canonical bytes: Append(nil, Decode(b)) == b for every
// b it accepts.
//
// Decoding uses github.com/goccy/go-json for speed (a rebuild decodes
// every entry); canonicity is checked by re-encoding, not by the parser.
//
// The package holds no storage; backends (internal/store) keep entries and
// Feed fans committed entries out to live subscribers.
package journal
