package httpapi

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

// The organisations of the access test: one of each kind, the one that
// records the fixtures, and one that is none of them.
const (
	orgCoalition = truce.OrgID("MISSION")
	orgNation    = truce.OrgID("GBR")
	orgParty     = truce.OrgID("UA")
	orgPublic    = truce.OrgID("PRESS")
	orgRecorder  = truce.OrgID("RECORDER")
	orgOther     = truce.OrgID("OTHER")
)

var kinds = []struct {
	kind truce.OrgKind
	org  truce.OrgID
}{
	{truce.OrgCoalition, orgCoalition},
	{truce.OrgNation, orgNation},
	{truce.OrgParty, orgParty},
	{truce.OrgPublic, orgPublic},
}

// visibility is who sees what, written out by hand from docs/access.md
// (not computed by truce.Principal.CanSee): for each fixture, recorded by
// by (RECORDER when empty) with this label and rel_to, whether a reader of
// a coalition body, a nation, a party and the public sees it: "C N P U",
// "-" for not.
var visibility = []struct {
	tlp   truce.TLP
	relTo truce.OrgID
	by    truce.OrgID
	sees  string
}{
	{truce.TLPClear, "", "", "CNPU"},
	{truce.TLPClear, orgCoalition, "", "CNPU"},
	{truce.TLPClear, orgNation, "", "CNPU"},
	{truce.TLPClear, orgParty, "", "CNPU"},
	{truce.TLPClear, orgPublic, "", "CNPU"},
	{truce.TLPClear, orgOther, "", "CNPU"},

	{truce.TLPGreen, "", "", "CNP-"},
	{truce.TLPGreen, orgCoalition, "", "CNP-"},
	{truce.TLPGreen, orgNation, "", "CNP-"},
	{truce.TLPGreen, orgParty, "", "CNP-"},
	{truce.TLPGreen, orgPublic, "", "CNPU"},
	{truce.TLPGreen, orgOther, "", "CNP-"},

	{truce.TLPAmber, "", "", "CN--"},
	{truce.TLPAmber, orgCoalition, "", "CN--"},
	{truce.TLPAmber, orgNation, "", "CN--"},
	{truce.TLPAmber, orgParty, "", "CNP-"},
	{truce.TLPAmber, orgPublic, "", "CN-U"},
	{truce.TLPAmber, orgOther, "", "CN--"},

	{truce.TLPAmberStrict, "", "", "C---"},
	{truce.TLPAmberStrict, orgCoalition, "", "C---"},
	{truce.TLPAmberStrict, orgNation, "", "CN--"},
	{truce.TLPAmberStrict, orgParty, "", "C-P-"},
	{truce.TLPAmberStrict, orgPublic, "", "C--U"},
	{truce.TLPAmberStrict, orgOther, "", "C---"},

	{truce.TLPRed, "", "", "----"},
	{truce.TLPRed, orgCoalition, "", "C---"},
	{truce.TLPRed, orgNation, "", "-N--"},
	{truce.TLPRed, orgParty, "", "--P-"},
	{truce.TLPRed, orgPublic, "", "---U"},
	{truce.TLPRed, orgOther, "", "----"},

	// The recording organisation always sees its own.
	{truce.TLPRed, "", orgCoalition, "C---"},
	{truce.TLPRed, "", orgNation, "-N--"},
	{truce.TLPRed, "", orgParty, "--P-"},
	{truce.TLPRed, "", orgPublic, "---U"},
	{truce.TLPAmberStrict, orgOther, orgNation, "CN--"},
	{truce.TLPAmber, "", orgParty, "CNP-"},
	{truce.TLPGreen, "", orgPublic, "CNPU"},
}

// readers says which roles may read at all, by hand from docs/access.md.
var readers = []struct {
	role  truce.Role
	reads bool
}{
	{truce.RoleAdmin, true},
	{truce.RoleAnalyst, true},
	{truce.RoleCommissioner, true},
	{truce.RoleMonitor, true},
	{truce.RoleSensor, false},
	{truce.RoleLiaison, true},
	{truce.RolePlanner, true},
	{truce.RoleViewer, true},
}

func fixtureName(i int) string {
	v := visibility[i]
	by := v.by
	if by == "" {
		by = orgRecorder
	}
	return fmt.Sprintf("%d %s rel %s by %s", i, v.tlp, v.relTo, by)
}

