package journal

import (
	"fmt"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// The deconfliction kinds: an activity's decision or change of state
// (the whole activity as it then stands), a batch of unit positions, and
// an alert the positions raised.

func (w *writer) pointObj(p geo.Point) {
	w.open()
	w.point(p)
	w.close()
}

func (w *writer) points(ps []geo.Point) {
	w.b = append(w.b, '[')
	for i, p := range ps {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.pointObj(p)
	}
	w.b = append(w.b, ']')
}

func (w *writer) activity(a *truce.Activity) {
	w.open()
	if len(a.Conflicts) > 0 {
		w.key("conflicts")
		w.b = append(w.b, '[')
		for i := range a.Conflicts {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.conflict(&a.Conflicts[i])
		}
		w.b = append(w.b, ']')
	}
	w.key("domain")
	w.str(string(a.Domain))
	w.key("id")
	w.str(a.ID)
	w.key("kind")
	w.str(string(a.Kind))
	w.key("nation")
	w.str(string(a.Nation))
	if a.Note != "" {
		w.key("note")
		w.str(a.Note)
	}
	w.key("priority")
	w.int(int64(a.Priority))
	w.key("state")
	w.str(string(a.State))
	w.key("unit")
	w.str(a.Unit)
	w.key("version")
	w.int(int64(a.Version))
	w.key("volumes")
	w.b = append(w.b, '[')
	for i := range a.Volumes {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.volume(&a.Volumes[i])
	}
	w.b = append(w.b, ']')
	w.close()
}

func (w *writer) volume(v *truce.Volume) {
	f := &v.Footprint
	w.open()
	if c := f.Circle; c != nil {
		w.key("circle")
		w.open()
		w.point(c.Center)
		w.key("radius_mm")
		w.units(c.Radius, truce.MetreUnit)
		w.close()
	}
	if f.Path != nil {
		w.key("corridor")
		w.open()
		w.key("half_width_mm")
		w.units(f.HalfWidth, truce.MetreUnit)
		w.key("path")
		w.points(f.Path)
		w.close()
	}
	w.key("from_us")
	w.time(v.Period.From)
	w.key("max_alt_mm")
	w.units(v.MaxAlt, truce.MetreUnit)
	w.key("min_alt_mm")
	w.units(v.MinAlt, truce.MetreUnit)
	if f.Polygon != nil {
		w.key("polygon")
		w.points(f.Polygon)
	}
	w.key("until_us")
	w.time(v.Period.Until)
	w.close()
}

// conflict writes c. Whether it blocks is not written: it follows from
// the rule (truce.RuleBlocks), and the encoding has no booleans.
func (w *writer) conflict(c *truce.Conflict) {
	if c.Blocking != truce.RuleBlocks(c.Rule) {
		w.fail(fmt.Errorf("conflict of rule %q marked blocking %v", c.Rule, c.Blocking))
	}
	w.open()
	w.key("distance_mm")
	w.units(c.Distance, truce.MetreUnit)
	w.key("from_us")
	w.time(c.When.From)
	w.key("kind")
	w.str(string(c.Kind))
	w.key("max_alt_mm")
	w.units(c.MaxAlt, truce.MetreUnit)
	w.key("min_alt_mm")
	w.units(c.MinAlt, truce.MetreUnit)
	w.key("rule")
	w.str(c.Rule)
	w.key("until_us")
	w.time(c.When.Until)
	w.key("volume")
	w.int(int64(c.Volume))
	w.key("where")
	w.pointObj(c.Where)
	w.key("with")
	w.str(c.With)
	w.key("with_volume")
	w.int(int64(c.WithVolume))
	w.close()
}

func (w *writer) positions(ps []truce.Position) {
	w.b = append(w.b, '[')
	for i := range ps {
		p := &ps[i]
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.open()
		w.key("alt_mm")
		w.units(p.Alt, truce.MetreUnit)
		w.key("domain")
		w.str(string(p.Domain))
		w.key("nation")
		w.str(string(p.Nation))
		w.key("point")
		w.pointObj(p.Point)
		w.key("time_us")
		w.time(p.Time)
		w.key("unit")
		w.str(p.Unit)
		w.close()
	}
	w.b = append(w.b, ']')
}

func (w *writer) alert(a *truce.TrackAlert) {
	w.open()
	if a.Activity != "" {
		w.key("activity")
		w.str(a.Activity)
	}
	w.key("distance_mm")
	w.units(a.Distance, truce.MetreUnit)
	w.key("kind")
	w.str(string(a.Kind))
	w.key("nation")
	w.str(string(a.Nation))
	if a.Other != "" {
		w.key("other")
		w.str(a.Other)
	}
	w.key("point")
	w.pointObj(a.Point)
	w.key("time_us")
	w.time(a.Time)
	w.key("unit")
	w.str(a.Unit)
	if a.Zone != "" {
		w.key("zone")
		w.str(a.Zone)
	}
	w.close()
}

// The decoding side.

type wireCircle struct {
	point
	Radius int64 `json:"radius_mm"`
}

type wireCorridor struct {
	HalfWidth int64   `json:"half_width_mm"`
	Path      []point `json:"path"`
}

type wireVolume struct {
	Circle   *wireCircle   `json:"circle"`
	Corridor *wireCorridor `json:"corridor"`
	From     int64         `json:"from_us"`
	MaxAlt   int64         `json:"max_alt_mm"`
	MinAlt   int64         `json:"min_alt_mm"`
	Polygon  []point       `json:"polygon"`
	Until    int64         `json:"until_us"`
}

type wireConflict struct {
	Distance   int64  `json:"distance_mm"`
	From       int64  `json:"from_us"`
	Kind       string `json:"kind"`
	MaxAlt     int64  `json:"max_alt_mm"`
	MinAlt     int64  `json:"min_alt_mm"`
	Rule       string `json:"rule"`
	Until      int64  `json:"until_us"`
	Volume     int64  `json:"volume"`
	Where      point  `json:"where"`
	With       string `json:"with"`
	WithVolume int64  `json:"with_volume"`
}

type wireActivity struct {
	Conflicts []wireConflict `json:"conflicts"`
	Domain    string         `json:"domain"`
	ID        string         `json:"id"`
	Kind      string         `json:"kind"`
	Nation    string         `json:"nation"`
	Note      string         `json:"note"`
	Priority  int64          `json:"priority"`
	State     string         `json:"state"`
	Unit      string         `json:"unit"`
	Version   int64          `json:"version"`
	Volumes   []wireVolume   `json:"volumes"`
}

type wirePosition struct {
	Alt    int64  `json:"alt_mm"`
	Domain string `json:"domain"`
	Nation string `json:"nation"`
	Point  point  `json:"point"`
	Time   int64  `json:"time_us"`
	Unit   string `json:"unit"`
}

type wireAlert struct {
	Activity string `json:"activity"`
	Distance int64  `json:"distance_mm"`
	Kind     string `json:"kind"`
	Nation   string `json:"nation"`
	Other    string `json:"other"`
	Point    point  `json:"point"`
	Time     int64  `json:"time_us"`
	Unit     string `json:"unit"`
	Zone     string `json:"zone"`
}

func us(n int64) time.Time { return time.UnixMicro(n).UTC() }

func mm(n int64) float64 { return truce.FromUnits(n, truce.MetreUnit) }

func geoPoints(ps []point) []geo.Point {
	if ps == nil {
		return nil
	}
	out := make([]geo.Point, len(ps))
	for i, p := range ps {
		out[i] = p.geo()
	}
	return out
}

func (v *wireActivity) activity() *truce.Activity {
	a := &truce.Activity{ID: v.ID, Nation: truce.NationID(v.Nation), Unit: v.Unit, Domain: truce.Domain(v.Domain), Kind: truce.ActivityKind(v.Kind),
		Priority: int(v.Priority), State: truce.ActivityState(v.State), Version: int(v.Version), Note: v.Note}
	for _, wv := range v.Volumes {
		vol := truce.Volume{MinAlt: mm(wv.MinAlt), MaxAlt: mm(wv.MaxAlt), Period: truce.TimeRange{From: us(wv.From), Until: us(wv.Until)}}
		if c := wv.Circle; c != nil {
			vol.Footprint.Circle = &geo.Cap{Center: c.geo(), Radius: mm(c.Radius)}
		}
		if c := wv.Corridor; c != nil {
			vol.Footprint.Path, vol.Footprint.HalfWidth = geoPoints(c.Path), mm(c.HalfWidth)
			if vol.Footprint.Path == nil {
				vol.Footprint.Path = []geo.Point{}
			}
		}
		if wv.Polygon != nil {
			vol.Footprint.Polygon = geoPoints(wv.Polygon)
		}
		a.Volumes = append(a.Volumes, vol)
	}
	for _, c := range v.Conflicts {
		a.Conflicts = append(a.Conflicts, truce.Conflict{Kind: truce.ConflictKind(c.Kind), Volume: int(c.Volume), With: c.With, WithVolume: int(c.WithVolume),
			Blocking: truce.RuleBlocks(c.Rule), Rule: c.Rule, Where: c.Where.geo(), Distance: mm(c.Distance),
			When: truce.TimeRange{From: us(c.From), Until: us(c.Until)}, MinAlt: mm(c.MinAlt), MaxAlt: mm(c.MaxAlt)})
	}
	return a
}

func decodePositions(ps []wirePosition) []truce.Position {
	out := make([]truce.Position, len(ps))
	for i, p := range ps {
		out[i] = truce.Position{Unit: p.Unit, Nation: truce.NationID(p.Nation), Domain: truce.Domain(p.Domain), Time: us(p.Time), Point: p.Point.geo(), Alt: mm(p.Alt)}
	}
	return out
}

func (v *wireAlert) alert() *truce.TrackAlert {
	return &truce.TrackAlert{Kind: truce.AlertKind(v.Kind), Unit: v.Unit, Nation: truce.NationID(v.Nation), Time: us(v.Time), Point: v.Point.geo(),
		Activity: v.Activity, Zone: v.Zone, Other: v.Other, Distance: mm(v.Distance)}
}

// activityKey makes each recorded version of an activity its own entry.
func activityKey(a *truce.Activity) Key {
	return derivedKey("activity", a.ID, fmt.Sprint(a.Version))
}

// alertKey makes an alert derived again after a restart a duplicate.
func alertKey(a *truce.TrackAlert) Key {
	return derivedKey("track_alert", string(a.Kind), a.Unit, a.Other, a.Zone, a.Activity, a.Time.UTC().Format(time.RFC3339Nano))
}
