package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/deconflict"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

// The agreements the deconfliction tests run under: the example's line of
// contact with its 30 km coalition keep-out band, and the simple test
// agreement (a line along the 36th meridian, a 30 km keep-out band).
const (
	donbasAgreement = "../../examples/donbas/agreement.yaml"
	simpleAgreement = "../agreement/testdata/simple/agreement.yaml"
)

// placeIndexes caches each agreement and its index (seconds to build for
// the donbas example; read-only once built) across the tests.
var placeIndexes struct {
	sync.Mutex
	m map[string]*placed
}

type placed struct {
	a   *truce.Agreement
	idx *agreement.Index
}

// withForce returns a configuration edit giving the server a fresh Planner
// and Monitor over the agreement in file, and the planner.
func withForce(t testing.TB, file string) (func(*Config), *deconflict.Planner) {
	t.Helper()
	placeIndexes.Lock()
	pl := placeIndexes.m[file]
	if pl == nil {
		a, err := agreement.Load(file)
		if err != nil {
			placeIndexes.Unlock()
			t.Fatalf("load agreement: %v", err)
		}
		pl = &placed{a: a, idx: agreement.NewIndex(a, agreement.IndexOptions{})}
		if placeIndexes.m == nil {
			placeIndexes.m = map[string]*placed{}
		}
		placeIndexes.m[file] = pl
	}
	placeIndexes.Unlock()
	p := deconflict.NewPlanner(pl.a, deconflict.IndexOptions{})
	m := deconflict.NewMonitor(p, pl.idx)
	return func(c *Config) { c.Planner, c.Monitor = p, m }, p
}

// newForceEnv starts a test server deconflicting by the donbas example.
func newForceEnv(t testing.TB, edit func(*Config)) *testEnv {
	t.Helper()
	force, _ := withForce(t, donbasAgreement)
	return newEnv(t, func(c *Config) {
		force(c)
		if edit != nil {
			edit(c)
		}
	})
}

// Places in the donbas example. far is about 95 km from the line of
// contact, clear of every zone closed to coalition forces; nearLine is
// about 18 km west of the line (which passes 37.86 E at 48.5 N): inside
// the 30 km keep-out band, outside the 15 km no-fly band. (Distances from
// a haversine over the densified line.geojson.)
var (
	far      = [2]float64{48.9, 36.3}
	nearLine = [2]float64{48.5, 37.5}
)

// plan is an activity request: a circle of radius_m metres around at,
// from..until (from the test clock for two hours when zero), in the air
// from 1,000 to 2,000 m unless domain says otherwise.
type plan struct {
	id, nation, unit, domain string
	prio                     int
	at                       [2]float64
	radius                   float64
	from, until              time.Time
	note                     string
	version                  int // PUT only; 0: none
}

func (p plan) body() string {
	if p.domain == "" {
		p.domain = "air"
	}
	if p.radius == 0 {
		p.radius = 3000
	}
	if p.from.IsZero() {
		p.from, p.until = testNow, testNow.Add(2*time.Hour)
	}
	kind := map[string]string{"air": "flight", "land": "patrol", "sea": "patrol"}[p.domain]
	var b strings.Builder
	b.WriteString("{")
	if p.id != "" {
		fmt.Fprintf(&b, `"id":%q,`, p.id)
	}
	if p.nation != "" {
		fmt.Fprintf(&b, `"nation":%q,`, p.nation)
	}
	if p.note != "" {
		fmt.Fprintf(&b, `"note":%q,`, p.note)
	}
	if p.version != 0 {
		fmt.Fprintf(&b, `"version":%d,`, p.version)
	}
	fmt.Fprintf(&b, `"unit":%q,"domain":%q,"kind":%q,"priority":%d,"volumes":[{"circle":{"center":{"lat":%g,"lon":%g},"radius_m":%g},"min_alt_m":1000,"max_alt_m":2000,"from":%q,"until":%q}]}`,
		p.unit, p.domain, kind, p.prio, p.at[0], p.at[1], p.radius, p.from.Format(time.RFC3339), p.until.Format(time.RFC3339))
	return b.String()
}

