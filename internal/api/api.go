// Package api holds truce's wire types: the JSON forms of the HTTP API and
// of the ingest formats, and their conversions from the domain types of
// internal/truce. The dependency points from api to truce, never back.
//
// Conversion of observations into the domain (with validation that names
// each bad field) lives in internal/ingest; the other wire types convert
// both ways here, checking what the wire form alone can tell.
package api

import (
	"fmt"
	"slices"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

// Observation is the wire form of one observation as a source sends it
// (docs/ingest.md). Pointers distinguish an absent field from a zero one.
type Observation struct {
	Source           string    `json:"source"`
	SourceID         string    `json:"source_id"`
	Method           string    `json:"method"`
	Category         string    `json:"category"`
	Weapon           string    `json:"weapon,omitempty"`
	Count            *int      `json:"count,omitempty"`
	Time             string    `json:"time"`
	TimeUncertaintyS *float64  `json:"time_uncertainty_s,omitempty"`
	Lat              *float64  `json:"lat,omitempty"`
	Lon              *float64  `json:"lon,omitempty"`
	CEPM             *float64  `json:"cep_m,omitempty"`
	Observer         *LatLon   `json:"observer,omitempty"`
	BearingDeg       *float64  `json:"bearing_deg,omitempty"`
	DistanceM        []float64 `json:"distance_m,omitempty"` // [min, max]
	FireBearingDeg   *float64  `json:"fire_bearing_deg,omitempty"`
	Reliability      string    `json:"reliability,omitempty"`
	Credibility      *int      `json:"credibility,omitempty"`
	Party            string    `json:"party,omitempty"`
	Text             string    `json:"text,omitempty"`
	Marking          *Marking  `json:"marking,omitempty"`
}

// LatLon is a position in WGS84 decimal degrees.
type LatLon struct {
	Lat *float64 `json:"lat"`
	Lon *float64 `json:"lon"`
}

// Marking is the wire form of truce.Marking: a TLP 2.0 label (CLEAR, GREEN,
// AMBER, AMBER+STRICT, RED) and the organisations it is also released to.
type Marking struct {
	TLP   string   `json:"tlp"`
	RelTo []string `json:"rel_to,omitempty"`
}

// ObservationRecord is an observation as the API returns it: the wire
// fields a source sent, as held (rounded to the journal's units), and what
// the journal added.
type ObservationRecord struct {
	ID       uint64 `json:"id"`       // the journal sequence number of its entry
	Recorded string `json:"recorded"` // when the journal recorded it, RFC 3339
	Org      string `json:"org"`      // the organisation that recorded it
	Observation
}

func f64(x float64) *float64 { return &x }

// MaxRelTo bounds the organisations a marking is released to.
const MaxRelTo = 32

// ToMarking checks a marking given in field (such as "marking"): TLP:AMBER
// when no label is given, organisations sorted without repeats.
func (m *Marking) ToMarking(field string) (truce.Marking, error) {
	mk := truce.Marking{TLP: truce.TLPAmber}
	bad := func(sub, format string, args ...any) error {
		return &truce.ValidationError{Field: field + "." + sub, Reason: fmt.Sprintf(format, args...)}
	}
	if m.TLP != "" {
		tlp, err := truce.ParseTLP(m.TLP)
		if err != nil {
			return mk, bad("tlp", "%s", err)
		}
		mk.TLP = tlp
	}
	if len(m.RelTo) > MaxRelTo {
		return mk, bad("rel_to", "has %d organisations, at most %d allowed", len(m.RelTo), MaxRelTo)
	}
	for _, id := range m.RelTo {
		if !truce.ValidOrgID(id) {
			return mk, bad("rel_to", "%q is not an organisation id (1 to 64 letters, digits, '-', '_' or '.')", id)
		}
		mk.RelTo = append(mk.RelTo, truce.OrgID(id))
	}
	slices.Sort(mk.RelTo)
	mk.RelTo = slices.Compact(mk.RelTo)
	return mk, nil
}

// FromMarking returns the wire form of m.
func FromMarking(m truce.Marking) *Marking {
	w := &Marking{TLP: string(m.TLP)}
	for _, o := range m.RelTo {
		w.RelTo = append(w.RelTo, string(o))
	}
	return w
}

// FromObservation returns the wire form of o.
func FromObservation(o *truce.Observation) Observation {
	w := Observation{
		Source:           o.Source,
		SourceID:         o.SourceID,
		Method:           string(o.Method),
		Category:         string(o.Category),
		Weapon:           string(o.Weapon),
		Count:            &o.Count,
		Time:             o.Time.UTC().Format(time.RFC3339Nano),
		TimeUncertaintyS: f64(o.TimeUncertainty.Seconds()),
		Reliability:      o.Reliability.String(),
		Party:            string(o.Party),
		Text:             o.Text,
		Marking:          FromMarking(o.Marking),
	}
	c := int(o.Credibility)
	w.Credibility = &c
	if l := o.Location; l != nil {
		w.Lat, w.Lon, w.CEPM = f64(l.Point.Lat), f64(l.Point.Lon), f64(l.CEP)
	}
	if v := o.Observer; v != nil {
		w.Observer = &LatLon{Lat: f64(v.Point.Lat), Lon: f64(v.Point.Lon)}
		w.BearingDeg = f64(v.Bearing)
		w.DistanceM = []float64{v.DistanceMin, v.DistanceMax}
	}
	if o.HasFireBearing {
		w.FireBearingDeg = f64(o.FireBearing)
	}
	return w
}
