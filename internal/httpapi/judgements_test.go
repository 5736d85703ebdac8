package httpapi

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// judgementTime is when the judgement fixtures happen: half an hour before
// the journal's clock (testNow), inside the agreement's one-hour window.
var judgementTime = testNow.Add(-30 * time.Minute)

// judgementFixture is one observation of the judgement scenario.
type judgementFixture struct {
	incident string // the fixture incident it belongs to
	org      truce.OrgID
	obs      truce.Observation
}

func observed(source, id string, m truce.Method, c truce.Category, w truce.WeaponClass, lat, lon float64) truce.Observation {
	o := fixture(source, id, green)
	o.Method, o.Category, o.Weapon = m, c, w
	o.Time = judgementTime
	o.Location.Point = geo.Point{Lat: lat, Lon: lon}
	return o.Canonical()
}

// judgementFixtures is the scenario of the judgement tests, along the
// simple test agreement (internal/agreement/testdata/simple: the line on
// the 36th meridian, UA west and RU east, sector north from 48 to 49.2
// degrees of latitude and south from 46.8 to 48, the MLRS withdrawal zone
// 10 km deep on the UA side, a water station protected 3 km around 48.2 N
// 36.1 E; one-hour window with TENSE at 2, SERIOUS at 6, CRITICAL at 15;
// weights medium 2, high 5; two sectors CRITICAL fire the trigger). What
// the engine should make of it, worked out by hand:
//
//	A  a patrol and a camera see artillery (100 mm+) fire from 48.5 N 36.3 E,
//	   22 km east of the line: one incident, origin known, attributed to RU;
//	   ceasefire, high (heavy weapon), north.
//	B  an MLRS seen at 48.3 N 35.9 E, 7.4 km west of the line, inside UA's
//	   10 km MLRS zone: withdrawal wz-mlrs, high, UA, north.
//	C  UA's complaint of an impact at 47.5 N 35.7 E, alone: unverified,
//	   claimant UA; ceasefire, medium, undetermined, south.
//	D  three artillery (100 mm+) impacts at 47.2, 47.3 and 47.4 N 35.6 E:
//	   ceasefire, high, undetermined, south, each.
//	E  an artillery (100 mm+) impact at the water station: ceasefire and
//	   protected_site pump, high, undetermined, north.
//
// North scores 5 (A) + 5 (B) + 10 (E) = 20 and south 15 (D): C, a party's
// claim alone, is judged but moves no alert level (it would have made 17).
// Both CRITICAL since 11:30, when the fire happened (escalation runs on
// event time), and the trigger stands.
func judgementFixtures() []judgementFixture {
	const (
		art  = truce.WeaponArtillery100Plus
		seen = truce.MethodSeen
	)
	c := observed("ua-mod", "c1", truce.MethodPartyReport, truce.CategoryImpact, "", 47.5, 35.7)
	c.Party = "UA"
	return []judgementFixture{
		{"A", "MISSION", observed("patrol-a", "a1", seen, truce.CategoryOutgoingFire, art, 48.5, 36.3)},
		{"A", "MISSION", observed("cam-a", "a2", truce.MethodCamera, truce.CategoryOutgoingFire, art, 48.5, 36.3)},
		{"B", "MISSION", observed("patrol-b", "b1", seen, truce.CategoryWeaponSighting, truce.WeaponMLRS, 48.3, 35.9)},
		{"C", "UA", c},
		{"D1", "MISSION", observed("patrol-d", "d1", seen, truce.CategoryImpact, art, 47.2, 35.6)},
		{"D2", "MISSION", observed("patrol-d", "d2", seen, truce.CategoryImpact, art, 47.3, 35.6)},
		{"D3", "MISSION", observed("patrol-d", "d3", seen, truce.CategoryImpact, art, 47.4, 35.6)},
		{"E", "MISSION", observed("patrol-e", "e1", seen, truce.CategoryImpact, art, 48.2, 36.1)},
	}
}