// TestAccess checks, for every role of every kind of organisation, that
// listing, getting one by one and streaming show exactly the fixtures the
// hand-written table says, and that the stream shows tokens of the
// reader's own organisation only.
func TestAccess(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()

	type principal struct {
		kind   int // index in kinds
		role   int // index in readers
		secret string
	}
	var principals []principal
	tokensOf := map[truce.OrgID][]string{} // token ids by organisation
	for k := range kinds {
		for r := range readers {
			secret := e.token(t, kinds[k].org, kinds[k].kind, readers[r].role)
			principals = append(principals, principal{k, r, secret})
			tokensOf[kinds[k].org] = append(tokensOf[kinds[k].org], fmt.Sprint(e.head(t)))
		}
	}
	id := map[string]uint64{}
	for i, v := range visibility {
		m := truce.Marking{TLP: v.tlp}
		if v.relTo != "" {
			m.RelTo = []truce.OrgID{v.relTo}
		}
		by := v.by
		if by == "" {
			by = orgRecorder
		}
		name := fixtureName(i)
		id[name] = e.appendObservations(t, by, fixture("fixture", name, m))[0]
	}
	// The stream reads up to this last entry, which everyone sees.
	end := e.appendObservations(t, orgRecorder, fixture("fixture", "end", truce.Marking{TLP: truce.TLPClear}))[0]
	if _, err := e.db.Head(ctx); err != nil {
		t.Fatal(err)
	}

	for _, p := range principals {
		k, r := kinds[p.kind], readers[p.role]
		t.Run(fmt.Sprintf("%s %s %s", k.kind, k.org, r.role), func(t *testing.T) {
			var want []string
			if r.reads {
				for i, v := range visibility {
					if v.sees[p.kind] != '-' {
						want = append(want, fixtureName(i))
					}
				}
			}

			// GET /api/v1/observations, a page of 7 at a time.
			var listed []string
			path := "/api/v1/observations?source=fixture&limit=7"
			for pages := 0; ; pages++ {
				resp, b := e.do(t, request{method: "GET", path: path, token: p.secret})
				if !r.reads {
					if resp.StatusCode != 403 {
						t.Errorf("list: got %d, want 403", resp.StatusCode)
					}
					break
				}
				if resp.StatusCode != 200 {
					t.Fatalf("list: got %d %s", resp.StatusCode, b)
				}
				var page observationPage
				if err := json.Unmarshal(b, &page); err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Observations {
					listed = append(listed, o.SourceID)
				}
				if page.NextCursor == "" {
					break
				}
				if pages > 100 {
					t.Fatal("list: too many pages")
				}
				path = "/api/v1/observations?source=fixture&limit=7&cursor=" + url.QueryEscape(page.NextCursor)
			}
			listed = slices.DeleteFunc(listed, func(s string) bool { return s == "end" })
			if !slices.Equal(listed, want) {
				t.Errorf("list:\ngot  %q\nwant %q", listed, want)
			}

			// GET /api/v1/observations/{id} for every fixture.
			var got []string
			for i := range visibility {
				name := fixtureName(i)
				resp, b := e.do(t, request{method: "GET", path: fmt.Sprintf("/api/v1/observations/%d", id[name]), token: p.secret})
				switch {
				case !r.reads:
					if resp.StatusCode != 403 {
						t.Errorf("get %s: got %d, want 403", name, resp.StatusCode)
					}
				case resp.StatusCode == 200:
					got = append(got, name)
				case resp.StatusCode != 404:
					t.Errorf("get %s: got %d %s, want 200 or 404", name, resp.StatusCode, b)
				case !strings.Contains(string(b), `"error"`):
					t.Errorf("get %s: 404 body %s", name, b)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("get:\ngot  %q\nwant %q", got, want)
			}

			// GET /api/v1/stream from the start.
			if !r.reads {
				resp, _ := e.do(t, request{method: "GET", path: "/api/v1/stream?after=0", token: p.secret})
				if resp.StatusCode != 403 {
					t.Errorf("stream: got %d, want 403", resp.StatusCode)
				}
				return
			}
			sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			s := e.openStream(t, sctx, p.secret, "", "?after=0")
			var streamed, tokens []string
			for {
				ev, err := s.nextEvent()
				if err != nil {
					t.Fatalf("stream: %v", err)
				}
				if ev.event == "token" {
					if strings.Contains(ev.data, "hash") {
						t.Errorf("stream: token event %s shows the hash", ev.data)
					}
					tokens = append(tokens, ev.id)
					continue
				}
				var rec struct {
					ID       uint64 `json:"id"`
					SourceID string `json:"source_id"`
				}
				if err := json.Unmarshal([]byte(ev.data), &rec); err != nil || ev.event != "observation" || ev.id != strconv.FormatUint(rec.ID, 10) {
					t.Fatalf("stream: event %+v (%v)", ev, err)
				}
				if rec.ID == end {
					break
				}
				streamed = append(streamed, rec.SourceID)
			}
			if !slices.Equal(streamed, want) {
				t.Errorf("stream:\ngot  %q\nwant %q", streamed, want)
			}
			// Token events go to the admins of the token's organisation.
			var wantTokens []string
			if r.role == truce.RoleAdmin {
				wantTokens = tokensOf[k.org]
			}
			if !slices.Equal(tokens, wantTokens) {
				t.Errorf("stream tokens: got %q, want %q", tokens, wantTokens)
			}
		})
	}
}

// member is one observation of an incident fixture: its label, rel_to and
// recorder (RECORDER when empty), and who sees it, "C N P U" by hand as
// in visibility.
type member struct {
	tlp   truce.TLP
	relTo truce.OrgID
	by    truce.OrgID
	sees  string
}

// incidentVisibility is who sees what of the judgements, by hand: each
// incident fixture is one or two observations of one impact, and an
// incident is seen only by whoever sees every one of its observations
// (docs/access.md). sees is "C N P U" as in visibility.
var incidentVisibility = []struct {
	members []member
	sees    string
}{
	{[]member{{truce.TLPClear, "", "", "CNPU"}}, "CNPU"},
	{[]member{{truce.TLPGreen, "", "", "CNP-"}}, "CNP-"},
	{[]member{{truce.TLPClear, "", "", "CNPU"}, {truce.TLPGreen, "", "", "CNP-"}}, "CNP-"},
	{[]member{{truce.TLPClear, "", "", "CNPU"}, {truce.TLPAmber, "", "", "CN--"}}, "CN--"},
	{[]member{{truce.TLPAmber, orgParty, "", "CNP-"}, {truce.TLPGreen, "", "", "CNP-"}}, "CNP-"},
	{[]member{{truce.TLPAmberStrict, "", "", "C---"}, {truce.TLPClear, "", "", "CNPU"}}, "C---"},
	{[]member{{truce.TLPAmberStrict, orgNation, "", "CN--"}, {truce.TLPAmber, "", "", "CN--"}}, "CN--"},
	{[]member{{truce.TLPRed, orgCoalition, "", "C---"}, {truce.TLPClear, "", "", "CNPU"}}, "C---"},
	{[]member{{truce.TLPRed, "", orgParty, "--P-"}, {truce.TLPAmber, orgParty, "", "CNP-"}}, "--P-"},
	{[]member{{truce.TLPGreen, "", orgPublic, "CNPU"}, {truce.TLPClear, "", "", "CNPU"}}, "CNPU"},
	{[]member{{truce.TLPRed, orgPublic, "", "---U"}, {truce.TLPGreen, "", "", "CNP-"}}, "----"},
	{[]member{{truce.TLPGreen, orgPublic, "", "CNPU"}, {truce.TLPClear, "", "", "CNPU"}}, "CNPU"},
	{[]member{{truce.TLPAmber, "", "", "CN--"}, {truce.TLPAmberStrict, orgParty, "", "C-P-"}}, "C---"},
	{[]member{{truce.TLPRed, "", orgNation, "-N--"}, {truce.TLPRed, orgNation, "", "-N--"}}, "-N--"},
	{[]member{{truce.TLPAmber, "", orgParty, "CNP-"}, {truce.TLPAmber, "", "", "CN--"}}, "CN--"},
	{[]member{{truce.TLPRed, "", "", "----"}}, "----"},
}

// levelsSeen is who sees sector levels and the trigger (TLP:GREEN), by
// hand: every reading role of coalition bodies, nations and parties.
const levelsSeen = "CNP-"

// incidentName names incident fixture i.
func incidentName(i int) string { return fmt.Sprintf("incident %d", i) }

// incidentFixture returns member j of incident fixture i: an impact
// half an hour before testNow on the UA side, 14 km west of the line, in
// sector north when i is even and south when odd, each fixture 11 km from
// the others so that only its own members fuse. Every fixture breaks the
// ceasefire (medium, party undetermined): eight in a sector score 16 in
// its hour window, CRITICAL (15), and both sectors CRITICAL fire the
// renewed-aggression trigger.
func incidentFixture(i, j int) truce.Observation {
	m := incidentVisibility[i].members[j]
	mk := truce.Marking{TLP: m.tlp}
	if m.relTo != "" {
		mk.RelTo = []truce.OrgID{m.relTo}
	}
	o := fixture(fmt.Sprint("judge-", j), fmt.Sprint(incidentName(i), "-", j), mk)
	o.Time = testNow.Add(-30 * time.Minute)
	lat := 48.1
	if i%2 == 1 {
		lat = 47.1
	}
	o.Location.Point = geo.Point{Lat: lat + 0.1*float64(i/2), Lon: 35.8}
	return o.Canonical()
}

// judged is what one reader's stream showed of the judgements.
type judged struct {
	incidents, violations []string // complete fixtures, by name, sorted, without repeats
	levels                []string // ids of sector_level and trigger events
}

// readJudged reads a stream until it has shown the journal's entry last
// and the incident of that entry, checking that every incident and
// violation event shows only observations that kind k sees by hand, and
// that judgements carry no id.
func readJudged(t *testing.T, s *sseReader, k int, last uint64, memberOf map[uint64][2]int) judged {
	t.Helper()
	var out judged
	shown := map[string]bool{} // ids of the incidents shown
	seenLast, seenLastIncident := false, false
	complete := func(refs []api.ObservationRef) (string, bool) {
		fix := -1
		for _, r := range refs {
			if r.ID == last {
				seenLastIncident = true
			}
			m, ok := memberOf[r.ID]
			if !ok {
				return "", false // a marker
			}
			if vis := incidentVisibility[m[0]].members[m[1]]; vis.sees[k] == '-' {
				t.Errorf("stream: an incident of %v shows observation %d of %s, which %s may not see", refs, r.ID, incidentName(m[0]), kinds[k].kind)
			}
			if fix >= 0 && fix != m[0] {
				t.Errorf("stream: incident %v mixes fixtures", refs)
			}
			fix = m[0]
		}
		return incidentName(fix), len(refs) == len(incidentVisibility[fix].members)
	}
	for !seenLast || !seenLastIncident {
		ev, err := s.nextEvent()
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		switch ev.event {
		case "incident", "violation", "incident_merged":
			if ev.id != "" {
				t.Errorf("stream: %s event with id %s", ev.event, ev.id)
			}
		default:
			if ev.id == strconv.FormatUint(last, 10) {
				seenLast = true
			}
		}
		switch ev.event {
		case "incident":
			var inc api.Incident
			if err := json.Unmarshal([]byte(ev.data), &inc); err != nil {
				t.Fatalf("stream: incident %s: %v", ev.data, err)
			}
			shown[inc.ID] = true
			if name, ok := complete(inc.Observations); ok && !slices.Contains(out.incidents, name) {
				out.incidents = append(out.incidents, name)
			}
		case "violation":
			var v api.Violation
			if err := json.Unmarshal([]byte(ev.data), &v); err != nil {
				t.Fatalf("stream: violation %s: %v", ev.data, err)
			}
			// The violation event names its incident: an incident event
			// before it showed its observations.
			if !shown[v.Incident] {
				t.Errorf("stream: violation %s of an incident not shown", v.ID)
			}
			out.violations = append(out.violations, v.Incident)
		case "sector_level", "trigger":
			out.levels = append(out.levels, ev.id)
		}
	}
	slices.Sort(out.incidents)
	return out
}

// TestAccessJudgements checks, for every role of every kind of
// organisation, that listing and getting incidents, listing violations
// and the stream's incident and violation events (live and on resume)
// show exactly the incidents the hand-written table says, and that sector
// levels and the trigger go to exactly the readers of organisations of the
// mechanism.
func TestAccessJudgements(t *testing.T) {
	e := newJudgingEnv(t, func(c *Config) { c.StreamBuffer = 4096 })
	ctx := context.Background()

	type principal struct {
		kind, role int
		secret     string
	}
	var principals []principal
	for k := range kinds {
		for r := range readers {
			principals = append(principals, principal{k, r, e.token(t, kinds[k].org, kinds[k].kind, readers[r].role)})
		}
	}
	// Live streams, opened before the fixtures.
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	live := map[int]*sseReader{}
	for i, p := range principals {
		if readers[p.role].reads {
			live[i] = e.openStream(t, sctx, p.secret, "", "")
		}
	}

	memberOf := map[uint64][2]int{} // observation id: fixture, member
	for i, inc := range incidentVisibility {
		for j, m := range inc.members {
			by := m.by
			if by == "" {
				by = orgRecorder
			}
			id := e.appendJudged(t, by, incidentFixture(i, j))[0]
			memberOf[id] = [2]int{i, j}
		}
	}
	last := e.settle(t)

	// The level and trigger entries the engine journaled.
	var levels []string
	err := e.db.Entries(ctx, 0, 0, func(en *journal.Entry, _ []byte) error {
		if en.Kind == journal.KindLevel || en.Kind == journal.KindTrigger {
			levels = append(levels, strconv.FormatUint(en.Seq, 10))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(levels) == 0 {
		t.Fatal("the engine journaled no level change")
	}

	for i, p := range principals {
		k, r := kinds[p.kind], readers[p.role]
		t.Run(fmt.Sprintf("%s %s %s", k.kind, k.org, r.role), func(t *testing.T) {
			var want []string
			if r.reads {
				for i, inc := range incidentVisibility {
					if inc.sees[p.kind] != '-' {
						want = append(want, incidentName(i))
					}
				}
			}
			slices.Sort(want)
			nameOf := func(refs []api.ObservationRef) string {
				m, ok := memberOf[refs[0].ID]
				if !ok {
					return markerSource
				}
				return incidentName(m[0])
			}

			// GET /api/v1/incidents, 3 at a time.
			var listed, ids []string
			idOf := map[string]string{}
			path := "/api/v1/incidents?limit=3"
			for pages := 0; ; pages++ {
				resp, b := e.do(t, request{method: "GET", path: path, token: p.secret})
				if !r.reads {
					if resp.StatusCode != 403 {
						t.Errorf("list: got %d, want 403", resp.StatusCode)
					}
					break
				}
				if resp.StatusCode != 200 {
					t.Fatalf("list: got %d %s", resp.StatusCode, b)
				}
				var page incidentPage
				if err := json.Unmarshal(b, &page); err != nil {
					t.Fatal(err)
				}
				for _, inc := range page.Incidents {
					if name := nameOf(inc.Observations); name != markerSource {
						listed = append(listed, name)
						idOf[name] = inc.ID
					}
				}
				if page.NextCursor == "" {
					break
				}
				if pages > 100 {
					t.Fatal("list: too many pages")
				}
				path = "/api/v1/incidents?limit=3&cursor=" + url.QueryEscape(page.NextCursor)
			}
			slices.Sort(listed)
			if !slices.Equal(listed, want) {
				t.Errorf("list:\ngot  %q\nwant %q", listed, want)
			}

			// GET /api/v1/incidents/{id} for every incident, by the ids a
			// coalition analyst, who sees most, and this reader found.
			for _, id := range idOf {
				ids = append(ids, id)
			}
			ids = append(ids, allIncidentIDs(t, e)...)
			var got []string
			for _, id := range ids {
				resp, b := e.do(t, request{method: "GET", path: "/api/v1/incidents/" + url.PathEscape(id), token: p.secret})
				switch {
				case !r.reads:
					if resp.StatusCode != 403 {
						t.Errorf("get %s: got %d, want 403", id, resp.StatusCode)
					}
				case resp.StatusCode == 200:
					var inc api.Incident
					if err := json.Unmarshal(b, &inc); err != nil {
						t.Fatal(err)
					}
					if name := nameOf(inc.Observations); !slices.Contains(got, name) && name != markerSource {
						got = append(got, name)
					}
				case resp.StatusCode != 404:
					t.Errorf("get %s: got %d %s, want 200 or 404", id, resp.StatusCode, b)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("get:\ngot  %q\nwant %q", got, want)
			}

			// GET /api/v1/violations, 2 at a time: every fixture breaks
			// the ceasefire once.
			var violations []string
			path = "/api/v1/violations?limit=2"
			for pages := 0; ; pages++ {
				resp, b := e.do(t, request{method: "GET", path: path, token: p.secret})
				if !r.reads {
					if resp.StatusCode != 403 {
						t.Errorf("violations: got %d, want 403", resp.StatusCode)
					}
					break
				}
				if resp.StatusCode != 200 {
					t.Fatalf("violations: got %d %s", resp.StatusCode, b)
				}
				var page violationPage
				if err := json.Unmarshal(b, &page); err != nil {
					t.Fatal(err)
				}
				for _, v := range page.Violations {
					violations = append(violations, v.Incident)
				}
				if page.NextCursor == "" {
					break
				}
				if pages > 100 {
					t.Fatal("violations: too many pages")
				}
				path = "/api/v1/violations?limit=2&cursor=" + url.QueryEscape(page.NextCursor)
			}
			var wantViolations []string
			for _, name := range want {
				wantViolations = append(wantViolations, idOf[name])
			}
			slices.Sort(violations)
			slices.Sort(wantViolations)
			if !slices.Equal(violations, wantViolations) {
				t.Errorf("violations:\ngot  %q\nwant %q", violations, wantViolations)
			}

			// GET /api/v1/sectors: levels are TLP:GREEN.
			resp, b := e.do(t, request{method: "GET", path: "/api/v1/sectors", token: p.secret})
			wantStatus := 403
			if r.reads && levelsSeen[p.kind] != '-' {
				wantStatus = 200
			}
			if resp.StatusCode != wantStatus {
				t.Errorf("sectors: got %d %s, want %d", resp.StatusCode, b, wantStatus)
			}

			if !r.reads {
				return
			}
			var wantLevels []string
			if levelsSeen[p.kind] != '-' {
				wantLevels = levels
			}
			check := func(what string, j judged, final bool) {
				t.Helper()
				if !slices.Equal(j.incidents, want) {
					t.Errorf("%s: incidents:\ngot  %q\nwant %q", what, j.incidents, want)
				}
				if final {
					// Resuming, the stream sends incidents as they stand,
					// not violation events.
					return
				}
				vs := slices.DeleteFunc(slices.Clone(j.violations), func(id string) bool { return !slices.Contains(wantViolations, id) })
				slices.Sort(vs)
				if !slices.Equal(slices.Compact(vs), wantViolations) {
					t.Errorf("%s: violations of:\ngot  %q\nwant %q", what, vs, wantViolations)
				}
				if !slices.Equal(j.levels, wantLevels) {
					t.Errorf("%s: level and trigger events: got %q, want %q", what, j.levels, wantLevels)
				}
			}
			check("live stream", readJudged(t, live[i], p.kind, last, memberOf), false)

			rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			resumed := readJudged(t, e.openStream(t, rctx, p.secret, "", "?after=0"), p.kind, last, memberOf)
			check("stream resumed from 0", resumed, true)
			if !slices.Equal(resumed.levels, wantLevels) {
				t.Errorf("stream resumed from 0: level and trigger events: got %q, want %q", resumed.levels, wantLevels)
			}
		})
	}
}

// allIncidentIDs returns the ids of every incident, as the engine holds
// them (a principal that sees everything).
func allIncidentIDs(t *testing.T, e *testEnv) []string {
	t.Helper()
	var ids []string
	for _, m := range []struct {
		org  truce.OrgID
		kind truce.OrgKind
	}{{orgCoalition, truce.OrgCoalition}, {orgNation, truce.OrgNation}, {orgParty, truce.OrgParty}, {orgPublic, truce.OrgPublic}, {orgRecorder, truce.OrgCoalition}} {
		recs, _ := e.eng.Incidents(engine.IncidentQuery{Viewer: truce.Principal{Org: m.org, Kind: m.kind, Role: truce.RoleAnalyst}, Limit: 1000})
		for _, r := range recs {
			if !slices.Contains(ids, r.Incident.ID) {
				ids = append(ids, r.Incident.ID)
			}
		}
	}
	return ids
}