func postPlanRq(token, body string) request {
	return request{method: "POST", path: "/api/v1/activities", token: token, contentType: "application/json", body: body}
}

func putPlanRq(token, id, body string) request {
	return request{method: "PUT", path: "/api/v1/activities/" + id, token: token, contentType: "application/json", body: body}
}

func getActivityRq(token, id string) request {
	return request{method: "GET", path: "/api/v1/activities/" + id, token: token}
}

// transitionRq asks for action on activity id, made against version: in
// the body, or in If-Match when ifMatch is set; version < 0 gives none.
func transitionRq(token, id, action string, version int, ifMatch bool) request {
	rq := request{method: "POST", path: "/api/v1/activities/" + id + "/" + action, token: token}
	switch {
	case version < 0:
	case ifMatch:
		rq.header = map[string]string{"If-Match": strconv.Quote(strconv.Itoa(version))}
	default:
		rq.contentType, rq.body = "application/json", fmt.Sprintf(`{"version":%d}`, version)
	}
	return rq
}

// doActivity sends rq, checks its status and decodes the activity
// answered (the activity of a 409 conflict body).
func (e *testEnv) doActivity(t *testing.T, rq request, want int) (api.Activity, *http.Response) {
	t.Helper()
	resp, b := e.do(t, rq)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: got %d %s, want %d", rq.method, rq.path, resp.StatusCode, b, want)
	}
	var a api.Activity
	if want == http.StatusConflict {
		var c activityConflict
		if err := json.Unmarshal(b, &c); err != nil || c.Error == "" {
			t.Fatalf("%s %s: decode conflict %s: %v", rq.method, rq.path, b, err)
		}
		a = c.Activity
	} else if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%s %s: decode %s: %v", rq.method, rq.path, b, err)
	}
	return a, resp
}

// wantError sends rq and checks its status and that its error names each
// of words; it returns the message.
func (e *testEnv) wantError(t *testing.T, rq request, want int, words ...string) string {
	t.Helper()
	resp, b := e.do(t, rq)
	var eb errorBody
	if resp.StatusCode != want || json.Unmarshal(b, &eb) != nil || eb.Error == "" {
		t.Fatalf("%s %s: got %d %s, want %d with an error", rq.method, rq.path, resp.StatusCode, b, want)
	}
	for _, w := range words {
		if !strings.Contains(eb.Error, w) {
			t.Errorf("%s %s: error %q does not name %q", rq.method, rq.path, eb.Error, w)
		}
	}
	return eb.Error
}

// conflictSummary is a conflict as "kind with[/with_volume] volume rule
// blocking".
func conflictSummary(c api.Conflict) string {
	with := c.With
	if c.WithVolume != nil {
		with += "/" + strconv.Itoa(*c.WithVolume)
	}
	return fmt.Sprintf("%s %s %d %s %v", c.Kind, with, c.Volume, c.Rule, c.Blocking)
}

func conflictSummaries(cs []api.Conflict) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, conflictSummary(c))
	}
	return out
}