// judgementScenario journals the fixtures one at a time, waiting for the
// engine to judge each, and returns the id of each fixture incident's
// incident, by name.
func judgementScenario(t testing.TB, e *testEnv) map[string]string {
	t.Helper()
	byObs := map[uint64]string{}
	for _, f := range judgementFixtures() {
		byObs[e.appendJudged(t, f.org, f.obs)[0]] = f.incident
	}
	ids := map[string]string{}
	for _, r := range allRecords(t, e) {
		name := byObs[r.Observations[0].ID]
		if name == "" {
			continue
		}
		for _, ref := range r.Observations {
			if byObs[ref.ID] != name {
				t.Fatalf("incident %s mixes fixtures %s and %s", r.ID, name, byObs[ref.ID])
			}
		}
		ids[name] = r.ID
	}
	if len(ids) != 7 {
		t.Fatalf("the scenario made incidents %v, want A, B, C, D1, D2, D3 and E", ids)
	}
	return ids
}

// allRecords returns every incident a coalition analyst sees.
func allRecords(t testing.TB, e *testEnv) []truce.Incident {
	var out []truce.Incident
	q := engineQueryAll()
	for {
		recs, next := e.eng.Incidents(q)
		for _, r := range recs {
			out = append(out, r.Incident)
		}
		if next.IsZero() {
			return out
		}
		q.After = next
	}
}

