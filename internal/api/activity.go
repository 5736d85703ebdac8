package api

import (
	"fmt"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// Circle is a circular footprint.
type Circle struct {
	Center  LatLon   `json:"center"`
	RadiusM *float64 `json:"radius_m"`
}

// Corridor is a path and the half-width either side of it.
type Corridor struct {
	Path       []LatLon `json:"path"`
	HalfWidthM *float64 `json:"half_width_m"`
}

// Volume is one 4D volume of an activity: exactly one of Polygon, Circle
// and Corridor; an altitude band in metres above mean sea level; a time
// window (RFC 3339).
type Volume struct {
	Polygon  []LatLon  `json:"polygon,omitempty"`
	Circle   *Circle   `json:"circle,omitempty"`
	Corridor *Corridor `json:"corridor,omitempty"`
	MinAltM  *float64  `json:"min_alt_m"`
	MaxAltM  *float64  `json:"max_alt_m"`
	From     string    `json:"from"`
	Until    string    `json:"until"`
}

// ActivityRequest is the body of POST /api/v1/activities and of PUT
// /api/v1/activities/{id}. Version is required by PUT: the version the
// change was made against.
type ActivityRequest struct {
	ID       string   `json:"id,omitempty"`
	Nation   string   `json:"nation"`
	Unit     string   `json:"unit"`
	Domain   string   `json:"domain"`
	Kind     string   `json:"kind"`
	Priority *int     `json:"priority"`
	Note     string   `json:"note,omitempty"`
	Volumes  []Volume `json:"volumes"`
	Version  *int     `json:"version,omitempty"`
}

// Conflict is one conflict of a plan.
type Conflict struct {
	Kind       string  `json:"kind"`
	Volume     int     `json:"volume"`
	With       string  `json:"with"`
	WithVolume *int    `json:"with_volume,omitempty"`
	Blocking   bool    `json:"blocking"`
	Rule       string  `json:"rule"`
	Where      LatLon  `json:"where"`
	DistanceM  float64 `json:"distance_m"`
	From       string  `json:"from"`
	Until      string  `json:"until"`
	MinAltM    float64 `json:"min_alt_m"`
	MaxAltM    float64 `json:"max_alt_m"`
}

// Activity is the wire form of a coalition activity.
type Activity struct {
	ID        string     `json:"id"`
	Nation    string     `json:"nation"`
	Unit      string     `json:"unit"`
	Domain    string     `json:"domain"`
	Kind      string     `json:"kind"`
	Priority  int        `json:"priority"`
	State     string     `json:"state"`
	Version   int        `json:"version"`
	Note      string     `json:"note,omitempty"`
	Volumes   []Volume   `json:"volumes"`
	Conflicts []Conflict `json:"conflicts"`
}

func latLon(p geo.Point) LatLon { return LatLon{Lat: f64(deg(p.Lat)), Lon: f64(deg(p.Lon))} }

func latLons(ps []geo.Point) []LatLon {
	out := make([]LatLon, len(ps))
	for i, p := range ps {
		out[i] = latLon(p)
	}
	return out
}

func metres(x float64) *float64 { return f64(truce.Round(x, truce.MetreUnit)) }

// FromActivity returns the wire form of a.
func FromActivity(a *truce.Activity) Activity {
	out := Activity{ID: a.ID, Nation: string(a.Nation), Unit: a.Unit, Domain: string(a.Domain), Kind: string(a.Kind), Priority: a.Priority,
		State: string(a.State), Version: a.Version, Note: a.Note, Volumes: make([]Volume, len(a.Volumes)), Conflicts: make([]Conflict, len(a.Conflicts))}
	for i, v := range a.Volumes {
		w := Volume{MinAltM: metres(v.MinAlt), MaxAltM: metres(v.MaxAlt), From: timeOf(v.Period.From), Until: timeOf(v.Period.Until)}
		f := &v.Footprint
		switch {
		case f.Circle != nil:
			w.Circle = &Circle{Center: latLon(f.Circle.Center), RadiusM: metres(f.Circle.Radius)}
		case f.Path != nil:
			w.Corridor = &Corridor{Path: latLons(f.Path), HalfWidthM: metres(f.HalfWidth)}
		default:
			w.Polygon = latLons(f.Polygon)
		}
		out.Volumes[i] = w
	}
	for i, c := range a.Conflicts {
		w := Conflict{Kind: string(c.Kind), Volume: c.Volume, With: c.With, Blocking: c.Blocking, Rule: c.Rule, Where: latLon(c.Where),
			DistanceM: truce.Round(c.Distance, truce.MetreUnit), From: timeOf(c.When.From), Until: timeOf(c.When.Until),
			MinAltM: truce.Round(c.MinAlt, truce.MetreUnit), MaxAltM: truce.Round(c.MaxAlt, truce.MetreUnit)}
		if c.Kind == truce.ConflictActivity {
			w.WithVolume = &c.WithVolume
		}
		out.Conflicts[i] = w
	}
	return out
}

// problems collects the wire-level problems of one request.
type problems struct {
	rec   string
	probs truce.Problems
}

func (p *problems) add(field, format string, args ...any) {
	p.probs = append(p.probs, &truce.ValidationError{Record: p.rec, Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (p *problems) point(field string, ll LatLon) geo.Point {
	if ll.Lat == nil || ll.Lon == nil {
		p.add(field, "needs lat and lon")
		return geo.Point{}
	}
	return geo.Pt(*ll.Lat, *ll.Lon)
}

func (p *problems) points(field string, lls []LatLon) []geo.Point {
	out := make([]geo.Point, len(lls))
	for i, ll := range lls {
		out[i] = p.point(fmt.Sprintf("%s[%d]", field, i), ll)
	}
	return out
}

func (p *problems) time(field, s string) time.Time {
	if s == "" {
		p.add(field, "is required")
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.add(field, "must be an RFC 3339 time such as 2026-12-01T06:00:00Z, not %q", s)
	}
	return t.UTC()
}

// ToActivity converts a request to an activity in state proposed, rounded
// to the held precision. It checks what the wire form alone can tell
// (presence, time syntax); deconflict.Validate checks the rest.
func (r *ActivityRequest) ToActivity() (truce.Activity, error) {
	p := problems{rec: "activity"}
	if r.ID != "" {
		p.rec = "activity " + r.ID
	}
	a := truce.Activity{ID: r.ID, Nation: truce.NationID(r.Nation), Unit: r.Unit, Domain: truce.Domain(r.Domain), Kind: truce.ActivityKind(r.Kind),
		Note: r.Note, State: truce.ActivityProposed}
	if r.Priority == nil {
		p.add("priority", "is required")
	} else {
		a.Priority = *r.Priority
	}
	for i, v := range r.Volumes {
		f := fmt.Sprintf("volumes[%d]", i)
		vol := truce.Volume{Period: truce.TimeRange{From: p.time(f+".from", v.From), Until: p.time(f+".until", v.Until)}}
		if v.MinAltM == nil || v.MaxAltM == nil {
			p.add(f, "needs min_alt_m and max_alt_m")
		} else {
			vol.MinAlt, vol.MaxAlt = *v.MinAltM, *v.MaxAltM
		}
		if v.Polygon != nil {
			vol.Footprint.Polygon = p.points(f+".polygon", v.Polygon)
		}
		if c := v.Circle; c != nil {
			if c.RadiusM == nil {
				p.add(f+".circle.radius_m", "is required")
			} else {
				vol.Footprint.Circle = &geo.Cap{Center: p.point(f+".circle.center", c.Center), Radius: *c.RadiusM}
			}
		}
		if c := v.Corridor; c != nil {
			if c.HalfWidthM == nil {
				p.add(f+".corridor.half_width_m", "is required")
			} else {
				vol.Footprint.Path, vol.Footprint.HalfWidth = p.points(f+".corridor.path", c.Path), *c.HalfWidthM
				if vol.Footprint.Path == nil {
					vol.Footprint.Path = []geo.Point{}
				}
			}
		}
		a.Volumes = append(a.Volumes, vol)
	}
	if err := p.probs.Err(); err != nil {
		return truce.Activity{}, err
	}
	return a.Canonical(), nil
}

// Position is one reported position of a coalition unit.
type Position struct {
	Unit   string   `json:"unit"`
	Nation string   `json:"nation"`
	Domain string   `json:"domain"`
	Time   string   `json:"time"`
	Lat    *float64 `json:"lat"`
	Lon    *float64 `json:"lon"`
	AltM   *float64 `json:"alt_m,omitempty"`
}

// TracksRequest is the body of POST /api/v1/tracks.
type TracksRequest struct {
	Positions []Position `json:"positions"`
}

// ToPositions converts a batch, rounded to the held precision; problems
// name the position by index. deconflict.ValidatePositions checks the
// rest.
func (r *TracksRequest) ToPositions() ([]truce.Position, error) {
	p := problems{}
	out := make([]truce.Position, len(r.Positions))
	for i, w := range r.Positions {
		p.rec = fmt.Sprintf("positions[%d]", i)
		pos := truce.Position{Unit: w.Unit, Nation: truce.NationID(w.Nation), Domain: truce.Domain(w.Domain), Time: p.time("time", w.Time)}
		switch {
		case w.Lat == nil:
			p.add("lat", "is required")
		case w.Lon == nil:
			p.add("lon", "is required")
		default:
			pos.Point = geo.Pt(*w.Lat, *w.Lon)
		}
		if w.AltM != nil {
			pos.Alt = *w.AltM
		}
		out[i] = pos.Canonical()
	}
	if err := p.probs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// FromPosition returns the wire form of p.
func FromPosition(p *truce.Position) Position {
	return Position{Unit: p.Unit, Nation: string(p.Nation), Domain: string(p.Domain), Time: timeOf(p.Time), Lat: f64(deg(p.Point.Lat)), Lon: f64(deg(p.Point.Lon)), AltM: metres(p.Alt)}
}

// TrackAlert is the wire form of an alert the tracks raised.
type TrackAlert struct {
	Kind      string  `json:"kind"`
	Unit      string  `json:"unit"`
	Nation    string  `json:"nation"`
	Time      string  `json:"time"`
	Position  LatLon  `json:"position"`
	Activity  string  `json:"activity,omitempty"`
	Zone      string  `json:"zone,omitempty"`
	Other     string  `json:"other,omitempty"`
	DistanceM float64 `json:"distance_m"`
}

// FromTrackAlert returns the wire form of a.
func FromTrackAlert(a *truce.TrackAlert) TrackAlert {
	return TrackAlert{Kind: string(a.Kind), Unit: a.Unit, Nation: string(a.Nation), Time: timeOf(a.Time), Position: latLon(a.Point),
		Activity: a.Activity, Zone: a.Zone, Other: a.Other, DistanceM: truce.Round(a.Distance, truce.MetreUnit)}
}