// journaledActivities returns "id state version org" for every activity
// entry of the journal after seq.
func (e *testEnv) journaledActivities(t *testing.T, after uint64) []string {
	t.Helper()
	var out []string
	err := e.db.Entries(context.Background(), after, 0, func(en *journal.Entry, _ []byte) error {
		if en.Kind == journal.KindActivity {
			out = append(out, fmt.Sprintf("%s %s %d %s", en.Activity.ID, en.Activity.State, en.Activity.Version, en.Org))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Entries: %v", err)
	}
	return out
}

// TestActivityDecisions: plans are decided by priority and the closed
// zones, every decision is journaled and readable, and the stream carries
// it to the coalition, not to the parties.
func TestActivityDecisions(t *testing.T) {
	e := newForceEnv(t, nil)
	gbr := e.token(t, "GBR", truce.OrgNation, truce.RolePlanner)
	fra := e.token(t, "FRA", truce.OrgNation, truce.RolePlanner)
	reader := e.token(t, "DEU", truce.OrgNation, truce.RoleViewer)
	party := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison)
	start := e.head(t)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	coalitionStream := e.openStream(t, ctx, reader, "", fmt.Sprintf("?after=%d", start))
	partyStream := e.openStream(t, ctx, party, "", fmt.Sprintf("?after=%d", start))

	// GBR's plan, alone: accepted.
	first := plan{id: "gbr-1", unit: "GBR-RC135", prio: 5, at: far}
	a, resp := e.doActivity(t, postPlanRq(gbr, first.body()), http.StatusCreated)
	if a.ID != "gbr-1" || a.Nation != "GBR" || a.State != "accepted" || a.Version != 1 || len(a.Conflicts) != 0 {
		t.Errorf("first plan: got %+v, want gbr-1 of GBR, accepted at version 1 without conflicts", a)
	}
	if got := resp.Header.Get("ETag"); got != `"1"` {
		t.Errorf("first plan: ETag %s, want \"1\"", got)
	}
	if got := resp.Header.Get("Location"); got != "/api/v1/activities/gbr-1" {
		t.Errorf("first plan: Location %q, want /api/v1/activities/gbr-1", got)
	}
	got, resp := e.doActivity(t, getActivityRq(reader, "gbr-1"), http.StatusOK)
	if !reflect.DeepEqual(got, a) {
		t.Errorf("GET: got %+v, want the answer %+v", got, a)
	}
	if resp.Header.Get("ETag") != `"1"` {
		t.Errorf("GET: ETag %s, want \"1\"", resp.Header.Get("ETag"))
	}
	v := a.Volumes[0]
	if v.Circle == nil || *v.Circle.Center.Lat != far[0] || *v.Circle.Center.Lon != far[1] || *v.Circle.RadiusM != 3000 ||
		*v.MinAltM != 1000 || *v.MaxAltM != 2000 || v.From != testNow.Format(time.RFC3339Nano) || v.Until != testNow.Add(2*time.Hour).Format(time.RFC3339Nano) {
		t.Errorf("volume: got %+v, want the circle filed", v)
	}

	// FRA's overlapping plan of lower priority: refused, and recorded.
	second := plan{id: "fra-1", unit: "FRA-E3F", prio: 3, at: [2]float64{far[0], far[1] + 0.02}}
	a, resp = e.doActivity(t, postPlanRq(fra, second.body()), http.StatusConflict)
	if a.ID != "fra-1" || a.State != "rejected" || a.Version != 1 {
		t.Errorf("second plan: got %+v, want fra-1 rejected at version 1", a)
	}
	if want := []string{"activity gbr-1/0 0 higher_priority true"}; !slices.Equal(conflictSummaries(a.Conflicts), want) {
		t.Errorf("second plan's conflicts: got %q, want %q", conflictSummaries(a.Conflicts), want)
	}
	if resp.Header.Get("Location") != "/api/v1/activities/fra-1" {
		t.Errorf("second plan: Location %q", resp.Header.Get("Location"))
	}
	if got, _ := e.doActivity(t, getActivityRq(reader, "fra-1"), http.StatusOK); got.State != "rejected" || len(got.Conflicts) != 1 {
		t.Errorf("GET the rejected plan: got %+v, want it rejected with its conflict", got)
	}

	// FRA's overlapping plan of higher priority: accepted, told of GBR's.
	third := plan{id: "fra-2", unit: "FRA-RAFALE", prio: 7, at: [2]float64{far[0] + 0.01, far[1]}}
	a, _ = e.doActivity(t, postPlanRq(fra, third.body()), http.StatusCreated)
	if want := []string{"activity gbr-1/0 0 lower_priority false"}; a.State != "accepted" || !slices.Equal(conflictSummaries(a.Conflicts), want) {
		t.Errorf("third plan: got %s %q, want accepted with %q", a.State, conflictSummaries(a.Conflicts), want)
	}
	if c := a.Conflicts[0]; c.DistanceM != 0 || c.From != testNow.Format(time.RFC3339Nano) {
		t.Errorf("third plan's conflict: got %+v, want overlapping (0 m) from the test clock", c)
	}

	// A patrol inside the keep-out band: refused for the zone.
	band := plan{id: "gbr-2", unit: "GBR-PATROL", domain: "land", prio: 9, at: nearLine, radius: 1000}
	a, _ = e.doActivity(t, postPlanRq(gbr, band.body()), http.StatusConflict)
	if want := []string{"zone coalition-keep-out 0 keep_out true"}; a.State != "rejected" || !slices.Equal(conflictSummaries(a.Conflicts), want) {
		t.Errorf("plan in the band: got %s %q, want rejected with %q", a.State, conflictSummaries(a.Conflicts), want)
	}

	// The dry run decides and journals nothing.
	head := e.head(t)
	check := plan{unit: "GBR-TYPHOON", prio: 1, at: far}
	resp, b := e.do(t, request{method: "POST", path: "/api/v1/activities/check", token: gbr, contentType: "application/json", body: check.body()})
	var checked api.Activity
	if resp.StatusCode != 200 || json.Unmarshal(b, &checked) != nil {
		t.Fatalf("check: got %d %s, want 200", resp.StatusCode, b)
	}
	if want := []string{"activity fra-2/0 0 higher_priority true", "activity gbr-1/0 0 higher_priority true"}; checked.State != "rejected" || checked.Version != 0 || !slices.Equal(conflictSummaries(checked.Conflicts), want) {
		t.Errorf("check: got %s v%d %q, want rejected v0 with %q", checked.State, checked.Version, conflictSummaries(checked.Conflicts), want)
	}
	if h := e.head(t); h != head {
		t.Errorf("check journaled %d entries, want none", h-head)
	}

	// Each decision is an activity entry, recorded by the planner's nation.
	wantJournal := []string{"gbr-1 accepted 1 GBR", "fra-1 rejected 1 FRA", "fra-2 accepted 1 FRA", "gbr-2 rejected 1 GBR"}
	if got := e.journaledActivities(t, start); !slices.Equal(got, wantJournal) {
		t.Errorf("journal: got %q, want %q", got, wantJournal)
	}

	// The stream: the coalition reader gets each decision, the party none.
	mark := e.appendObservations(t, "MISSION", fixture("marker", "after-decisions", green))[0]
	readDecisions := func(r *sseReader) []string {
		var out []string
		for {
			ev, err := r.nextEvent()
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			if ev.id == strconv.FormatUint(mark, 10) {
				return out
			}
			if ev.event == "activity" {
				var a api.Activity
				if err := json.Unmarshal([]byte(ev.data), &a); err != nil {
					t.Fatalf("stream: activity %s: %v", ev.data, err)
				}
				out = append(out, fmt.Sprintf("%s %s %d", a.ID, a.State, a.Version))
			}
		}
	}
	if got, want := readDecisions(coalitionStream), []string{"gbr-1 accepted 1", "fra-1 rejected 1", "fra-2 accepted 1", "gbr-2 rejected 1"}; !slices.Equal(got, want) {
		t.Errorf("coalition stream: got %q, want %q", got, want)
	}
	if got := readDecisions(partyStream); len(got) != 0 {
		t.Errorf("party stream: got %q, want no activity events", got)
	}
}

// TestActivityRevise: a change names the version it was made against; of
// two changes made against the same version, the second is refused and
// the first stands.
func TestActivityRevise(t *testing.T) {
	e := newForceEnv(t, nil)
	gbr := e.token(t, "GBR", truce.OrgNation, truce.RolePlanner)
	base := plan{id: "gbr-r", unit: "GBR-A400", prio: 4, at: far}
	e.doActivity(t, postPlanRq(gbr, base.body()), http.StatusCreated)

	// Right version in the body: version 2.
	rev := base
	rev.note, rev.version = "moved east", 1
	rev.at[1] += 0.1
	a, resp := e.doActivity(t, putPlanRq(gbr, "gbr-r", rev.body()), http.StatusOK)
	if a.Version != 2 || a.State != "accepted" || a.Note != "moved east" || *a.Volumes[0].Circle.Center.Lon != far[1]+0.1 || resp.Header.Get("ETag") != `"2"` {
		t.Errorf("revise: got %+v ETag %s, want version 2 moved east", a, resp.Header.Get("ETag"))
	}

	// Right version in If-Match: version 3.
	rev.version, rev.note = 0, "by If-Match"
	rq := putPlanRq(gbr, "gbr-r", rev.body())
	rq.header = map[string]string{"If-Match": `"2"`}
	if a, _ := e.doActivity(t, rq, http.StatusOK); a.Version != 3 || a.Note != "by If-Match" {
		t.Errorf("revise by If-Match: got version %d note %q, want 3 by If-Match", a.Version, a.Note)
	}

	// No version at all.
	head := e.head(t)
	e.wantError(t, putPlanRq(gbr, "gbr-r", rev.body()), http.StatusBadRequest, "version")

	// Two changes against version 3 at once: one wins, the other is
	// refused, and the winner's change stands.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		r := rev
		r.version, r.note = 3, fmt.Sprint("writer ", i)
		wg.Go(func() {
			resp, b := e.do(t, putPlanRq(gbr, "gbr-r", r.body()))
			codes[i] = resp.StatusCode
			if resp.StatusCode == http.StatusConflict && !strings.Contains(string(b), "version") {
				t.Errorf("writer %d: 409 %s does not say the version is stale", i, b)
			}
		})
	}
	wg.Wait()
	winner := slices.Index(codes, http.StatusOK)
	if winner < 0 || codes[1-winner] != http.StatusConflict {
		t.Fatalf("two changes against version 3: got %v, want one 200 and one 409", codes)
	}
	got, _ := e.doActivity(t, getActivityRq(gbr, "gbr-r"), http.StatusOK)
	if want := fmt.Sprint("writer ", winner); got.Version != 4 || got.Note != want {
		t.Errorf("after both: got version %d note %q, want 4 %q", got.Version, got.Note, want)
	}
	// A stale version later still changes nothing.
	stale := rev
	stale.version, stale.note = 3, "too late"
	e.wantError(t, putPlanRq(gbr, "gbr-r", stale.body()), http.StatusConflict, "version 4, not 3")
	if h := e.head(t); h != head+1 {
		t.Errorf("journal grew by %d entries, want 1 (the winner)", h-head)
	}
	if got, _ := e.doActivity(t, getActivityRq(gbr, "gbr-r"), http.StatusOK); got.Note == "too late" || got.Version != 4 {
		t.Errorf("after the stale change: got version %d note %q, want the winner's", got.Version, got.Note)
	}
}