// TestJudgements checks what the judgement routes answer for the scenario
// of judgementFixtures: each filter, pagination, and the sectors.
func TestJudgements(t *testing.T) {
	e := newJudgingEnv(t, nil)
	analyst := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst)
	ids := judgementScenario(t, e)
	e.settle(t) // two markers: damage outside every sector, no violation
	nameOf := map[string]string{}
	for name, id := range ids {
		nameOf[id] = name
	}
	names := func(path string) []string {
		t.Helper()
		var out []string
		resp, b := e.do(t, request{method: "GET", path: path, token: analyst})
		if resp.StatusCode != 200 {
			t.Fatalf("%s: got %d %s", path, resp.StatusCode, b)
		}
		if strings.HasPrefix(path, "/api/v1/violations") {
			var page violationPage
			if err := json.Unmarshal(b, &page); err != nil {
				t.Fatal(err)
			}
			for _, v := range page.Violations {
				out = append(out, nameOf[v.Incident]+" "+v.Rule)
			}
		} else {
			var page incidentPage
			if err := json.Unmarshal(b, &page); err != nil {
				t.Fatal(err)
			}
			for _, inc := range page.Incidents {
				if n := nameOf[inc.ID]; n != "" {
					out = append(out, n)
				}
			}
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		path string
		want string
	}{
		{"/api/v1/incidents", "A B C D1 D2 D3 E"},
		{"/api/v1/incidents?party=RU", "A"},
		{"/api/v1/incidents?party=UA", "B"},
		{"/api/v1/incidents?party=none", "C D1 D2 D3 E"},
		{"/api/v1/incidents?party=RU,UA", "A B"},
		{"/api/v1/incidents?category=outgoing_fire&category=weapon_sighting", "A B"},
		{"/api/v1/incidents?status=unverified", "C"},
		{"/api/v1/incidents?sector=south", "C D1 D2 D3"},
		{"/api/v1/incidents?sector=north", "A B E"},
		{"/api/v1/incidents?bbox=35.5,47.15,35.65,47.35", "D1 D2"},
		{"/api/v1/incidents?from=2026-03-01T11:00:00Z&to=2026-03-01T12:00:00Z", "A B C D1 D2 D3 E"},
		{"/api/v1/incidents?to=2026-03-01T11:00:00Z", ""},
		{"/api/v1/violations", "A ceasefire B withdrawal C ceasefire D1 ceasefire D2 ceasefire D3 ceasefire E ceasefire E protected_site"},
		{"/api/v1/violations?rule=protected_site,withdrawal", "B withdrawal E protected_site"},
		{"/api/v1/violations?severity=medium", "C ceasefire"},
		{"/api/v1/violations?party=RU&party=UA", "A ceasefire B withdrawal"},
		{"/api/v1/violations?sector=north&rule=ceasefire", "A ceasefire E ceasefire"},
		{"/api/v1/violations?from=2026-03-01T12:00:00Z", ""},
	} {
		want := strings.Fields(c.want)
		if strings.HasPrefix(c.path, "/api/v1/violations") {
			want = nil
			f := strings.Fields(c.want)
			for i := 0; i+1 < len(f); i += 2 {
				want = append(want, f[i]+" "+f[i+1])
			}
		}
		if got := names(c.path); !slices.Equal(got, want) {
			t.Errorf("%s:\ngot  %q\nwant %q", c.path, got, want)
		}
	}

	// One incident in full.
	resp, b := e.do(t, request{method: "GET", path: "/api/v1/incidents/" + ids["A"], token: analyst})
	if resp.StatusCode != 200 {
		t.Fatalf("get A: got %d %s", resp.StatusCode, b)
	}
	var a api.Incident
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if a.Party != "RU" || a.Category != "outgoing_fire" || a.Weapon != "artillery_100mm_plus" || a.Origin == nil ||
		len(a.Observations) != 2 || a.Observations[0].Source != "patrol-a" || a.Observations[1].Method != "camera" ||
		a.Observations[0].Marking == nil || a.Observations[0].Marking.TLP != "GREEN" || a.Observations[0].Org != "MISSION" ||
		len(a.Violations) != 1 || a.Violations[0].Rule != "ceasefire" || a.Violations[0].Severity != "high" ||
		a.Violations[0].Party != "RU" || a.Violations[0].Sector != "north" || a.Violations[0].Explanation == "" ||
		a.Likelihood == "" || a.Confidence <= 0 || a.Confidence > 1 || a.Start != "2026-03-01T11:30:00Z" {
		t.Errorf("incident A: %s", b)
	}
	resp, b = e.do(t, request{method: "GET", path: "/api/v1/incidents/" + ids["C"], token: analyst})
	var c api.Incident
	if resp.StatusCode != 200 || json.Unmarshal(b, &c) != nil || c.Status != "unverified" || !slices.Equal(c.Claimants, []string{"UA"}) || c.Party != "" {
		t.Errorf("incident C: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.do(t, request{method: "GET", path: "/api/v1/incidents/inc-nothing", token: analyst}); resp.StatusCode != 404 {
		t.Errorf("missing incident: got %d %s, want 404", resp.StatusCode, b)
	}

	// Pages of one: every incident once, in order of start, then id.
	var paged []string
	path := "/api/v1/incidents?limit=1"
	for range 20 {
		resp, b := e.do(t, request{method: "GET", path: path, token: analyst})
		var page incidentPage
		if resp.StatusCode != 200 || json.Unmarshal(b, &page) != nil || len(page.Incidents) > 1 {
			t.Fatalf("%s: got %d %s", path, resp.StatusCode, b)
		}
		for _, inc := range page.Incidents {
			paged = append(paged, inc.ID)
		}
		if page.NextCursor == "" {
			break
		}
		path = "/api/v1/incidents?limit=1&cursor=" + url.QueryEscape(page.NextCursor)
	}
	if len(paged) != 9 || len(slices.Compact(slices.Sorted(slices.Values(paged)))) != 9 {
		t.Errorf("pages of one: got %q, want the 7 incidents and the 2 markers, once each", paged)
	}

	// The sectors, worked out above.
	resp, b = e.do(t, request{method: "GET", path: "/api/v1/sectors", token: analyst})
	var sec sectorsAnswer
	if resp.StatusCode != 200 || json.Unmarshal(b, &sec) != nil {
		t.Fatalf("sectors: got %d %s", resp.StatusCode, b)
	}
	want := sectorsAnswer{
		Sectors: []api.SectorLevel{
			{Sector: "north", Name: "North", Level: "CRITICAL", Since: "2026-03-01T11:30:00Z", Windows: []api.LevelWindow{{DurationS: 3600, Score: 20, Tense: 2, Serious: 6, Critical: 15}}},
			{Sector: "south", Name: "South", Level: "CRITICAL", Since: "2026-03-01T11:30:00Z", Windows: []api.LevelWindow{{DurationS: 3600, Score: 15, Tense: 2, Serious: 6, Critical: 15}}},
		},
		Hysteresis:        0.5,
		RenewedAggression: renewedAggression{Triggered: true, CriticalSectors: 2, Critical: []string{"north", "south"}},
	}
	gotJSON, _ := json.Marshal(sec)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("sectors:\ngot  %s\nwant %s", gotJSON, wantJSON)
	}
}

