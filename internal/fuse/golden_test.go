package fuse

// Golden scenarios: testdata/*.yaml, written by hand, with the working in
// comments. Format of a file:
//
//	scenarios:
//	  - name: what it shows
//	    observations:            # fed to Engine.Add in this order
//	      - id: 1                # journal sequence number
//	        org: osce            # recording organisation
//	        source: patrol-1
//	        source_id: r1
//	        method: heard        # truce.Method
//	        category: explosion  # truce.Category
//	        weapon: mortar       # optional
//	        count: 3             # optional, default 1
//	        time: "2025-06-01T21:14:00Z"
//	        time_uncertainty: 30s
//	        location: {lat: 48.0, lon: 37.8, cep: 100}        # or
//	        observer: {lat: 48.0, lon: 37.8, bearing: 156.0, distance: [3000, 5000]}
//	        fire_bearing: 350    # optional
//	        reliability: B       # default F
//	        credibility: 2       # default 6
//	        party: UA            # a party's claim
//	        gone: [[1], [3]]     # optional: this report merges away the
//	                             # incidents then made of these members
//	        changed: [[1, 2], [3]] # optional: the member sets of the
//	                             # incidents Add returns, in its order
//	    incidents:               # the final incidents, in any order
//	      - members: [1, 2, 3]   # required; every other key is optional
//	        category: explosion
//	        weapon: mortar
//	        count: 3
//	        status: reported
//	        sources: 3
//	        confidence: [0.97, 0.98]   # bounds, inclusive, ± 1e-6
//	        likelihood: almost certain
//	        claimants: [UA]
//	        near: {lat: 48.0, lon: 37.8, within: 100}     # metres
//	        uncertainty: [250, 450]                       # bounds, metres
//	        origin: {lat: 48.0, lon: 37.8, within: 1}
//	        fire_bearing: 5                               # ± 0.01°
//	        start: "…"
//	        end: "…"
//
// Every scenario is also checked against Fuse and against the reverse
// order of Add.

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

type goldenFile struct {
	Scenarios []goldenScenario `yaml:"scenarios"`
}

type goldenScenario struct {
	Name         string      `yaml:"name"`
	Observations []goldenObs `yaml:"observations"`
	Incidents    []goldenInc `yaml:"incidents"`
}

type goldenPlace struct {
	Lat      float64    `yaml:"lat"`
	Lon      float64    `yaml:"lon"`
	CEP      float64    `yaml:"cep"`
	Bearing  float64    `yaml:"bearing"`
	Distance [2]float64 `yaml:"distance"`
	Within   float64    `yaml:"within"`
}

type goldenObs struct {
	ID              uint64        `yaml:"id"`
	Org             string        `yaml:"org"`
	Source          string        `yaml:"source"`
	SourceID        string        `yaml:"source_id"`
	Method          string        `yaml:"method"`
	Category        string        `yaml:"category"`
	Weapon          string        `yaml:"weapon"`
	Count           int           `yaml:"count"`
	Time            time.Time     `yaml:"time"`
	TimeUncertainty time.Duration `yaml:"time_uncertainty"`
	Location        *goldenPlace  `yaml:"location"`
	Observer        *goldenPlace  `yaml:"observer"`
	FireBearing     *float64      `yaml:"fire_bearing"`
	Reliability     string        `yaml:"reliability"`
	Credibility     int           `yaml:"credibility"`
	Party           string        `yaml:"party"`
	Gone            [][]uint64    `yaml:"gone"`
	Changed         [][]uint64    `yaml:"changed"`
}

type goldenInc struct {
	Members     []uint64     `yaml:"members"`
	Category    string       `yaml:"category"`
	Weapon      string       `yaml:"weapon"`
	Count       int          `yaml:"count"`
	Status      string       `yaml:"status"`
	Sources     int          `yaml:"sources"`
	Confidence  []float64    `yaml:"confidence"`
	Likelihood  string       `yaml:"likelihood"`
	Claimants   []string     `yaml:"claimants"`
	Near        *goldenPlace `yaml:"near"`
	Uncertainty []float64    `yaml:"uncertainty"`
	Origin      *goldenPlace `yaml:"origin"`
	FireBearing *float64     `yaml:"fire_bearing"`
	Start       time.Time    `yaml:"start"`
	End         time.Time    `yaml:"end"`
}