// TestActivityTransitions: the actions a state allows, made against the
// activity's version in the body or in If-Match.
func TestActivityTransitions(t *testing.T) {
	e := newForceEnv(t, nil)
	gbr := e.token(t, "GBR", truce.OrgNation, truce.RolePlanner)
	// A blocker of top priority, which the rejected plans overlap.
	blocker := plan{id: "blocker", unit: "GBR-BLOCKER", prio: 100, at: [2]float64{49.3, 35.5}}
	e.doActivity(t, postPlanRq(gbr, blocker.body()), http.StatusCreated)

	type step struct {
		action  string
		version int // -1: none
		ifMatch bool
		want    int
		state   string // after the step
	}
	tests := []struct {
		name     string
		rejected bool // the plan overlaps the blocker
		steps    []step
	}{
		{"activate and end", false, []step{{"activate", 1, false, 200, "active"}, {"end", 2, true, 200, "ended"}}},
		{"activate by If-Match", false, []step{{"activate", 1, true, 200, "active"}}},
		{"activate a rejected plan", true, []step{{"activate", 1, false, 409, "rejected"}}},
		{"end before activate", false, []step{{"end", 1, false, 409, "accepted"}}},
		{"activate twice", false, []step{{"activate", 1, false, 200, "active"}, {"activate", 2, false, 409, "active"}}},
		{"stale If-Match", false, []step{{"activate", 1, false, 200, "active"}, {"end", 1, true, 409, "active"}}},
		{"cancel accepted", false, []step{{"cancel", 1, true, 200, "cancelled"}}},
		{"cancel rejected", true, []step{{"cancel", 1, false, 200, "cancelled"}}},
		{"cancel active", false, []step{{"activate", 1, false, 200, "active"}, {"cancel", 2, false, 200, "cancelled"}}},
		{"cancel ended", false, []step{{"activate", 1, false, 200, "active"}, {"end", 2, false, 200, "ended"}, {"cancel", 3, false, 409, "ended"}}},
		{"no version", false, []step{{"activate", -1, false, 400, "accepted"}}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan{id: fmt.Sprint("t", i), unit: fmt.Sprint("GBR-T", i), prio: 1, at: [2]float64{47.9 + 0.2*float64(i), 34.0}}
			want := http.StatusCreated
			if tt.rejected {
				p.at, want = blocker.at, http.StatusConflict
			}
			e.doActivity(t, postPlanRq(gbr, p.body()), want)
			version := 1
			for _, s := range tt.steps {
				head := e.head(t)
				resp, b := e.do(t, transitionRq(gbr, p.id, s.action, s.version, s.ifMatch))
				if resp.StatusCode != s.want {
					t.Fatalf("%s against %d: got %d %s, want %d", s.action, s.version, resp.StatusCode, b, s.want)
				}
				if s.want == http.StatusOK {
					version++
					if etag := strconv.Quote(strconv.Itoa(version)); resp.Header.Get("ETag") != etag {
						t.Errorf("%s: ETag %s, want %s", s.action, resp.Header.Get("ETag"), etag)
					}
				}
				wantEntries := uint64(0)
				if s.want == http.StatusOK {
					wantEntries = 1
				}
				if h := e.head(t); h-head != wantEntries {
					t.Errorf("%s: journaled %d entries, want %d", s.action, h-head, wantEntries)
				}
				got, _ := e.doActivity(t, getActivityRq(gbr, p.id), http.StatusOK)
				if got.State != s.state || got.Version != version {
					t.Errorf("after %s: got %s at version %d, want %s at %d", s.action, got.State, got.Version, s.state, version)
				}
			}
		})
	}
}