// TestJudgementsWithoutEngine: without an agreement the judgement routes
// answer 503 and say why; the stream still serves the journal.
func TestJudgementsWithoutEngine(t *testing.T) {
	e := newEnv(t, nil)
	analyst := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst)
	for _, path := range []string{"/api/v1/incidents", "/api/v1/incidents/inc-1", "/api/v1/violations", "/api/v1/sectors"} {
		resp, b := e.do(t, request{method: "GET", path: path, token: analyst})
		var eb errorBody
		if resp.StatusCode != 503 || json.Unmarshal(b, &eb) != nil || eb.Error != noAgreement {
			t.Errorf("%s: got %d %s, want 503 %q", path, resp.StatusCode, b, noAgreement)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := e.openStream(t, ctx, analyst, "", "?after=0")
	ids := e.appendObservations(t, "MISSION", fixture("s", "1", green))
	readIDs(t, r, ids)
}

// TestJudgementParameters: every bad parameter is answered 400 naming it.
func TestJudgementParameters(t *testing.T) {
	e := newJudgingEnv(t, nil)
	analyst := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst)
	incCursor := encodeEngineCursor(incidentCursor, cursorAt("inc-1"))
	for _, c := range []struct{ path, field string }{
		{"/api/v1/incidents?from=yesterday", "from"},
		{"/api/v1/incidents?from=2026-03-01T12:00:00Z&to=2026-03-01T11:00:00Z", "to"},
		{"/api/v1/incidents?bbox=1,2,3", "bbox"},
		{"/api/v1/incidents?category=kaboom", "category"},
		{"/api/v1/incidents?status=rumoured", "status"},
		{"/api/v1/incidents?sector=east", "sector"},
		{"/api/v1/incidents?party=XX", "party"},
		{"/api/v1/incidents?party=", "party"},
		{"/api/v1/incidents?limit=0", "limit"},
		{"/api/v1/incidents?limit=1001", "limit"},
		{"/api/v1/incidents?limit=1&limit=2", "limit"},
		{"/api/v1/incidents?cursor=zzz", "cursor"},
		{"/api/v1/incidents?cursor=" + encodeCursor(3), "cursor"},
		{"/api/v1/incidents?rule=ceasefire", "rule"},
		{"/api/v1/violations?rule=peace", "rule"},
		{"/api/v1/violations?severity=grave", "severity"},
		{"/api/v1/violations?cursor=" + incCursor, "cursor"},
		{"/api/v1/violations?status=verified", "status"},
		{"/api/v1/violations?bbox=35,47,36,48", "bbox"},
		{"/api/v1/sectors?sector=north", "sector"},
	} {
		resp, b := e.do(t, request{method: "GET", path: c.path, token: analyst})
		var eb errorBody
		if resp.StatusCode != 400 || json.Unmarshal(b, &eb) != nil || !strings.HasPrefix(eb.Error, c.field+":") && !strings.Contains(eb.Error, c.field) {
			t.Errorf("%s: got %d %s, want 400 naming %s", c.path, resp.StatusCode, b, c.field)
		}
	}
	// A cursor survives the round trip.
	for _, c := range []string{"inc-1", "inc with spaces", "x"} {
		got, err := decodeEngineCursor(incidentCursor, encodeEngineCursor(incidentCursor, cursorAt(c)))
		if err != nil || got.ID != c || !got.Start.Equal(judgementTime) {
			t.Errorf("cursor %q: got %+v, %v", c, got, err)
		}
	}
}

