package assess

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// A scenario is one testdata/*.yaml file: an agreement, incidents with the
// violations expected of them, and steps for the escalator with the
// changes expected of them. Every expectation in the files was worked out
// by hand; the files say how.
type scenario struct {
	Agreement string         `yaml:"agreement"`
	Windows   []scenarioWin  `yaml:"windows"`
	Incidents []scenarioInc  `yaml:"incidents"`
	Steps     []scenarioStep `yaml:"steps"`
}

type scenarioWin struct {
	ID           string    `yaml:"id"`
	Name         string    `yaml:"name"`
	Center       []float64 `yaml:"center"`
	RadiusKM     float64   `yaml:"radius_km"`
	From         string    `yaml:"from"`
	Until        string    `yaml:"until"`
	Acknowledged bool      `yaml:"acknowledged"`
}

type scenarioInc struct {
	ID          string     `yaml:"id"`
	Note        string     `yaml:"note"`
	Category    string     `yaml:"category"`
	Weapon      string     `yaml:"weapon"`
	At          []float64  `yaml:"at"`
	Origin      []float64  `yaml:"origin"`
	FireBearing *float64   `yaml:"fire_bearing"`
	Time        string     `yaml:"time"`
	End         string     `yaml:"end"`
	Status      string     `yaml:"status"`
	Claimants   []string   `yaml:"claimants"`
	Windows     []string   `yaml:"windows"`
	Party       string     `yaml:"party"`
	Violations  []wantViol `yaml:"violations"`
}

type wantViol struct {
	Rule     string   `yaml:"rule"`
	Zone     string   `yaml:"zone"`
	Party    string   `yaml:"party"`
	Severity string   `yaml:"severity"`
	Sector   string   `yaml:"sector"`
	Explains []string `yaml:"explains"`
}

type scenarioStep struct {
	Set        *string      `yaml:"set"`
	Violations []stepViol   `yaml:"violations"`
	Advance    string       `yaml:"advance"`
	Triggered  *bool        `yaml:"triggered"`
	Changes    []wantChange `yaml:"changes"`
	Levels     string       `yaml:"levels"`
	Note       string       `yaml:"note"`
	Want       []wantLevel  `yaml:"want"`
}

type stepViol struct {
	Sector   string `yaml:"sector"`
	Severity string `yaml:"severity"`
	Time     string `yaml:"time"`
}

type wantChange struct {
	At       string    `yaml:"at"`
	Sector   string    `yaml:"sector"`
	From     string    `yaml:"from"`
	To       string    `yaml:"to"`
	Scores   []float64 `yaml:"scores"`
	Trigger  *bool     `yaml:"trigger"`
	Critical []string  `yaml:"critical"`
}

type wantLevel struct {
	Sector string    `yaml:"sector"`
	Level  string    `yaml:"level"`
	Since  string    `yaml:"since"`
	Scores []float64 `yaml:"scores"`
}

// day is the date of times written "HH:MM".
var day = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	if s == "" {
		return time.Time{}
	}
	if tm, err := time.Parse(time.RFC3339, s); err == nil {
		return tm
	}
	hm, err := time.Parse("15:04", s)
	if err != nil {
		t.Fatalf("time %q: want RFC 3339 or HH:MM", s)
	}
	return day.Add(time.Duration(hm.Hour())*time.Hour + time.Duration(hm.Minute())*time.Minute)
}

func point(t *testing.T, c []float64) geo.Point {
	t.Helper()
	if len(c) != 2 {
		t.Fatalf("point %v: want [lat, lon]", c)
	}
	return geo.Pt(c[0], c[1])
}

func loadScenario(t *testing.T, file string) (*scenario, *truce.Agreement) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var sc scenario
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	a, err := agreement.Load(filepath.Join(filepath.Dir(file), sc.Agreement))
	if err != nil {
		t.Fatal(err)
	}
	return &sc, a
}

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			sc, a := loadScenario(t, file)
			if len(sc.Incidents) > 0 {
				runIncidents(t, sc, a)
			}
			if len(sc.Steps) > 0 {
				runSteps(t, sc, a)
			}
		})
	}
}

