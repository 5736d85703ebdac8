package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/deconflict"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

// pos is one wire position, at minutes after the test clock.
type pos struct {
	unit, nation, domain string
	minutes              int
	lat, lon, alt        float64
}

func (p pos) json() string {
	return fmt.Sprintf(`{"unit":%q,"nation":%q,"domain":%q,"time":%q,"lat":%g,"lon":%g,"alt_m":%g}`,
		p.unit, p.nation, p.domain, testNow.Add(time.Duration(p.minutes)*time.Minute).Format(time.RFC3339), p.lat, p.lon, p.alt)
}

func tracksBody(ps ...pos) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.json()
	}
	return `{"positions":[` + strings.Join(parts, ",") + `]}`
}

func postTracksRq(token, body string) request {
	return request{method: "POST", path: "/api/v1/tracks", token: token, contentType: "application/json", body: body}
}

// report posts positions, checks the answer is 200 and returns it.
func (e *testEnv) report(t *testing.T, token string, ps ...pos) tracksAnswer {
	t.Helper()
	resp, b := e.do(t, postTracksRq(token, tracksBody(ps...)))
	var res tracksAnswer
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &res) != nil {
		t.Fatalf("POST tracks: got %d %s, want 200", resp.StatusCode, b)
	}
	if res.Accepted != len(ps) {
		t.Errorf("POST tracks: accepted %d, want %d", res.Accepted, len(ps))
	}
	return res
}

// alertSummary is an alert as "kind unit activity|zone|other".
func alertSummary(a api.TrackAlert) string {
	return strings.TrimSpace(fmt.Sprintf("%s %s %s%s%s", a.Kind, a.Unit, a.Activity, a.Zone, a.Other))
}

func alertSummaries(as []api.TrackAlert) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, alertSummary(a))
	}
	return out
}

// journalKinds returns the kinds of the journal's entries after seq.
func (e *testEnv) journalKinds(t *testing.T, after uint64) []string {
	t.Helper()
	var out []string
	if err := e.db.Entries(context.Background(), after, 0, func(en *journal.Entry, _ []byte) error {
		out = append(out, string(en.Kind))
		return nil
	}); err != nil {
		t.Fatalf("Entries: %v", err)
	}
	return out
}