// TestActivityPermissions: who may file, change and read activities.
func TestActivityPermissions(t *testing.T) {
	e := newForceEnv(t, nil)
	gbr := e.token(t, "GBR", truce.OrgNation, truce.RolePlanner)
	fra := e.token(t, "FRA", truce.OrgNation, truce.RolePlanner)
	coalition := e.token(t, "MISSION", truce.OrgCoalition, truce.RolePlanner)
	viewer := e.token(t, "GBR", truce.OrgNation, truce.RoleViewer)
	sensor := e.token(t, "GBR", truce.OrgNation, truce.RoleSensor)
	liaison := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison)
	public := e.token(t, "PRESS", truce.OrgPublic, truce.RoleViewer)
	e.doActivity(t, postPlanRq(fra, plan{id: "fra-p", unit: "FRA-1", prio: 3, at: far}.body()), http.StatusCreated)

	elsewhere := func(id, nation string, n int) string {
		return plan{id: id, nation: nation, unit: id, prio: 3, at: [2]float64{47.9 + 0.2*float64(n), 34.0}}.body()
	}
	tests := []struct {
		name string
		rq   request
		want int
	}{
		{"nation planner for its nation", postPlanRq(gbr, elsewhere("gbr-own", "GBR", 1)), 201},
		{"nation planner, nation implied", postPlanRq(gbr, elsewhere("gbr-implied", "", 2)), 201},
		{"nation planner for another nation", postPlanRq(gbr, elsewhere("gbr-for-fra", "FRA", 3)), 403},
		{"coalition planner for a nation", postPlanRq(coalition, elsewhere("mission-for-fra", "FRA", 4)), 201},
		{"viewer files", postPlanRq(viewer, elsewhere("viewer", "GBR", 5)), 403},
		{"liaison files", postPlanRq(liaison, elsewhere("liaison", "GBR", 6)), 403},
		{"liaison checks", request{method: "POST", path: "/api/v1/activities/check", token: liaison, contentType: "application/json", body: elsewhere("x", "GBR", 7)}, 403},
		{"nation planner revises another nation's", putPlanRq(gbr, "fra-p", plan{unit: "FRA-1", prio: 3, at: far, version: 1}.body()), 403},
		{"nation planner activates another nation's", transitionRq(gbr, "fra-p", "activate", 1, false), 403},
		{"viewer activates", transitionRq(viewer, "fra-p", "activate", 1, false), 403},
		{"liaison cancels", transitionRq(liaison, "fra-p", "cancel", 1, true), 403},
		{"viewer reads the list", request{method: "GET", path: "/api/v1/activities", token: viewer}, 200},
		{"viewer reads another nation's", getActivityRq(viewer, "fra-p"), 200},
		{"liaison reads the list", request{method: "GET", path: "/api/v1/activities", token: liaison}, 403},
		{"liaison reads one", getActivityRq(liaison, "fra-p"), 403},
		{"public reads one", getActivityRq(public, "fra-p"), 403},
		{"sensor reads one", getActivityRq(sensor, "fra-p"), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := e.head(t)
			resp, b := e.do(t, tt.rq)
			if resp.StatusCode != tt.want {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, b, tt.want)
			}
			wantEntries := uint64(0)
			if tt.want == http.StatusCreated {
				wantEntries = 1
			}
			if h := e.head(t); h-head != wantEntries {
				t.Errorf("journaled %d entries, want %d", h-head, wantEntries)
			}
		})
	}
	// What the refused did not change.
	if got, _ := e.doActivity(t, getActivityRq(fra, "fra-p"), http.StatusOK); got.State != "accepted" || got.Version != 1 {
		t.Errorf("fra-p: got %s at version %d, want accepted at 1", got.State, got.Version)
	}
	if got, _ := e.doActivity(t, getActivityRq(fra, "gbr-implied"), http.StatusOK); got.Nation != "GBR" {
		t.Errorf("plan without nation: nation %q, want the token's, GBR", got.Nation)
	}
}

