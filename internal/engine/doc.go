// Package engine keeps truce's judgements: it turns the journal's
// observations into incidents (internal/fuse), judges each incident against
// the agreement (internal/assess), and keeps every sector's alert level
// and the renewed-aggression trigger (assess.Escalator).
//
// The engine is a projection of the journal and the agreement: fed the
// same entries it reaches the same incidents, violations and levels,
// whatever the batches (a property test checks it). Apply is called by one
// goroutine with committed entries in sequence order; it returns what
// changed as Events for the live stream, and the level changes and trigger
// transitions as journal entries to append (they carry idempotency keys,
// so deriving them again after a restart journals nothing twice). Reads
// (Incident, Incidents, Violations, Sectors) are safe concurrently with
// Apply.
//
// Time is the journal's: escalation runs on event time, evaluated at the
// end of each recording time (commit) as of the newest observation time
// seen, so that a day sent in one go is judged as it unfolded; the fusion
// window slides with the newest observation time too. Nothing here reads
// the wall clock.
package engine
