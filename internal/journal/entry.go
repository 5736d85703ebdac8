package journal

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

// Kind names what an entry records.
type Kind string

// Entry kinds.
const (
	// KindObservation records one observation reported by a source.
	KindObservation Kind = "observation"
	// KindToken records the creation of an API token (its hash only).
	KindToken Kind = "token"
	// KindLevel records a sector's alert level changing.
	KindLevel Kind = "sector_level"
	// KindTrigger records the renewed-aggression trigger firing or
	// clearing.
	KindTrigger Kind = "trigger"
	// KindWindow records a window of silence: requested, acknowledged by
	// some parties, or by all of them (a later entry of the same id
	// replaces an earlier one).
	KindWindow Kind = "silence_window"
	// KindActivity records a coalition activity as a decision or a change
	// of state left it (the whole activity, with its version).
	KindActivity Kind = "activity"
	// KindTracks records a batch of coalition unit positions.
	KindTracks Kind = "tracks"
	// KindTrackAlert records an alert the positions raised.
	KindTrackAlert Kind = "track_alert"
	// KindPledge records a nation's pledge as a change left it.
	KindPledge Kind = "pledge"
	// KindRequirement records a capability requirement.
	KindRequirement Kind = "requirement"
	// KindActivation records a contingent pledge activated by its
	// trigger, or its activation acknowledged.
	KindActivation Kind = "activation"
	// KindSupport records a support record (long-term cooperation).
	KindSupport Kind = "support"
)

// Entry is one event of the journal. Seq numbers are contiguous from 1.
// Exactly the field named by Kind is set.
type Entry struct {
	Seq  uint64
	Time time.Time   // when the journal recorded it, UTC, microseconds
	Kind Kind        //
	Org  truce.OrgID // the organisation that recorded it

	Observation *truce.Observation
	Token       *truce.Token
	Level       *truce.LevelChange
	Trigger     *truce.Trigger
	Window      *truce.SilenceWindow
	Activity    *truce.Activity
	Tracks      []truce.Position
	Alert       *truce.TrackAlert
	Pledge      *truce.Pledge
	Requirement *truce.Requirement
	Activation  *truce.Activation
	Support     *truce.Support
}

// missingBody names the body e's kind needs and lacks, or "".
func (e *Entry) missingBody() string {
	switch {
	case e.Kind == KindPledge && e.Pledge == nil:
		return "pledge"
	case e.Kind == KindRequirement && e.Requirement == nil:
		return "requirement"
	case e.Kind == KindActivation && e.Activation == nil:
		return "activation"
	case e.Kind == KindSupport && e.Support == nil:
		return "support"
	}
	return ""
}

// Marking returns who may see e: an observation's own marking; a token's
// creation is TLP:RED, seen only by the organisation that created it;
// alert levels and the trigger are TLP:GREEN, for every organisation of
// the mechanism.
func (e *Entry) Marking() truce.Marking {
	switch {
	case e.Kind == KindObservation && e.Observation != nil:
		return e.Observation.Marking
	case e.Kind == KindLevel || e.Kind == KindTrigger || e.Kind == KindWindow:
		return truce.Marking{TLP: truce.TLPGreen}
	case e.Kind == KindPledge && e.Pledge != nil:
		return e.Pledge.Marking
	case e.Kind == KindRequirement && e.Requirement != nil:
		return e.Requirement.Marking
	case e.Kind == KindSupport && e.Support != nil:
		return e.Support.Marking
	case e.Kind == KindActivity || e.Kind == KindTracks || e.Kind == KindTrackAlert || e.Kind == KindActivation:
		// The coalition's own movements: its bodies and nations, not the
		// parties or the public.
		return truce.Marking{TLP: truce.TLPAmber}
	}
	return truce.Marking{TLP: truce.TLPRed}
}

// Key is an entry's idempotency key: entries with equal keys record the
// same thing, and the journal keeps only the first.
type Key [16]byte

// Key returns e's idempotency key, if it has one: for an observation, a
// hash of the recording organisation, its source and source id (so one
// organisation can neither see nor suppress another's reports by reusing
// their ids); for a token, the first 16 bytes of its
// hash (the same token is never recorded twice).
func (e *Entry) Key() (Key, bool) {
	switch {
	case e.Kind == KindObservation && e.Observation != nil:
		return ObservationKey(e.Org, e.Observation.Source, e.Observation.SourceID), true
	case e.Kind == KindToken && e.Token != nil:
		return Key(e.Token.Hash[:16]), true
	case e.Kind == KindLevel && e.Level != nil:
		// Derived entries are derived again after a restart: the key makes
		// the second derivation a duplicate.
		l := e.Level
		return derivedKey("sector_level", l.Sector, l.At.UTC().Format(time.RFC3339Nano), string(l.To)), true
	case e.Kind == KindWindow && e.Window != nil:
		// The whole window: a corrected period, place or state, or one
		// more party's acknowledgement, is a new entry; the same one sent
		// twice is not.
		w := e.Window
		parts := []string{"silence_window", w.ID, windowState(w), w.Name, fmt.Sprint(w.Center.Lat, w.Center.Lon, w.Radius),
			w.Period.From.UTC().Format(time.RFC3339Nano), w.Period.Until.UTC().Format(time.RFC3339Nano)}
		// Fields windows gained later join the key only when set, so that
		// the keys of older entries stay as they were.
		if w.Purpose != "" || w.RequestedBy != "" || !w.Requested.IsZero() || len(w.Acks) > 0 {
			parts = append(parts, w.Purpose, string(w.RequestedBy), w.Requested.UTC().Format(time.RFC3339Nano))
			for _, p := range w.Acks {
				parts = append(parts, string(p))
			}
		}
		return derivedKey(parts...), true
	case e.Kind == KindActivity && e.Activity != nil:
		return activityKey(e.Activity), true
	case e.Kind == KindPledge && e.Pledge != nil:
		return pledgeKey(e.Pledge), true
	case e.Kind == KindRequirement && e.Requirement != nil:
		return requirementKey(e.Requirement), true
	case e.Kind == KindActivation && e.Activation != nil:
		return activationKey(e.Activation), true
	case e.Kind == KindSupport && e.Support != nil:
		return supportKey(e.Support), true
	case e.Kind == KindTrackAlert && e.Alert != nil:
		return alertKey(e.Alert), true
	case e.Kind == KindTrigger && e.Trigger != nil:
		state := "cleared"
		if e.Trigger.Fired {
			state = "fired"
		}
		return derivedKey("trigger", e.Trigger.At.UTC().Format(time.RFC3339Nano), state), true
	}
	return Key{}, false
}

func windowState(w *truce.SilenceWindow) string {
	if w.Acknowledged {
		return "acknowledged"
	}
	return "requested"
}

func derivedKey(parts ...string) Key {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var k Key
	copy(k[:], h.Sum(nil))
	return k
}

// ObservationKey returns the idempotency key of the observation that org
// recorded from source as sourceID: the first 16 bytes of SHA-256 over the
// three strings, each prefixed by its length (4 bytes, big-endian).
func ObservationKey(org truce.OrgID, source, sourceID string) Key {
	h := sha256.New()
	var n [4]byte
	for _, s := range []string{string(org), source, sourceID} {
		n[0], n[1], n[2], n[3] = byte(len(s)>>24), byte(len(s)>>16), byte(len(s)>>8), byte(len(s))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	var k Key
	copy(k[:], h.Sum(nil))
	return k
}