// TestActivityValidation: a bad plan is refused with the field at fault,
// and nothing is journaled.
func TestActivityValidation(t *testing.T) {
	e := newForceEnv(t, nil)
	gbr := e.token(t, "GBR", truce.OrgNation, truce.RolePlanner)
	good := plan{id: "v", unit: "GBR-V", prio: 2, at: far}.body()
	tests := []struct {
		name, old, new string
		words          []string // the error names them
	}{
		{"no priority", `"priority":2,`, ``, []string{"priority", "required"}},
		{"priority too high", `"priority":2`, `"priority":101`, []string{"priority", "101"}},
		{"negative priority", `"priority":2`, `"priority":-1`, []string{"priority"}},
		{"no until", `,"until":"2026-03-01T14:00:00Z"`, ``, []string{"volumes[0].until", "required"}},
		{"until not a time", `"until":"2026-03-01T14:00:00Z"`, `"until":"2pm"`, []string{"volumes[0].until", "RFC 3339"}},
		{"until before from", `"until":"2026-03-01T14:00:00Z"`, `"until":"2026-03-01T11:00:00Z"`, []string{"volumes[0].period"}},
		{"no altitude", `"min_alt_m":1000,`, ``, []string{"volumes[0]", "min_alt_m"}},
		{"no radius", `,"radius_m":3000`, ``, []string{"volumes[0].circle.radius_m"}},
		{"two footprints", `"circle":`, `"polygon":[{"lat":48,"lon":36},{"lat":48.1,"lon":36},{"lat":48,"lon":36.1}],"circle":`, []string{"volumes[0].footprint"}},
		{"unknown domain", `"domain":"air"`, `"domain":"space"`, []string{"domain"}},
		{"unknown kind", `"kind":"flight"`, `"kind":"party"`, []string{"kind"}},
		{"no volumes", `"volumes":[{"circle":{"center":{"lat":48.9,"lon":36.3},"radius_m":3000},"min_alt_m":1000,"max_alt_m":2000,"from":"2026-03-01T12:00:00Z","until":"2026-03-01T14:00:00Z"}]`, `"volumes":[]`, []string{"volumes"}},
		{"bad id", `"id":"v"`, `"id":"-v"`, []string{"id"}},
		{"unknown field", `"unit":`, `"colour":"red","unit":`, []string{"body", "colour"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("the plan %s holds no %s", good, tt.old)
			}
			head := e.head(t)
			e.wantError(t, postPlanRq(gbr, strings.Replace(good, tt.old, tt.new, 1)), http.StatusBadRequest, tt.words...)
			if h := e.head(t); h != head {
				t.Errorf("journaled %d entries, want none", h-head)
			}
		})
	}
	// And the good plan is accepted, so that the cases above fail for
	// their change alone.
	e.doActivity(t, postPlanRq(gbr, good), http.StatusCreated)
}