func (g goldenObs) input() Input {
	o := truce.Observation{
		Source: g.Source, SourceID: g.SourceID,
		Method: truce.Method(g.Method), Category: truce.Category(g.Category), Weapon: truce.WeaponClass(g.Weapon),
		Count: max(g.Count, 1), Time: g.Time.UTC(), TimeUncertainty: g.TimeUncertainty,
		Reliability: 'F', Credibility: 6, Party: truce.PartyID(g.Party),
		Marking: truce.Marking{TLP: truce.TLPGreen},
	}
	if g.Reliability != "" {
		o.Reliability = truce.Reliability(g.Reliability[0])
	}
	if g.Credibility != 0 {
		o.Credibility = truce.Credibility(g.Credibility)
	}
	if l := g.Location; l != nil {
		o.Location = &truce.Location{Point: geo.Pt(l.Lat, l.Lon), CEP: l.CEP}
	}
	if v := g.Observer; v != nil {
		o.Observer = &truce.Observer{Point: geo.Pt(v.Lat, v.Lon), Bearing: v.Bearing, DistanceMin: v.Distance[0], DistanceMax: v.Distance[1]}
	}
	if g.FireBearing != nil {
		o.FireBearing, o.HasFireBearing = *g.FireBearing, true
	}
	return Input{ID: g.ID, Org: truce.OrgID(g.Org), Observation: o.Canonical()}
}

func memberIDs(in truce.Incident) []uint64 {
	ids := make([]uint64, len(in.Observations))
	for i, r := range in.Observations {
		ids[i] = r.ID
	}
	return ids
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var gf goldenFile
		if err := yaml.Unmarshal(data, &gf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, sc := range gf.Scenarios {
			t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml")+"/"+sc.Name, func(t *testing.T) { runGolden(t, sc) })
		}
	}
}

func runGolden(t *testing.T, sc goldenScenario) {
	e := New(DefaultConfig())
	idOf := map[string]string{} // member set → the id it was last returned under
	var inputs []Input
	for _, g := range sc.Observations {
		in := g.input()
		inputs = append(inputs, in)
		changed, gone := e.Add(in)
		if len(changed) == 0 || !slices.Contains(memberIDs(changed[0]), g.ID) {
			t.Fatalf("add %d: the first changed incident is not the one it joined: %v", g.ID, changed)
		}
		if g.Changed != nil {
			var sets [][]uint64
			for _, c := range changed {
				sets = append(sets, memberIDs(c))
			}
			if fmt.Sprint(sets) != fmt.Sprint(g.Changed) {
				t.Errorf("add %d: got changed %v, want %v", g.ID, sets, g.Changed)
			}
		} else if len(changed) != 1 {
			t.Errorf("add %d: got %d changed incidents, want 1", g.ID, len(changed))
		}
		if g.Gone != nil {
			var want []string
			for _, m := range g.Gone {
				id, ok := idOf[fmt.Sprint(m)]
				if !ok {
					t.Fatalf("add %d: no incident was ever made of %v", g.ID, m)
				}
				if id != changed[0].ID {
					want = append(want, id)
				}
			}
			slices.Sort(want)
			if !slices.Equal(gone, want) {
				t.Errorf("add %d: got gone %v, want %v", g.ID, gone, want)
			}
		} else if len(gone) > 0 && !renamed(gone, idOf) {
			t.Errorf("add %d: got gone %v, want none", g.ID, gone)
		}
		for _, c := range changed {
			idOf[fmt.Sprint(memberIDs(c))] = c.ID
		}
	}
	got := e.Incidents()
	checkIncidents(t, got, sc.Incidents)

	batch := Fuse(DefaultConfig(), inputs)
	if d := diffIncidents(got, batch); d != "" {
		t.Errorf("Engine and Fuse differ: %s", d)
	}
	r := New(DefaultConfig())
	for _, in := range slices.Backward(inputs) {
		r.Add(in)
	}
	if d := diffIncidents(got, r.Incidents()); d != "" {
		t.Errorf("forward and reverse order differ: %s", d)
	}
}

// renamed reports whether every id in gone was an incident's id: a merge
// the scenario did not spell out is still an error, caught by the member
// check at the end.
func renamed(gone []string, idOf map[string]string) bool {
	for _, id := range gone {
		found := false
		for _, v := range idOf {
			found = found || v == id
		}
		if !found {
			return false
		}
	}
	return true
}

