package api

import (
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

// Incident is the wire form of an incident: observations judged to be the
// same real-world event, what they say together, and the violations it
// was judged to be.
type Incident struct {
	ID           string  `json:"id"`
	Category     string  `json:"category"`
	Weapon       string  `json:"weapon,omitempty"`
	Count        int     `json:"count"`
	Lat          float64 `json:"lat"`
	Lon          float64 `json:"lon"`
	UncertaintyM float64 `json:"uncertainty_m"`
	Start        string  `json:"start"`
	End          string  `json:"end"`
	// Origin is where the fire came from, when the members say.
	Origin         *LatLon  `json:"origin,omitempty"`
	FireBearingDeg *float64 `json:"fire_bearing_deg,omitempty"`
	Confidence     float64  `json:"confidence"`
	Likelihood     string   `json:"likelihood"`
	Sources        int      `json:"sources"`
	Claimants      []string `json:"claimants"`
	// Party is the party the incident is attributed to, absent when
	// undetermined.
	Party        string           `json:"party,omitempty"`
	Status       string           `json:"status"`
	Observations []ObservationRef `json:"observations"`
	Violations   []Violation      `json:"violations"`
}

// ObservationRef names one member observation of an incident.
type ObservationRef struct {
	ID      uint64   `json:"id"`
	Org     string   `json:"org"`
	Source  string   `json:"source"`
	Method  string   `json:"method"`
	Marking *Marking `json:"marking"`
}

// Violation is the wire form of a violation: an incident judged against
// one rule of the agreement.
type Violation struct {
	ID       string `json:"id"`
	Incident string `json:"incident"`
	Rule     string `json:"rule"`
	Zone     string `json:"zone,omitempty"`
	Sector   string `json:"sector,omitempty"`
	// Party is the party held responsible, absent when undetermined.
	Party       string  `json:"party,omitempty"`
	Severity    string  `json:"severity"`
	Time        string  `json:"time"`
	Lat         float64 `json:"lat"`
	Lon         float64 `json:"lon"`
	Explanation string  `json:"explanation"`
}

// SectorLevel is the wire form of a sector's alert level with the windows
// behind it.
type SectorLevel struct {
	Sector string `json:"sector"`
	Name   string `json:"name,omitempty"`
	Level  string `json:"level"`
	// Since is when the sector reached its level, absent when it has been
	// at it from the start.
	Since   string        `json:"since,omitempty"`
	Windows []LevelWindow `json:"windows"`
}

// LevelWindow is one escalation window of a sector: its length, the
// sector's severity-weighted score in it, and the score at which each
// level begins.
type LevelWindow struct {
	DurationS float64 `json:"duration_s"`
	Score     float64 `json:"score"`
	Tense     float64 `json:"tense"`
	Serious   float64 `json:"serious"`
	Critical  float64 `json:"critical"`
}

// LevelChange is the wire form of a sector's alert level changing.
type LevelChange struct {
	Sector string `json:"sector"`
	From   string `json:"from"`
	To     string `json:"to"`
	At     string `json:"at"`
	// Scores are the sector's scores in the agreement's escalation
	// windows, in their order.
	Scores []float64 `json:"scores"`
}

// Trigger is the wire form of the renewed-aggression trigger firing or
// clearing.
type Trigger struct {
	Fired    bool     `json:"fired"`
	At       string   `json:"at"`
	Critical []string `json:"critical"`
}

func timeOf(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// FromIncident returns the wire form of inc with its violations vs.
func FromIncident(inc *truce.Incident, vs []truce.Violation) Incident {
	w := Incident{
		ID:           inc.ID,
		Category:     string(inc.Category),
		Weapon:       string(inc.Weapon),
		Count:        inc.Count,
		Lat:          deg(inc.Location.Lat),
		Lon:          deg(inc.Location.Lon),
		UncertaintyM: truce.Round(inc.Uncertainty, 0.1),
		Start:        timeOf(inc.Start),
		End:          timeOf(inc.End),
		Confidence:   truce.Round(inc.Confidence, 1e-4),
		Likelihood:   string(inc.Likelihood),
		Sources:      inc.Sources,
		Claimants:    make([]string, len(inc.Claimants)),
		Party:        string(inc.Party),
		Status:       string(inc.Status),
		Observations: make([]ObservationRef, len(inc.Observations)),
		Violations:   make([]Violation, len(vs)),
	}
	if o := inc.Origin; o != nil {
		w.Origin = &LatLon{Lat: f64(deg(o.Lat)), Lon: f64(deg(o.Lon))}
	}
	if inc.HasFireBearing {
		w.FireBearingDeg = f64(truce.Round(inc.FireBearing, truce.BearingUnit))
	}
	for i, c := range inc.Claimants {
		w.Claimants[i] = string(c)
	}
	for i, o := range inc.Observations {
		w.Observations[i] = ObservationRef{ID: o.ID, Org: string(o.Org), Source: o.Source, Method: string(o.Method), Marking: FromMarking(o.Marking)}
	}
	for i := range vs {
		w.Violations[i] = FromViolation(&vs[i])
	}
	return w
}

// deg rounds estimated coordinates to the held precision (1e-7 degree):
// the digits beyond say nothing and read as noise (37.84810999999997).
func deg(x float64) float64 { return truce.Round(x, truce.DegreeUnit) }

// FromViolation returns the wire form of v.
func FromViolation(v *truce.Violation) Violation {
	return Violation{
		ID:          v.ID,
		Incident:    v.Incident,
		Rule:        string(v.Rule),
		Zone:        v.Zone,
		Sector:      v.Sector,
		Party:       string(v.Party),
		Severity:    string(v.Severity),
		Time:        timeOf(v.Time),
		Lat:         deg(v.Location.Lat),
		Lon:         deg(v.Location.Lon),
		Explanation: v.Explanation,
	}
}

// FromSectorLevel returns the wire form of l, named name, with the windows
// of the agreement's escalation thresholds.
func FromSectorLevel(l *truce.SectorLevel, name string, windows []truce.EscalationWindow) SectorLevel {
	w := SectorLevel{Sector: l.Sector, Name: name, Level: string(l.Level), Windows: make([]LevelWindow, len(windows))}
	if !l.Since.IsZero() {
		w.Since = timeOf(l.Since)
	}
	for i, win := range windows {
		lw := LevelWindow{DurationS: win.Duration.Seconds(), Tense: win.Tense, Serious: win.Serious, Critical: win.Critical}
		if i < len(l.Scores) {
			lw.Score = truce.Round(l.Scores[i], 1e-3)
		}
		w.Windows[i] = lw
	}
	return w
}

// FromLevelChange returns the wire form of c.
func FromLevelChange(c *truce.LevelChange) LevelChange {
	w := LevelChange{Sector: c.Sector, From: string(c.From), To: string(c.To), At: timeOf(c.At), Scores: c.Scores}
	if w.Scores == nil {
		w.Scores = []float64{}
	}
	return w
}

// FromTrigger returns the wire form of t.
func FromTrigger(t *truce.Trigger) Trigger {
	return Trigger{Fired: t.Fired, At: timeOf(t.At), Critical: append([]string{}, t.Critical...)}
}