func runIncidents(t *testing.T, sc *scenario, a *truce.Agreement) {
	as, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	windows := map[string]truce.SilenceWindow{}
	var all []truce.SilenceWindow
	for _, w := range sc.Windows {
		sw := truce.SilenceWindow{
			ID: w.ID, Name: w.Name, Center: point(t, w.Center), Radius: w.RadiusKM * 1000,
			Period:       truce.TimeRange{From: parseTime(t, w.From), Until: parseTime(t, w.Until)},
			Acknowledged: w.Acknowledged,
		}
		windows[w.ID] = sw
		all = append(all, sw)
	}
	for _, si := range sc.Incidents {
		t.Run(si.ID, func(t *testing.T) {
			inc := truce.Incident{
				ID:       si.ID,
				Category: truce.Category(si.Category),
				Weapon:   truce.WeaponClass(si.Weapon),
				Location: point(t, si.At),
				Start:    parseTime(t, si.Time),
				End:      parseTime(t, si.End),
				Status:   truce.IncidentStatus(si.Status),
				Party:    "XX", // Assess must overwrite it
			}
			if inc.Status == "" {
				inc.Status = truce.StatusReported
			}
			if inc.End.IsZero() {
				inc.End = inc.Start
			}
			if si.Origin != nil {
				o := point(t, si.Origin)
				inc.Origin = &o
			}
			if si.FireBearing != nil {
				inc.HasFireBearing, inc.FireBearing = true, *si.FireBearing
			}
			for _, c := range si.Claimants {
				inc.Claimants = append(inc.Claimants, truce.PartyID(c))
			}
			ws := all
			if si.Windows != nil {
				ws = nil
				for _, id := range si.Windows {
					w, ok := windows[id]
					if !ok {
						t.Fatalf("unknown window %q", id)
					}
					ws = append(ws, w)
				}
			}
			got := as.Assess(&inc, ws)
			if inc.Party != truce.PartyID(si.Party) {
				t.Errorf("%s: incident party: got %q, want %q", si.Note, inc.Party, si.Party)
			}
			var want []string
			for _, w := range si.Violations {
				want = append(want, si.ID+"/"+w.Rule+"/"+w.Zone)
			}
			slices.Sort(want)
			var gotIDs []string
			for _, v := range got {
				gotIDs = append(gotIDs, v.ID)
			}
			if !slices.Equal(gotIDs, want) {
				t.Fatalf("%s: violations: got %q, want %q", si.Note, gotIDs, want)
			}
			for _, w := range si.Violations {
				i := slices.IndexFunc(got, func(v truce.Violation) bool { return v.ID == si.ID+"/"+w.Rule+"/"+w.Zone })
				v := got[i]
				check := func(what string, got, want any) {
					if got != want {
						t.Errorf("%s: %s: got %v, want %v", v.ID, what, got, want)
					}
				}
				check("rule", string(v.Rule), w.Rule)
				check("zone", v.Zone, w.Zone)
				check("incident", v.Incident, si.ID)
				check("party", string(v.Party), w.Party)
				check("severity", string(v.Severity), w.Severity)
				check("sector", v.Sector, w.Sector)
				check("time", v.Time, inc.Start)
				check("location", v.Location, inc.Location)
				for _, s := range w.Explains {
					if !strings.Contains(v.Explanation, s) {
						t.Errorf("%s: explanation %q: want it to say %q", v.ID, v.Explanation, s)
					}
				}
			}
		})
	}
}

func runSteps(t *testing.T, sc *scenario, a *truce.Agreement) {
	e := NewEscalator(a)
	for i, st := range sc.Steps {
		where := fmt.Sprintf("step %d", i+1)
		switch {
		case st.Set != nil:
			var vs []truce.Violation
			for _, v := range st.Violations {
				vs = append(vs, truce.Violation{Incident: *st.Set, Sector: v.Sector, Severity: truce.Severity(v.Severity), Time: parseTime(t, v.Time)})
			}
			e.Set(*st.Set, vs)
		case st.Advance != "":
			got := formatChanges(e.Advance(parseTime(t, st.Advance)))
			var want []string
			for _, c := range st.Changes {
				want = append(want, formatWant(t, c))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: Advance(%s):\ngot  %s\nwant %s", where, st.Advance, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
			if st.Triggered != nil && e.Triggered() != *st.Triggered {
				t.Errorf("%s: Triggered() after Advance(%s): got %v, want %v", where, st.Advance, e.Triggered(), *st.Triggered)
			}
		case st.Levels != "":
			var got, want []string
			for _, l := range e.Levels(parseTime(t, st.Levels)) {
				got = append(got, fmt.Sprintf("%s %s since %s %v", l.Sector, l.Level, l.Since.Format(time.RFC3339), l.Scores))
			}
			for _, l := range st.Want {
				want = append(want, fmt.Sprintf("%s %s since %s %v", l.Sector, l.Level, parseTime(t, l.Since).Format(time.RFC3339), l.Scores))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: Levels(%s) (%s):\ngot  %s\nwant %s", where, st.Levels, st.Note, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
		default:
			t.Fatalf("%s: want set, advance or levels", where)
		}
	}
}

func formatChanges(cs []Change) []string {
	var out []string
	for _, c := range cs {
		if c.Trigger != nil {
			out = append(out, fmt.Sprintf("%s trigger %v %v", c.At.Format(time.RFC3339), *c.Trigger, c.Critical))
			continue
		}
		out = append(out, fmt.Sprintf("%s %s %s->%s %v", c.At.Format(time.RFC3339), c.Sector, c.From, c.To, c.Scores))
	}
	return out
}

func formatWant(t *testing.T, c wantChange) string {
	at := parseTime(t, c.At).Format(time.RFC3339)
	if c.Trigger != nil {
		return fmt.Sprintf("%s trigger %v %v", at, *c.Trigger, c.Critical)
	}
	return fmt.Sprintf("%s %s %s->%s %v", at, c.Sector, c.From, c.To, c.Scores)
}