// TestTracksJournaled: a batch is one tracks entry holding every position.
func TestTracksJournaled(t *testing.T) {
	e := newForceEnv(t, nil)
	sensor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleSensor)
	head := e.head(t)
	batch := []pos{
		{"GBR-1", "GBR", "land", 1, far[0], far[1], 0},
		{"FRA-1", "FRA", "sea", 1, 46.0, 31.0, 0},
		{"GBR-1", "GBR", "land", 2, far[0] + 0.01, far[1], 0},
	}
	res := e.report(t, sensor, batch...)
	if res.Seq != head+1 || len(res.Alerts) != 0 {
		t.Errorf("answer: seq %d alerts %v, want seq %d and no alerts", res.Seq, res.Alerts, head+1)
	}
	var got []truce.Position
	var org truce.OrgID
	if err := e.db.Entries(context.Background(), head, 0, func(en *journal.Entry, _ []byte) error {
		if en.Kind != journal.KindTracks {
			t.Errorf("entry %d: kind %s, want tracks", en.Seq, en.Kind)
		}
		got, org = slices.Clone(en.Tracks), en.Org
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(batch) || org != "MISSION" {
		t.Fatalf("journaled %d positions by %s, want %d by MISSION", len(got), org, len(batch))
	}
	for i, p := range batch {
		g := got[i]
		if g.Unit != p.unit || string(g.Nation) != p.nation || string(g.Domain) != p.domain ||
			!g.Time.Equal(testNow.Add(time.Duration(p.minutes)*time.Minute)) || g.Point.Lat != p.lat || g.Point.Lon != p.lon {
			t.Errorf("position %d: journaled %+v, want %+v", i, g, p)
		}
	}
}

// TestTracksConformance: a unit of an active activity leaving its volume,
// then returning.
func TestTracksConformance(t *testing.T) {
	e := newForceEnv(t, nil)
	gbr := e.token(t, "GBR", truce.OrgNation, truce.RolePlanner)
	sensor := e.token(t, "GBR", truce.OrgNation, truce.RoleSensor)
	reader := e.token(t, "GBR", truce.OrgNation, truce.RoleViewer)
	// A 3 km circle at 1,000-2,000 m for two hours from the test clock;
	// the air margin is 5 km.
	e.doActivity(t, postPlanRq(gbr, plan{id: "orbit", unit: "GBR-SENTINEL", prio: 5, at: far}.body()), http.StatusCreated)
	e.doActivity(t, transitionRq(gbr, "orbit", "activate", 1, false), http.StatusOK)
	centre := geo.Pt(far[0], far[1])
	out := geo.Destination(centre, 90, 20e3) // 17 km outside the circle
	edge := geo.Destination(centre, 90, 7e3) // 4 km outside, inside the margin

	tests := []struct {
		name       string
		at         geo.Point
		alt        float64
		minutes    int
		want       []string
		distance   float64 // of the alert, metres; 0: not checked
		state      string
		version    int
		newEntries []string // journal kinds after the request
	}{
		{"inside", centre, 1500, 5, []string{}, 0, "active", 2, []string{"tracks"}},
		{"within the margin", edge, 1500, 6, []string{}, 0, "active", 2, []string{"tracks"}},
		{"outside", out, 1500, 7, []string{"nonconforming GBR-SENTINEL orbit"}, 17e3, "nonconforming", 3, []string{"tracks", "track_alert", "activity"}},
		{"still outside", out, 1500, 8, []string{}, 0, "nonconforming", 3, []string{"tracks"}},
		{"back", centre, 1500, 9, []string{"conforming GBR-SENTINEL orbit"}, 0, "active", 4, []string{"tracks", "track_alert", "activity"}},
		{"above the band", centre, 2500, 10, []string{"nonconforming GBR-SENTINEL orbit"}, 0, "nonconforming", 5, []string{"tracks", "track_alert", "activity"}},
		{"older position", out, 1500, 1, []string{}, 0, "nonconforming", 5, []string{"tracks"}},
		{"back in the band", centre, 1800, 11, []string{"conforming GBR-SENTINEL orbit"}, 0, "active", 6, []string{"tracks", "track_alert", "activity"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := e.head(t)
			res := e.report(t, sensor, pos{"GBR-SENTINEL", "GBR", "air", tt.minutes, tt.at.Lat, tt.at.Lon, tt.alt})
			if got := alertSummaries(res.Alerts); !slices.Equal(got, tt.want) {
				t.Errorf("alerts: got %q, want %q", got, tt.want)
			}
			if tt.distance > 0 && len(res.Alerts) == 1 && math.Abs(res.Alerts[0].DistanceM-tt.distance) > 1 {
				t.Errorf("distance: got %.3f m, want %.0f m", res.Alerts[0].DistanceM, tt.distance)
			}
			got, _ := e.doActivity(t, getActivityRq(reader, "orbit"), http.StatusOK)
			if got.State != tt.state || got.Version != tt.version {
				t.Errorf("activity: got %s at version %d, want %s at %d", got.State, got.Version, tt.state, tt.version)
			}
			if kinds := e.journalKinds(t, head); !slices.Equal(kinds, tt.newEntries) {
				t.Errorf("journaled %q, want %q", kinds, tt.newEntries)
			}
		})
	}
}

// TestTracksAlerts: the keep-out band and proximity between aircraft of
// different nations.
func TestTracksAlerts(t *testing.T) {
	e := newForceEnv(t, nil)
	sensor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleSensor)
	a := geo.Pt(49.0, 36.0)
	twoKm := geo.Destination(a, 90, 2000)
	tenKm := geo.Destination(a, 90, 10e3)
	elsewhere := geo.Pt(49.5, 35.0) // 55 km from a
	elsewhere2Km := geo.Destination(elsewhere, 0, 2000)
	tests := []struct {
		name  string
		batch []pos
		want  []string
	}{
		{"patrol enters the band", []pos{{"GBR-PATROL", "GBR", "land", 1, far[0], far[1], 0}, {"GBR-PATROL", "GBR", "land", 2, nearLine[0], nearLine[1], 0}},
			[]string{"keep_out GBR-PATROL coalition-keep-out"}},
		{"patrol stays in the band", []pos{{"GBR-PATROL", "GBR", "land", 3, nearLine[0] + 0.001, nearLine[1], 0}}, []string{}},
		{"two nations 2 km apart", []pos{{"GBR-JET", "GBR", "air", 1, a.Lat, a.Lon, 3000}, {"FRA-JET", "FRA", "air", 1, twoKm.Lat, twoKm.Lon, 3000}},
			[]string{"proximity FRA-JET GBR-JET"}},
		{"one nation 2 km apart", []pos{{"GBR-JET3", "GBR", "air", 1, elsewhere.Lat, elsewhere.Lon, 3000}, {"GBR-JET4", "GBR", "air", 1, elsewhere2Km.Lat, elsewhere2Km.Lon, 3000}}, []string{}},
		{"two nations 10 km apart", []pos{{"DEU-JET", "DEU", "air", 1, tenKm.Lat, tenKm.Lon, 3000}}, []string{}},
		{"two nations 2 km apart, 1,000 m above", []pos{{"POL-JET", "POL", "air", 1, twoKm.Lat, twoKm.Lon, 4000}}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := e.head(t)
			res := e.report(t, sensor, tt.batch...)
			if got := alertSummaries(res.Alerts); !slices.Equal(got, tt.want) {
				t.Errorf("alerts: got %q, want %q", got, tt.want)
			}
			wantKinds := []string{"tracks"}
			for range tt.want {
				wantKinds = append(wantKinds, "track_alert")
			}
			if kinds := e.journalKinds(t, head); !slices.Equal(kinds, wantKinds) {
				t.Errorf("journaled %q, want %q", kinds, wantKinds)
			}
		})
	}
}