func checkIncidents(t *testing.T, got []truce.Incident, want []goldenInc) {
	t.Helper()
	byMembers := map[string]truce.Incident{}
	for _, in := range got {
		byMembers[fmt.Sprint(memberIDs(in))] = in
	}
	if len(got) != len(want) {
		var sets []string
		for _, in := range got {
			sets = append(sets, fmt.Sprint(memberIDs(in)))
		}
		t.Errorf("got %d incidents %v, want %d", len(got), sets, len(want))
	}
	for _, w := range want {
		in, ok := byMembers[fmt.Sprint(w.Members)]
		if !ok {
			t.Errorf("no incident made of %v", w.Members)
			continue
		}
		name := fmt.Sprint(w.Members)
		if w.Category != "" && string(in.Category) != w.Category {
			t.Errorf("%s: got category %s, want %s", name, in.Category, w.Category)
		}
		if w.Weapon != "" && string(in.Weapon) != w.Weapon {
			t.Errorf("%s: got weapon %q, want %s", name, in.Weapon, w.Weapon)
		}
		if w.Count != 0 && in.Count != w.Count {
			t.Errorf("%s: got count %d, want %d", name, in.Count, w.Count)
		}
		if w.Status != "" && string(in.Status) != w.Status {
			t.Errorf("%s: got status %s, want %s", name, in.Status, w.Status)
		}
		if w.Sources != 0 && in.Sources != w.Sources {
			t.Errorf("%s: got %d sources, want %d", name, in.Sources, w.Sources)
		}
		if w.Confidence != nil && (in.Confidence < w.Confidence[0]-1e-6 || in.Confidence > w.Confidence[1]+1e-6) {
			t.Errorf("%s: got confidence %.5f, want %v", name, in.Confidence, w.Confidence)
		}
		if w.Likelihood != "" && string(in.Likelihood) != w.Likelihood {
			t.Errorf("%s: got likelihood %s, want %s", name, in.Likelihood, w.Likelihood)
		}
		if w.Claimants != nil {
			var c []string
			for _, p := range in.Claimants {
				c = append(c, string(p))
			}
			if !slices.Equal(c, w.Claimants) {
				t.Errorf("%s: got claimants %v, want %v", name, c, w.Claimants)
			}
		}
		if p := w.Near; p != nil {
			if d := geo.Distance(in.Location, geo.Pt(p.Lat, p.Lon)); d > p.Within {
				t.Errorf("%s: got location %v, %.0f m from %.5f, %.5f, want within %.0f m", name, in.Location, d, p.Lat, p.Lon, p.Within)
			}
		}
		if u := w.Uncertainty; u != nil && (in.Uncertainty < u[0] || in.Uncertainty > u[1]) {
			t.Errorf("%s: got uncertainty %.0f m, want %v", name, in.Uncertainty, u)
		}
		if p := w.Origin; p != nil {
			if in.Origin == nil {
				t.Errorf("%s: got no origin, want %.5f, %.5f", name, p.Lat, p.Lon)
			} else if d := geo.Distance(*in.Origin, geo.Pt(p.Lat, p.Lon)); d > p.Within {
				t.Errorf("%s: got origin %v, %.0f m off, want within %.0f m", name, *in.Origin, d, p.Within)
			}
		}
		if b := w.FireBearing; b != nil && (!in.HasFireBearing || angDiff(in.FireBearing, *b) > 0.01) {
			t.Errorf("%s: got fire bearing %.3f (%v), want %.2f", name, in.FireBearing, in.HasFireBearing, *b)
		}
		if !w.Start.IsZero() && !in.Start.Equal(w.Start) {
			t.Errorf("%s: got start %v, want %v", name, in.Start, w.Start)
		}
		if !w.End.IsZero() && !in.End.Equal(w.End) {
			t.Errorf("%s: got end %v, want %v", name, in.End, w.End)
		}
	}
}

// diffIncidents describes the first difference between two lists of
// incidents, floats compared to the bit; "" when identical.
func diffIncidents(a, b []truce.Incident) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d incidents against %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		bits := func(f float64) uint64 { return math.Float64bits(f) }
		switch {
		case x.ID != y.ID:
			return fmt.Sprintf("incident %d: id %s against %s", i, x.ID, y.ID)
		case !slices.Equal(memberIDs(x), memberIDs(y)):
			return fmt.Sprintf("%s: members %v against %v", x.ID, memberIDs(x), memberIDs(y))
		case bits(x.Location.Lat) != bits(y.Location.Lat) || bits(x.Location.Lon) != bits(y.Location.Lon):
			return fmt.Sprintf("%s: location %v against %v", x.ID, x.Location, y.Location)
		case bits(x.Uncertainty) != bits(y.Uncertainty):
			return fmt.Sprintf("%s: uncertainty %v against %v", x.ID, x.Uncertainty, y.Uncertainty)
		case bits(x.Confidence) != bits(y.Confidence):
			return fmt.Sprintf("%s: confidence %v against %v", x.ID, x.Confidence, y.Confidence)
		case bits(x.FireBearing) != bits(y.FireBearing) || x.HasFireBearing != y.HasFireBearing:
			return fmt.Sprintf("%s: fire bearing %v against %v", x.ID, x.FireBearing, y.FireBearing)
		case (x.Origin == nil) != (y.Origin == nil) || x.Origin != nil && *x.Origin != *y.Origin:
			return fmt.Sprintf("%s: origin %v against %v", x.ID, x.Origin, y.Origin)
		}
		x.Origin, y.Origin = nil, nil
		x.Observations, y.Observations = nil, nil
		if fmt.Sprintf("%+v", x) != fmt.Sprintf("%+v", y) {
			return fmt.Sprintf("%+v against %+v", x, y)
		}
		for j := range a[i].Observations {
			if fmt.Sprint(a[i].Observations[j]) != fmt.Sprint(b[i].Observations[j]) {
				return fmt.Sprintf("%s: observation %v against %v", x.ID, a[i].Observations[j], b[i].Observations[j])
			}
		}
	}
	return ""
}