func cursorAt(id string) engine.Cursor { return engine.Cursor{Start: judgementTime, ID: id} }

// engineQueryAll selects every incident a coalition analyst sees: every
// fixture of the judgement tests.
func engineQueryAll() engine.IncidentQuery { return coalitionQuery(1000) }

// coalitionQuery is engineQueryAll, a page of limit at a time.
func coalitionQuery(limit int) engine.IncidentQuery {
	return engine.IncidentQuery{Viewer: truce.Principal{Org: "MISSION", Kind: truce.OrgCoalition, Role: truce.RoleAnalyst}, Limit: limit}
}

// TestStreamJudgements follows incidents, violations, merges and level
// changes on the stream, live and on resume, checking each event against
// its schema; the public, who may not see the GREEN report, sees none of
// it.
func TestStreamJudgements(t *testing.T) {
	doc := loadDocument(t)
	e := newJudgingEnv(t, nil)
	analyst := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst)
	public := e.token(t, "PRESS", truce.OrgPublic, truce.RoleViewer)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	live := e.openStream(t, ctx, analyst, "", "")
	pub := e.openStream(t, ctx, public, "", "")

	// A GREEN impact in sector north, 14 km west of the line: an
	// incident, a ceasefire violation, and north TENSE (2).
	x1 := observed("patrol-x", "x1", truce.MethodSeen, truce.CategoryImpact, "", 48.6, 35.8)
	id1 := e.appendJudged(t, "MISSION", x1)[0]
	// The same impact from a camera, CLEAR: the incident of x1 merges into
	// one of both.
	x2 := observed("cam-x", "x2", truce.MethodCamera, truce.CategoryImpact, "", 48.6, 35.8)
	x2.Marking = truce.Marking{TLP: truce.TLPClear}
	id2 := e.appendJudged(t, "MISSION", x2)[0]
	last := e.settle(t)

	// The analyst sees it all happen.
	var kinds []string
	var first, merged api.Incident
	var gone mergedEvent
	for {
		ev, err := live.nextEvent()
		if err != nil {
			t.Fatal(err)
		}
		checkEvent(t, doc, ev)
		if ev.event == "observation" && ev.id == fmt.Sprint(last) {
			break
		}
		if ev.event == "observation" || ev.event == "incident" && strings.Contains(ev.data, `"source":"marker"`) {
			continue
		}
		kinds = append(kinds, ev.event)
		switch ev.event {
		case "incident":
			if ev.id != "" {
				t.Errorf("incident event with id %s", ev.id)
			}
			inc := &first
			if first.ID != "" {
				inc = &merged
			}
			json.Unmarshal([]byte(ev.data), inc)
		case "incident_merged":
			json.Unmarshal([]byte(ev.data), &gone)
		case "sector_level":
			if ev.id == "" {
				t.Errorf("sector_level event without id")
			}
		}
	}
	if !slices.Contains(kinds, "sector_level") {
		t.Errorf("no sector_level event in %q", kinds)
	}
	kinds = slices.DeleteFunc(kinds, func(k string) bool { return k == "sector_level" })
	if want := []string{"incident", "violation", "incident_merged", "incident", "violation"}; !slices.Equal(kinds, want) {
		t.Errorf("events: got %q, want %q", kinds, want)
	}
	if len(first.Observations) != 1 || first.Observations[0].ID != id1 || len(first.Violations) != 1 ||
		len(merged.Observations) != 2 || merged.Observations[1].ID != id2 || gone.ID != first.ID || gone.Into != merged.ID {
		t.Errorf("first %+v\nmerged %+v\ngone %+v", first, merged, gone)
	}

	// The public sees the CLEAR report and the markers, nothing judged of
	// the GREEN one.
	for {
		ev, err := pub.nextEvent()
		if err != nil {
			t.Fatal(err)
		}
		if ev.event == "observation" && ev.id == fmt.Sprint(last) {
			break
		}
		if ev.event != "observation" && !strings.Contains(ev.data, `"source":"marker"`) || ev.id == fmt.Sprint(id1) {
			t.Errorf("public: got %s %s %s", ev.event, ev.id, ev.data)
		}
	}

	// Resuming after x1: the journal from x2 on, then that x1's incident
	// was merged away, then the incident as it stands, once, with no id.
	r := e.openStream(t, ctx, analyst, fmt.Sprint(id1), "")
	var journal []string
	var resumedMerges []mergedEvent
	for {
		ev, err := r.nextEvent()
		if err != nil {
			t.Fatal(err)
		}
		checkEvent(t, doc, ev)
		if ev.event == "incident_merged" {
			var m mergedEvent
			json.Unmarshal([]byte(ev.data), &m)
			resumedMerges = append(resumedMerges, m)
			continue
		}
		if ev.event != "incident" {
			journal = append(journal, ev.id)
			continue
		}
		if ev.id != "" {
			t.Errorf("resumed incident event with id %s", ev.id)
		}
		var inc api.Incident
		json.Unmarshal([]byte(ev.data), &inc)
		if inc.ID != merged.ID {
			t.Fatalf("resumed: first incident %s, want %s", inc.ID, merged.ID)
		}
		break
	}
	if len(resumedMerges) != 1 || resumedMerges[0].Into != merged.ID || resumedMerges[0].ID != gone.ID {
		t.Errorf("resumed: merges %+v, want one: %s into %s", resumedMerges, gone.ID, merged.ID)
	}
	// After x1 come the level change it caused, x2 and the markers.
	if len(journal) == 0 || journal[0] != fmt.Sprint(id1+1) || !slices.Contains(journal, fmt.Sprint(id2)) || journal[len(journal)-1] != fmt.Sprint(last) {
		t.Errorf("resumed: journal events %q, want %d to %d", journal, id1+1, last)
	}
}