// TestActivityList: the list's filters.
func TestActivityList(t *testing.T) {
	e := newForceEnv(t, nil)
	gbr := e.token(t, "GBR", truce.OrgNation, truce.RolePlanner)
	fra := e.token(t, "FRA", truce.OrgNation, truce.RolePlanner)
	later := plan{id: "b-later", unit: "GBR-2", prio: 3, at: [2]float64{48.1, 34.0}, from: testNow.Add(24 * time.Hour), until: testNow.Add(26 * time.Hour)}
	e.doActivity(t, postPlanRq(gbr, plan{id: "a-gbr", unit: "GBR-1", prio: 3, at: far}.body()), http.StatusCreated)
	e.doActivity(t, postPlanRq(gbr, later.body()), http.StatusCreated)
	e.doActivity(t, postPlanRq(fra, plan{id: "c-fra", unit: "FRA-1", prio: 1, at: far}.body()), http.StatusConflict)
	e.doActivity(t, transitionRq(gbr, "a-gbr", "activate", 1, false), http.StatusOK)

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"a-gbr", "b-later", "c-fra"}},
		{"?nation=GBR", []string{"a-gbr", "b-later"}},
		{"?unit=FRA-1", []string{"c-fra"}},
		{"?state=active", []string{"a-gbr"}},
		{"?state=accepted,rejected", []string{"b-later", "c-fra"}},
		{"?at=" + testNow.Add(time.Hour).Format(time.RFC3339), []string{"a-gbr", "c-fra"}},
		{"?at=" + testNow.Add(25*time.Hour).Format(time.RFC3339) + "&nation=GBR", []string{"b-later"}},
		{"?nation=DEU", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, b := e.do(t, request{method: "GET", path: "/api/v1/activities" + tt.query, token: fra})
			var list activitiesAnswer
			if resp.StatusCode != 200 || json.Unmarshal(b, &list) != nil || list.Activities == nil {
				t.Fatalf("got %d %s, want 200 with a list", resp.StatusCode, b)
			}
			got := []string{}
			for _, a := range list.Activities {
				got = append(got, a.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []struct{ query, word string }{{"?state=flying", "state"}, {"?at=noon", "at"}, {"?colour=red", "colour"}} {
		e.wantError(t, request{method: "GET", path: "/api/v1/activities" + bad.query, token: fra}, http.StatusBadRequest, bad.word)
	}
	e.wantError(t, getActivityRq(fra, "nothing"), http.StatusNotFound)
}

// TestActivitiesWithoutAgreement: without a planner every route answers
// 503.
func TestActivitiesWithoutAgreement(t *testing.T) {
	e := newEnv(t, nil)
	planner := e.token(t, "MISSION", truce.OrgCoalition, truce.RolePlanner)
	body := plan{id: "x", unit: "X", prio: 1, at: far, version: 1}.body()
	for _, rq := range []request{
		postPlanRq(planner, body),
		{method: "POST", path: "/api/v1/activities/check", token: planner, contentType: "application/json", body: body},
		{method: "GET", path: "/api/v1/activities", token: planner},
		getActivityRq(planner, "x"),
		putPlanRq(planner, "x", body),
		transitionRq(planner, "x", "activate", 1, false),
		{method: "POST", path: "/api/v1/tracks", token: planner, contentType: "application/json", body: `{"positions":[]}`},
		{method: "GET", path: "/api/v1/tracks", token: planner},
	} {
		e.wantError(t, rq, http.StatusServiceUnavailable, "agreement")
	}
}
