package httpapi

import (
	"errors"
	"testing"
	"time"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/deconflict"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// fuzzPlanner holds one accepted activity for fuzzed plans to meet.
func fuzzPlanner(t testing.TB) (*deconflict.Planner, *truce.Agreement) {
	line, err := geo.NewLine([][]geo.Point{{geo.Pt(46, 37.5), geo.Pt(50, 37.5)}})
	if err != nil {
		t.Fatal(err)
	}
	a := &truce.Agreement{ID: "fuzz", Line: line, Zones: []truce.Zone{{ID: "keep-out", Kind: truce.ZoneKeepOut, Distance: map[truce.PartyID]float64{"UA": 30e3, "RU": 30e3}}},
		Coalition: truce.Coalition{Margins: map[truce.Domain]truce.Margin{truce.DomainAir: {Horizontal: 5000, Vertical: 300, Time: 10 * time.Minute}}}}
	p := deconflict.NewPlanner(a, deconflict.IndexOptions{})
	from := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	_, err = p.Propose(truce.Activity{ID: "held", Nation: "GBR", Unit: "u", Domain: truce.DomainAir, Kind: truce.ActivityFlight, Priority: 5,
		Volumes: []truce.Volume{{Footprint: truce.Footprint{Circle: &geo.Cap{Center: geo.Pt(48, 31), Radius: 20e3}}, MinAlt: 5000, MaxAlt: 9000,
			Period: truce.TimeRange{From: from, Until: from.Add(4 * time.Hour)}}}}, func(truce.Activity) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return p, a
}

// FuzzActivityRequest feeds arbitrary bodies through what POST
// /api/v1/activities does with them: decode, convert, validate, check. It
// must never panic, and whatever it refuses is refused as invalid input.
func FuzzActivityRequest(f *testing.F) {
	for _, s := range []string{
		`{"nation":"FRA","unit":"u2","domain":"air","kind":"flight","priority":3,"volumes":[{"circle":{"center":{"lat":48,"lon":31.1},"radius_m":5000},"min_alt_m":6000,"max_alt_m":7000,"from":"2026-12-07T07:00:00Z","until":"2026-12-07T08:00:00Z"}]}`,
		`{"nation":"FRA","unit":"u2","domain":"land","kind":"patrol","priority":1,"volumes":[{"corridor":{"path":[{"lat":48,"lon":30},{"lat":48.2,"lon":31.2}],"half_width_m":800},"min_alt_m":0,"max_alt_m":50,"from":"2026-12-07T07:00:00Z","until":"2026-12-07T09:00:00Z"}]}`,
		`{"nation":"POL","unit":"x","domain":"sea","kind":"exercise","priority":0,"volumes":[{"polygon":[{"lat":47,"lon":31},{"lat":47,"lon":32},{"lat":47.5,"lon":31.5}],"min_alt_m":0,"max_alt_m":0,"from":"2026-12-07T07:00:00Z","until":"2026-12-08T07:00:00Z"}]}`,
		`{"nation":"POL","unit":"x","domain":"air","kind":"flight","priority":2,"volumes":[{"polygon":[{"lat":47,"lon":31},{"lat":48,"lon":32},{"lat":47,"lon":32},{"lat":48,"lon":31}],"min_alt_m":0,"max_alt_m":10,"from":"2026-12-07T07:00:00Z","until":"2026-12-07T08:00:00Z"}]}`,
		`{"volumes":[{"circle":{"center":{"lat":91,"lon":0},"radius_m":-1}}]}`,
		`{"nation":"GBR","priority":1e400}`,
	} {
		f.Add([]byte(s))
	}
	p, _ := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var req api.ActivityRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		a, err := req.ToActivity()
		if err != nil {
			if !errors.Is(err, truce.ErrInvalid) {
				t.Fatalf("ToActivity: %v is not invalid input", err)
			}
			return
		}
		a.ID = "fuzzed"
		cs, err := p.Check(&a)
		if err != nil {
			if !errors.Is(err, truce.ErrInvalid) {
				t.Fatalf("Check: %v is not invalid input", err)
			}
			return
		}
		for _, c := range cs {
			if c.Volume < 0 || c.Volume >= len(a.Volumes) || c.Distance < 0 {
				t.Fatalf("conflict %+v of a plan of %d volumes", c, len(a.Volumes))
			}
		}
		out := api.FromActivity(&a)
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("the wire form of a valid plan does not encode: %v", err)
		}
	})
}

// FuzzTracksRequest does the same for POST /api/v1/tracks, up to the
// monitor.
func FuzzTracksRequest(f *testing.F) {
	for _, s := range []string{
		`{"positions":[{"unit":"u","nation":"GBR","domain":"air","time":"2026-12-07T07:00:00Z","lat":48,"lon":31,"alt_m":7000}]}`,
		`{"positions":[{"unit":"u","nation":"GBR","domain":"land","time":"2026-12-07T07:00:00Z","lat":48,"lon":37.6}]}`,
		`{"positions":[{"unit":"","nation":"G B","domain":"space","time":"yesterday","lat":null}]}`,
	} {
		f.Add([]byte(s))
	}
	p, a := fuzzPlanner(f)
	m := deconflict.NewMonitor(p, agreement.NewIndex(a, agreement.IndexOptions{}))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req api.TracksRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		batch, err := req.ToPositions()
		if err == nil {
			err = deconflict.ValidatePositions(batch)
		}
		if err != nil {
			if !errors.Is(err, truce.ErrInvalid) {
				t.Fatalf("%v is not invalid input", err)
			}
			return
		}
		m.Observe(batch)
	})
}