// TestTracksRefused: bad, forbidden and oversized batches journal nothing.
func TestTracksRefused(t *testing.T) {
	e := newForceEnv(t, func(c *Config) { c.MaxRecords = 5 })
	coalition := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleSensor)
	gbrSensor := e.token(t, "GBR", truce.OrgNation, truce.RoleSensor)
	gbrViewer := e.token(t, "GBR", truce.OrgNation, truce.RoleViewer)
	liaison := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison)
	good := pos{"GBR-1", "GBR", "land", 1, far[0], far[1], 0}
	six := strings.Repeat(good.json()+",", 5) + good.json()
	tests := []struct {
		name, token, body string
		want              int
		words             []string // the error names them
	}{
		{"missing lat", coalition, `{"positions":[` + good.json() + `,` + strings.Replace(good.json(), fmt.Sprintf(`"lat":%g,`, far[0]), "", 1) + `]}`, 400, []string{"positions[1].lat", "required"}},
		{"missing lon", coalition, `{"positions":[` + strings.Replace(good.json(), fmt.Sprintf(`,"lon":%g`, far[1]), "", 1) + `]}`, 400, []string{"positions[0].lon"}},
		{"bad domain", coalition, `{"positions":[` + good.json() + `,` + good.json() + `,` + strings.Replace(good.json(), `"land"`, `"space"`, 1) + `]}`, 400, []string{"positions[2]", ".domain"}},
		{"bad time", coalition, `{"positions":[` + strings.Replace(good.json(), testNow.Add(time.Minute).Format(time.RFC3339), "yesterday", 1) + `]}`, 400, []string{"positions[0].time", "RFC 3339"}},
		{"latitude out of range", coalition, `{"positions":[` + strings.Replace(good.json(), fmt.Sprintf(`"lat":%g`, far[0]), `"lat":91`, 1) + `]}`, 400, []string{"positions[0]"}},
		{"no positions", coalition, `{"positions":[]}`, 400, []string{"positions"}},
		{"not json", coalition, `{"positions":`, 400, []string{"body"}},
		{"another nation's units", gbrSensor, tracksBody(good, pos{"FRA-1", "FRA", "land", 1, far[0], far[1], 0}), 403, []string{"FRA", "positions[1]"}},
		{"viewer", gbrViewer, tracksBody(good), 403, []string{"viewer"}},
		{"party", liaison, tracksBody(good), 403, []string{"liaison"}},
		{"more than MaxRecords", coalition, `{"positions":[` + six + `]}`, 413, []string{"6 positions", "5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := e.head(t)
			e.wantError(t, postTracksRq(tt.token, tt.body), tt.want, tt.words...)
			if h := e.head(t); h != head {
				t.Errorf("journaled %d entries, want none", h-head)
			}
		})
	}
	// The same batches, put right, are accepted: the cases above fail for
	// what they change alone.
	e.report(t, coalition, good, good)
	e.report(t, gbrSensor, good)
	e.report(t, coalition, good, good, good, good, good)
}

