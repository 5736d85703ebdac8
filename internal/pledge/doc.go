// Package pledge keeps what the coalition's nations have promised: pledges
// and their stages, the requirements they answer, the gaps between the two,
// the activations of contingent pledges when their trigger fires, and
// records of long-term support in the shape of the Kiel Institute's
// Ukraine Support Tracker.
//
// A Book holds them as a projection of the journal: each change is
// validated, committed by the caller (journaled) and only then applied;
// Apply replays journaled records to rebuild a Book. Gaps are computed from
// a Book for a chosen stage, optionally without a nation or with every
// caveat held. Decode reads the CSV files `truce pledge import` takes.
package pledge
