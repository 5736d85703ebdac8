package ingest

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

func TestValidateRules(t *testing.T) {
	long := strings.Repeat("x", 129)
	rel := make([]string, 33)
	for i := range rel {
		rel[i] = "org" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	tests := []struct {
		name   string
		form   func() api.Observation // wire by default
		edit   func(w *api.Observation)
		opts   *Options
		field  string
		reason string // "" for a valid record; else a substring of the reason
	}{
		{name: "valid location", edit: func(w *api.Observation) {}},
		{name: "valid observer", form: observerWire, edit: func(w *api.Observation) {}},

		{name: "source missing", edit: func(w *api.Observation) { w.Source = "" }, field: "source", reason: "required"},
		{name: "source too long", edit: func(w *api.Observation) { w.Source = long }, field: "source", reason: "129 bytes long, more than 128"},
		{name: "source 128 bytes", edit: func(w *api.Observation) { w.Source = long[:128] }},
		{name: "source control", edit: func(w *api.Observation) { w.Source = "a\tb" }, field: "source", reason: "control character U+0009"},
		{name: "source bad utf8", edit: func(w *api.Observation) { w.Source = "a\xffb" }, field: "source", reason: "not valid UTF-8"},
		{name: "source_id missing", edit: func(w *api.Observation) { w.SourceID = "" }, field: "source_id", reason: "required"},
		{name: "source_id too long", edit: func(w *api.Observation) { w.SourceID = long }, field: "source_id", reason: "more than 128"},
		{name: "source_id C1 control", edit: func(w *api.Observation) { w.SourceID = "a\u0085" }, field: "source_id", reason: "control character"},

		{name: "method missing", edit: func(w *api.Observation) { w.Method = "" }, field: "method", reason: "required (one of heard, seen"},
		{name: "method unknown", edit: func(w *api.Observation) { w.Method = "smelt" }, field: "method", reason: `unknown method "smelt" (want one of heard`},
		{name: "category missing", edit: func(w *api.Observation) { w.Category = "" }, field: "category", reason: "required"},
		{name: "category unknown", edit: func(w *api.Observation) { w.Category = "Explosion" }, field: "category", reason: `unknown category "Explosion"`},
		{name: "weapon unknown", edit: func(w *api.Observation) { w.Weapon = "catapult" }, field: "weapon", reason: `unknown weapon class "catapult"`},
		{name: "weapon known", edit: func(w *api.Observation) { w.Weapon = "mlrs" }},

		{name: "count 0", edit: func(w *api.Observation) { w.Count = intp(0) }, field: "count", reason: "0 is outside [1, 100000]"},
		{name: "count too many", edit: func(w *api.Observation) { w.Count = intp(100001) }, field: "count", reason: "100001 is outside"},
		{name: "count max", edit: func(w *api.Observation) { w.Count = intp(100000) }},

		{name: "time missing", edit: func(w *api.Observation) { w.Time = "" }, field: "time", reason: "required (RFC 3339"},
		{name: "time not rfc3339", edit: func(w *api.Observation) { w.Time = "2026-11-25 20:00" }, field: "time", reason: `"2026-11-25 20:00" is not an RFC 3339 time`},
		{name: "time without zone", edit: func(w *api.Observation) { w.Time = "2026-11-25T20:00:00" }, field: "time", reason: "not an RFC 3339 time"},
		{name: "time future", edit: func(w *api.Observation) { w.Time = "2026-11-25T20:30:00Z" }, field: "time",
			reason: "2026-11-25T20:30:00Z is 17m0s in the future (at most 5m allowed)"},
		{name: "time 5m ahead", edit: func(w *api.Observation) { w.Time = "2026-11-25T20:18:00Z" }},
		{name: "time 5m1s ahead", edit: func(w *api.Observation) { w.Time = "2026-11-25T20:18:01Z" }, field: "time", reason: "5m1s in the future"},
		{name: "time zone offset", edit: func(w *api.Observation) { w.Time = "2026-11-25T23:00:00+03:00" }},
		{name: "time before 1990", edit: func(w *api.Observation) { w.Time = "1989-12-31T23:59:59Z" }, field: "time", reason: "is before 1990-01-01T00:00:00Z"},
		{name: "time far future, no now", edit: func(w *api.Observation) { w.Time = "2099-01-01T00:00:00Z" }, opts: &Options{}},
		{name: "uncertainty negative", edit: func(w *api.Observation) { w.TimeUncertaintyS = f64(-1) }, field: "time_uncertainty_s", reason: "-1 is outside [0, 604800]"},
		{name: "uncertainty 8 days", edit: func(w *api.Observation) { w.TimeUncertaintyS = f64(8 * 86400) }, field: "time_uncertainty_s", reason: "691200 is outside"},
		{name: "uncertainty NaN", edit: func(w *api.Observation) { w.TimeUncertaintyS = f64(math.NaN()) }, field: "time_uncertainty_s", reason: "want a finite number, got NaN"},

		{name: "neither location nor observer", edit: func(w *api.Observation) { w.Lat, w.Lon, w.CEPM = nil, nil, nil }, field: "", reason: "has no location: give lat, lon and cep_m, or observer"},
		{name: "both", edit: func(w *api.Observation) { w.BearingDeg = f64(10) }, field: "",
			reason: "has both a location (lat, lon, cep_m) and an observer bearing (bearing_deg)"},
		{name: "lat missing", edit: func(w *api.Observation) { w.Lat = nil }, field: "lat", reason: "required (a location is lat, lon and cep_m)"},
		{name: "lon missing", edit: func(w *api.Observation) { w.Lon = nil }, field: "lon", reason: "required"},
		{name: "cep missing", edit: func(w *api.Observation) { w.CEPM = nil }, field: "cep_m", reason: "required"},
		{name: "lat 91", edit: func(w *api.Observation) { w.Lat = f64(91) }, field: "lat", reason: "91 is outside [-90, 90]"},
		{name: "lat -90", edit: func(w *api.Observation) { w.Lat = f64(-90) }},
		{name: "lat +Inf", edit: func(w *api.Observation) { w.Lat = f64(math.Inf(1)) }, field: "lat", reason: "want a finite number, got +Inf"},
		{name: "lon 180.5", edit: func(w *api.Observation) { w.Lon = f64(180.5) }, field: "lon", reason: "180.5 is outside [-180, 180]"},
		{name: "lon -180", edit: func(w *api.Observation) { w.Lon = f64(-180) }},
		{name: "lon NaN", edit: func(w *api.Observation) { w.Lon = f64(math.NaN()) }, field: "lon", reason: "want a finite number, got NaN"},
		{name: "cep 0", edit: func(w *api.Observation) { w.CEPM = f64(0) }, field: "cep_m", reason: "0 is outside (0, 100000] metres"},
		{name: "cep below precision", edit: func(w *api.Observation) { w.CEPM = f64(0.0001) }, field: "cep_m", reason: "0 at the held precision of 1 mm"},
		{name: "cep 100 km", edit: func(w *api.Observation) { w.CEPM = f64(100000) }},
		{name: "cep too large", edit: func(w *api.Observation) { w.CEPM = f64(100001) }, field: "cep_m", reason: "100001 is outside"},

		{name: "observer missing", form: observerWire, edit: func(w *api.Observation) { w.Observer = nil }, field: "observer", reason: "required (an observer bearing is observer, bearing_deg and distance_m)"},
		{name: "observer lat missing", form: observerWire, edit: func(w *api.Observation) { w.Observer.Lat = nil }, field: "observer.lat", reason: "required"},
		{name: "observer lon missing", form: observerWire, edit: func(w *api.Observation) { w.Observer.Lon = nil }, field: "observer.lon", reason: "required"},
		{name: "observer lat", form: observerWire, edit: func(w *api.Observation) { w.Observer.Lat = f64(-95) }, field: "observer.lat", reason: "-95 is outside [-90, 90]"},
		{name: "observer lon", form: observerWire, edit: func(w *api.Observation) { w.Observer.Lon = f64(200) }, field: "observer.lon", reason: "200 is outside [-180, 180]"},
		{name: "bearing missing", form: observerWire, edit: func(w *api.Observation) { w.BearingDeg = nil }, field: "bearing_deg", reason: "required"},
		{name: "bearing 360", form: observerWire, edit: func(w *api.Observation) { w.BearingDeg = f64(360) }, field: "bearing_deg", reason: "360 is outside [0, 360)"},
		{name: "bearing negative", form: observerWire, edit: func(w *api.Observation) { w.BearingDeg = f64(-1) }, field: "bearing_deg", reason: "-1 is outside [0, 360)"},
		{name: "bearing 0", form: observerWire, edit: func(w *api.Observation) { w.BearingDeg = f64(0) }},
		{name: "distance missing", form: observerWire, edit: func(w *api.Observation) { w.DistanceM = nil }, field: "distance_m", reason: "required"},
		{name: "distance one number", form: observerWire, edit: func(w *api.Observation) { w.DistanceM = []float64{5} }, field: "distance_m", reason: "want [min, max], got 1 numbers"},
		{name: "distance min > max", form: observerWire, edit: func(w *api.Observation) { w.DistanceM = []float64{500, 300} }, field: "distance_m", reason: "min 500 is more than max 300"},
		{name: "distance negative", form: observerWire, edit: func(w *api.Observation) { w.DistanceM = []float64{-1, 300} }, field: "distance_m", reason: "min -1 is outside [0, 100000]"},
		{name: "distance too far", form: observerWire, edit: func(w *api.Observation) { w.DistanceM = []float64{0, 100000.5} }, field: "distance_m", reason: "max 100000.5 is outside"},
		{name: "distance NaN", form: observerWire, edit: func(w *api.Observation) { w.DistanceM = []float64{0, math.NaN()} }, field: "distance_m", reason: "want a finite number, got NaN"},
		{name: "cep -Inf", edit: func(w *api.Observation) { w.CEPM = f64(math.Inf(-1)) }, field: "cep_m", reason: "want a finite number, got -Inf"},
		{name: "distance 0 to max", form: observerWire, edit: func(w *api.Observation) { w.DistanceM = []float64{0, 100000} }},

		{name: "fire bearing", edit: func(w *api.Observation) { w.FireBearingDeg = f64(370) }, field: "fire_bearing_deg", reason: "370 is outside [0, 360)"},
		{name: "reliability", edit: func(w *api.Observation) { w.Reliability = "G" }, field: "reliability", reason: `"G" is not a source reliability (want one of A, B, C, D, E, F)`},
		{name: "reliability two letters", edit: func(w *api.Observation) { w.Reliability = "AB" }, field: "reliability", reason: "not a source reliability"},
		{name: "credibility 0", edit: func(w *api.Observation) { w.Credibility = intp(0) }, field: "credibility", reason: "0 is not an information credibility (want 1 to 6)"},
		{name: "credibility 7", edit: func(w *api.Observation) { w.Credibility = intp(7) }, field: "credibility", reason: "7 is not"},

		{name: "party bad id", edit: func(w *api.Observation) { w.Party = "U A" }, field: "party", reason: `"U A" is not a party id`},
		{name: "party not in agreement", edit: func(w *api.Observation) { w.Party = "XX" }, opts: &Options{Now: now, Parties: []truce.PartyID{"UA", "RU"}},
			field: "party", reason: `"XX" is not a party to the agreement (want one of UA, RU)`},
		{name: "party in agreement", edit: func(w *api.Observation) { w.Party = "RU" }, opts: &Options{Now: now, Parties: []truce.PartyID{"UA", "RU"}}},
		{name: "party, no parties given", edit: func(w *api.Observation) { w.Party = "XX" }},
		{name: "text too long", edit: func(w *api.Observation) { w.Text = strings.Repeat("é", 2049) }, field: "text", reason: "4098 bytes long, more than 4096"},
		{name: "text bad utf8", edit: func(w *api.Observation) { w.Text = "\xc3" }, field: "text", reason: "not valid UTF-8"},
		{name: "text with newlines", edit: func(w *api.Observation) { w.Text = "line\nline" }},

		{name: "tlp unknown", edit: func(w *api.Observation) { w.Marking = &api.Marking{TLP: "WHITE"} }, field: "marking.tlp", reason: `unknown TLP label "WHITE"`},
		{name: "tlp prefixed", edit: func(w *api.Observation) { w.Marking = &api.Marking{TLP: "tlp:amber+strict"} }},
		{name: "rel_to bad", edit: func(w *api.Observation) { w.Marking = &api.Marking{TLP: "RED", RelTo: []string{"UA", "-x"}} }, field: "marking.rel_to", reason: `"-x" is not an organisation id`},
		{name: "rel_to too many", edit: func(w *api.Observation) { w.Marking = &api.Marking{TLP: "RED", RelTo: rel} }, field: "marking.rel_to", reason: "has 33 organisations, at most 32 allowed"},
		{name: "rel_to 32", edit: func(w *api.Observation) { w.Marking = &api.Marking{TLP: "RED", RelTo: rel[:32]} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := wire
			if tt.form != nil {
				form = tt.form
			}
			w := form()
			tt.edit(&w)
			opts := testOpts
			if tt.opts != nil {
				opts = *tt.opts
			}
			o, rej := Validate(&w, opts)
			if tt.reason == "" {
				if rej != nil {
					t.Fatalf("got rejection %v, want none", rej)
				}
				checkRoundTrip(t, o, opts)
				return
			}
			if rej == nil {
				t.Fatalf("got %+v, want a rejection of %s: %s", o, tt.field, tt.reason)
			}
			if rej.Field != tt.field || !strings.Contains(rej.Reason, tt.reason) {
				t.Errorf("got %q: %q, want %q: …%s…", rej.Field, rej.Reason, tt.field, tt.reason)
			}
			if rej.Reason != strings.ToLower(rej.Reason[:1])+rej.Reason[1:] || strings.HasSuffix(rej.Reason, ".") {
				t.Errorf("reason %q: want lower case, no trailing period", rej.Reason)
			}
		})
	}
}

// checkRoundTrip checks the invariant: an accepted observation validates
// again, through its wire form, to itself.
func checkRoundTrip(t *testing.T, o truce.Observation, opts Options) {
	t.Helper()
	w := api.FromObservation(&o)
	again, rej := Validate(&w, opts)
	if rej != nil {
		t.Fatalf("re-validating %+v: got rejection %v, want none", w, rej)
	}
	if !reflect.DeepEqual(again, o) {
		t.Fatalf("re-validating: got %+v, want %+v", again, o)
	}
}

func TestValidateDefaults(t *testing.T) {
	w := wire()
	o, rej := Validate(&w, testOpts)
	if rej != nil {
		t.Fatal(rej)
	}
	want := truce.Observation{
		Source: "osce-smm", SourceID: "r-1", Method: truce.MethodHeard, Category: truce.CategoryExplosion,
		Count:       1,
		Time:        time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC),
		Location:    &truce.Location{Point: geo.Pt(48.1, 37.7), CEP: 500},
		Reliability: 'F', Credibility: 6,
		Marking: truce.Marking{TLP: truce.TLPAmber},
	}
	want = want.Canonical()
	if !reflect.DeepEqual(o, want) {
		t.Errorf("got %+v, want %+v", o, want)
	}
}