// TestTracksList: the last position of each unit.
func TestTracksList(t *testing.T) {
	e := newForceEnv(t, nil)
	sensor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleSensor)
	reader := e.token(t, "FRA", truce.OrgNation, truce.RoleViewer)
	liaison := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison)
	e.report(t, sensor,
		pos{"GBR-2", "GBR", "land", 1, 48.10, 34.0, 0},
		pos{"FRA-1", "FRA", "air", 2, 48.20, 34.1, 1200},
		pos{"GBR-2", "GBR", "land", 3, 48.11, 34.0, 0})
	e.report(t, sensor, pos{"GBR-2", "GBR", "land", 2, 48.12, 34.0, 0}) // older: passed over
	want := []api.Position{
		{Unit: "FRA-1", Nation: "FRA", Domain: "air", Time: testNow.Add(2 * time.Minute).Format(time.RFC3339Nano), Lat: ptr(48.20), Lon: ptr(34.1), AltM: ptr(1200.0)},
		{Unit: "GBR-2", Nation: "GBR", Domain: "land", Time: testNow.Add(3 * time.Minute).Format(time.RFC3339Nano), Lat: ptr(48.11), Lon: ptr(34.0), AltM: ptr(0.0)},
	}
	resp, b := e.do(t, request{method: "GET", path: "/api/v1/tracks", token: reader})
	var got unitsAnswer
	if resp.StatusCode != 200 || json.Unmarshal(b, &got) != nil {
		t.Fatalf("GET tracks: got %d %s, want 200", resp.StatusCode, b)
	}
	if g, w := fmt.Sprint(derefPositions(got.Units)), fmt.Sprint(derefPositions(want)); g != w {
		t.Errorf("units: got %s, want %s", g, w)
	}
	e.wantError(t, request{method: "GET", path: "/api/v1/tracks", token: liaison}, http.StatusForbidden)
	e.wantError(t, request{method: "GET", path: "/api/v1/tracks?unit=GBR-2", token: reader}, http.StatusBadRequest, "unit")
}

// derefPositions returns the positions as "unit nation domain time lat lon
// alt".
func derefPositions(ps []api.Position) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		alt := "none"
		if p.AltM != nil {
			alt = fmt.Sprint(*p.AltM)
		}
		out[i] = fmt.Sprint(p.Unit, " ", p.Nation, " ", p.Domain, " ", p.Time, " ", *p.Lat, " ", *p.Lon, " ", alt)
	}
	return out
}

// BenchmarkTracksHTTP posts batches of 1,000 positions over loopback HTTP
// to a server with a real SQLite store (a temporary file) and a Monitor
// over the donbas example, from 1 and 4 concurrent clients on keep-alive
// connections. 2,000 aircraft of eight nations fly far from the line;
// 1,000 of them have an active activity (a 4 km circle in one of ten
// altitude bands, for the day: 100 sites 14 km or more apart, so that the
// plans do not conflict) and report positions inside it, except one
// position in 500, which strays 30 km out (nonconforming, then conforming
// when it returns); the other 1,000 fly free, 6 km or more apart and
// above the others. Each request holds 500 of each. Every position is
// checked against every zone closed to it, its unit's activity, and
// aircraft of other nations for proximity. It reports positions per
// second and alerts per request.
//
// area=agreement flies them inside the agreement's bound, 85 km or more
// west of the line, where the agreement's grid index classifies points;
// area=west flies them in western Ukraine, outside the bound of every
// zone, where the monitor knows without classifying that no zone holds
// them (agreement.Index would classify them exactly, and slowly, there).
//
//	go test ./internal/httpapi -run '^$' -bench TracksHTTP -benchtime 200x
func BenchmarkTracksHTTP(b *testing.B) {
	for _, area := range []struct {
		name       string
		site, free geo.Point // south-west corners of the grids
	}{
		{"agreement", geo.Pt(48.6, 32.0), geo.Pt(48.0, 31.0)},
		{"west", geo.Pt(49.0, 28.0), geo.Pt(46.0, 23.0)},
	} {
		for _, clients := range []int{1, 4} {
			b.Run(fmt.Sprintf("area=%s/clients=%d", area.name, clients), func(b *testing.B) { benchmarkTracksHTTP(b, clients, area.site, area.free) })
		}
	}
}