// TestStreamJudgementsSlowClient: a client that does not read is dropped
// with "event: lost"; reconnecting as told, it is shown every incident as
// it stands.
func TestStreamJudgementsSlowClient(t *testing.T) {
	e := newJudgingEnv(t, func(c *Config) { c.StreamBuffer = 1 })
	analyst := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	slow := e.openStream(t, ctx, analyst, "", "")
	// Enough to fill the connection's buffers: each its own incident,
	// 1.1 km or more apart on a grid outside every sector.
	const batches, size = 20, 1000
	for b := range batches {
		obs := make([]truce.Observation, size)
		for i := range obs {
			obs[i] = observed("patrol-s", fmt.Sprint("s", b, "-", i), truce.MethodSeen, truce.CategoryImpact, "", 49.3+0.01*float64(b), 30+0.015*float64(i))
		}
		e.appendObservations(t, "MISSION", obs...)
	}
	last := e.settle(t)
	want := map[string]bool{}
	for _, inc := range allRecords(t, e) {
		want[inc.ID] = true
	}

	shown := map[string]bool{}
	read := func(r *sseReader) (lost string) {
		for {
			ev, err := r.nextEvent()
			if err != nil {
				t.Fatalf("%v before event lost", err)
			}
			switch ev.event {
			case "lost":
				var l lostEvent
				if err := json.Unmarshal([]byte(ev.data), &l); err != nil || ev.id != "" && ev.id != l.LastEventID {
					t.Fatalf("lost: %+v (%v)", ev, err)
				}
				t.Logf("lost: id %q, last_event_id %s, %d incidents shown", ev.id, l.LastEventID, len(shown))
				return l.LastEventID
			case "incident":
				var inc api.Incident
				json.Unmarshal([]byte(ev.data), &inc)
				shown[inc.ID] = true
				if slices.ContainsFunc(inc.Observations, func(r api.ObservationRef) bool { return r.ID == last }) {
					return ""
				}
			}
		}
	}
	resume := read(slow)
	if resume == "" {
		t.Fatal("the slow client was not dropped")
	}
	if got := read(e.openStream(t, ctx, analyst, resume, "")); got != "" {
		t.Fatalf("lost again, at %s", got)
	}
	for id := range want {
		if !shown[id] {
			t.Errorf("incident %s was never shown", id)
		}
	}
}