func TestValidateCanonical(t *testing.T) {
	w := observerWire()
	w.Time = "2026-11-25T22:00:00.1234567+02:00"
	w.TimeUncertaintyS = f64(1.0000004)
	w.Observer.Lat = f64(89.99999999)
	w.BearingDeg = f64(359.9999)
	w.DistanceM = []float64{0.0004, 10.0006}
	w.FireBearingDeg = f64(12.3456)
	w.Marking = &api.Marking{TLP: "green", RelTo: []string{"UA", "GBR", "UA"}}
	o, rej := Validate(&w, testOpts)
	if rej != nil {
		t.Fatal(rej)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"time", o.Time, time.Date(2026, 11, 25, 20, 0, 0, 123457000, time.UTC)},
		{"time uncertainty", o.TimeUncertainty, time.Second},
		{"observer lat", o.Observer.Point.Lat, truce.Round(90, truce.DegreeUnit)},
		{"bearing wraps to 0", o.Observer.Bearing, 0.0},
		{"distance min", o.Observer.DistanceMin, 0.0},
		{"distance max", o.Observer.DistanceMax, truce.Round(10.001, truce.MetreUnit)},
		{"fire bearing", o.FireBearing, truce.Round(12.346, truce.BearingUnit)},
		{"marking", o.Marking.String(), "TLP:GREEN REL TO GBR, UA"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	checkRoundTrip(t, o, testOpts)
}

func TestRejectionError(t *testing.T) {
	tests := []struct {
		r    Rejection
		want string
	}{
		{Rejection{Index: 3, Line: 4, Field: "lat", Reason: "91 is outside [-90, 90]"}, "record 3 (line 4): lat: 91 is outside [-90, 90]"},
		{Rejection{Index: 0, Line: 1, Reason: "is not valid JSON"}, "record 0 (line 1): is not valid JSON"},
	}
	for _, tt := range tests {
		if got := tt.r.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