func benchmarkTracksHTTP(b *testing.B, clients int, site0, free0 geo.Point) {
	const (
		batch   = 1000
		units   = 2000 // even: with an activity; odd: free
		planned = units / 2
	)
	force, planner := withForce(b, donbasAgreement)
	e := newEnv(b, func(c *Config) { c.Now = time.Now; force(c) })
	token := e.token(b, "MISSION", truce.OrgCoalition, truce.RoleSensor)
	// Nations without caveats in the example (DEU and ITA have some).
	nations := []truce.NationID{"GBR", "FRA", "POL", "ROU", "NLD", "DNK", "NOR", "USA"}
	day := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	// Activity j: site j%100 on a 10 x 10 grid (0.15 degrees of latitude
	// by 0.2 of longitude, about 16.7 by 14.5 km: 6 km between circles,
	// more than the 5 km air margin), band j/100 (1,000 m apart, 500 m
	// deep: 500 m between bands, more than the 300 m vertical margin).
	site := func(j int) geo.Point {
		return geo.Pt(site0.Lat+float64(j%100%10)*0.15, site0.Lon+float64(j%100/10)*0.2)
	}
	band := func(j int) float64 { return float64(j/100) * 1000 }
	// Free unit v: a 40 x 25 grid 0.06 by 0.1 degrees (6.6 km or more),
	// at 11,000 m.
	free := func(v int) geo.Point { return geo.Pt(free0.Lat+float64(v%40)*0.06, free0.Lon+float64(v/40)*0.1) }
	unitName := func(u int) string { return fmt.Sprintf("unit-%04d", u) }
	for j := range planned {
		u := 2 * j
		a := truce.Activity{ID: fmt.Sprintf("bench-%04d", j), Nation: nations[u%len(nations)], Unit: unitName(u),
			Domain: truce.DomainAir, Kind: truce.ActivityPatrol, Priority: 3,
			Volumes: []truce.Volume{{Footprint: truce.Footprint{Circle: &geo.Cap{Center: site(j), Radius: 4e3}}, MinAlt: band(j), MaxAlt: band(j) + 500,
				Period: truce.TimeRange{From: day, Until: day.Add(24 * time.Hour)}}}}
		got, err := planner.Propose(a, func(truce.Activity) error { return nil })
		if err != nil || got.State != truce.ActivityAccepted {
			b.Fatalf("propose %s: %s %v %+v", a.ID, got.State, err, got.Conflicts)
		}
		if _, err := planner.Transition(a.ID, 1, truce.ActivityActive, func(truce.Activity) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	if n := len(planner.Activities(deconflict.Filter{States: []truce.ActivityState{truce.ActivityActive}})); n != planned {
		b.Fatalf("%d active activities, want %d", n, planned)
	}
	// Request n: units (n*batch + i) mod units, at one time a second
	// apart from request to request.
	body := func(n int) []byte {
		var buf bytes.Buffer
		buf.WriteString(`{"positions":[`)
		at := day.Add(time.Hour + time.Duration(n)*time.Second)
		for i := range batch {
			u := (n*batch + i) % units
			var p geo.Point
			var alt float64
			if u%2 == 0 {
				j := u / 2
				p, alt = geo.Destination(site(j), float64((n*37+i)%360), 300), band(j)+250
				if (n+i)%500 == 0 {
					p = geo.Destination(site(j), 0, 30e3)
				}
			} else {
				p, alt = geo.Destination(free(u/2), float64((n*37+i)%360), 300), 11000
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"unit":%q,"nation":%q,"domain":"air","time":%q,"lat":%.6f,"lon":%.6f,"alt_m":%g}`,
				unitName(u), nations[u%len(nations)], at.Format(time.RFC3339Nano), p.Lat, p.Lon, alt)
		}
		buf.WriteString(`]}`)
		return buf.Bytes()
	}
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = body(i)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	var (
		next   atomic.Int64
		failed atomic.Value
		alerts atomic.Int64
	)
	run := func() {
		for {
			n := next.Add(1) - 1
			if n >= int64(b.N) {
				return
			}
			req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/tracks", bytes.NewReader(bodies[n]))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				failed.Store(err)
				return
			}
			var res tracksAnswer
			err = json.NewDecoder(resp.Body).Decode(&res)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || err != nil || res.Accepted != batch {
				failed.Store(fmt.Errorf("status %d, accepted %d, %v", resp.StatusCode, res.Accepted, err))
				return
			}
			alerts.Add(int64(len(res.Alerts)))
		}
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(run)
	}
	wg.Wait()
	b.StopTimer()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "positions/s")
	b.ReportMetric(float64(alerts.Load())/float64(b.N), "alerts/op")
}
