package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/pledge"
	"github.com/truce-dev/truce/internal/truce"
)

// The commitments tests: pledges, requirements, gaps, activations and
// support through the real server, with real tokens, over a real store.

// newBookEnv starts a test server keeping commitments in a fresh book.
func newBookEnv(t *testing.T) (*testEnv, *pledge.Book) {
	t.Helper()
	b := pledge.NewBook(pledge.Options{})
	return newEnv(t, func(c *Config) { c.Book = b }), b
}

func jsonRq(method, path, token, body string) request {
	return request{method: method, path: path, token: token, contentType: "application/json", body: body}
}

func stageRq(token, id, body string) request {
	return jsonRq("POST", "/api/v1/pledges/"+id+"/stage", token, body)
}

func date(d string) time.Time {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	amber       = truce.Marking{TLP: truce.TLPAmber}
	amberStrict = truce.Marking{TLP: truce.TLPAmberStrict}
)

// journaling returns a commit function that journals what it is given as
// entries of kind recorded by org, as the server's handlers do.
func journaling[T any](e *testEnv, kind journal.Kind, org truce.OrgID, set func(*journal.Entry, *T)) func(T) error {
	return func(x T) error {
		en := journal.Entry{Kind: kind, Org: org}
		set(&en, &x)
		_, err := e.db.Append(context.Background(), []journal.Entry{en})
		return err
	}
}

// addPledge records pl on b at the first change, then each further one,
// journaling each as recorded by org.
func (e *testEnv) addPledge(t testing.TB, b *pledge.Book, org truce.OrgID, pl truce.Pledge, changes ...truce.StageChange) {
	t.Helper()
	commit := journaling(e, journal.KindPledge, org, func(en *journal.Entry, p *truce.Pledge) {
		c := p.Canonical()
		en.Pledge = &c
	})
	if _, err := b.AddPledge(pl, changes[0], commit); err != nil {
		t.Fatalf("add pledge %s: %v", pl.ID, err)
	}
	for i, c := range changes[1:] {
		if _, err := b.Advance(pl.ID, i+1, c, 0, commit); err != nil {
			t.Fatalf("pledge %s to %s: %v", pl.ID, c.Stage, err)
		}
	}
}

// addRequirement records r on b, journaled as the secretariat's.
func (e *testEnv) addRequirement(t testing.TB, b *pledge.Book, r truce.Requirement) {
	t.Helper()
	commit := journaling(e, journal.KindRequirement, "MISSION", func(en *journal.Entry, x *truce.Requirement) { en.Requirement = x })
	if _, err := b.PutRequirement(r, 0, commit); err != nil {
		t.Fatalf("requirement %s: %v", r.ID, err)
	}
}

// trigger fires the renewed-aggression trigger on b at at and journals the
// activations as the server does (server.Activate: one commit, recorded
// by the coalition).
func (e *testEnv) trigger(t testing.TB, b *pledge.Book, at time.Time) []truce.Activation {
	t.Helper()
	acts, err := b.Trigger(truce.RenewedAggression, at, func(as []truce.Activation) error {
		es := make([]journal.Entry, len(as))
		for i := range as {
			a := as[i].Canonical()
			es[i] = journal.Entry{Kind: journal.KindActivation, Org: "coalition", Activation: &a}
		}
		_, err := e.db.Append(context.Background(), es)
		return err
	})
	if err != nil {
		t.Fatalf("trigger: %v", err)
	}
	return acts
}

// commitStep is one request of a commitments test and what it must do.
type commitStep struct {
	name string
	rq   request
	want int
	// kind and org: the entry the request journals and who recorded it;
	// kind "" when it must journal nothing (every refused request).
	kind journal.Kind
	org  truce.OrgID
	// check, when set, checks the answer.
	check func(t *testing.T, resp *http.Response, body []byte)
}

// runSteps sends each step's request in order, checking its status, what
// it journaled and its answer.
func (e *testEnv) runSteps(t *testing.T, steps []commitStep) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before := e.head(t)
			resp, b := e.do(t, s.rq)
			if resp.StatusCode != s.want {
				t.Fatalf("%s %s: got %d %s, want %d", s.rq.method, s.rq.path, resp.StatusCode, b, s.want)
			}
			var got []string
			err := e.db.Entries(context.Background(), before, 0, func(en *journal.Entry, _ []byte) error {
				got = append(got, string(en.Kind)+" by "+string(en.Org))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			if s.kind != "" {
				want = []string{string(s.kind) + " by " + string(s.org)}
			}
			if !slices.Equal(got, want) {
				t.Errorf("journaled %q, want %q", got, want)
			}
			if s.check != nil {
				s.check(t, resp, b)
			}
		})
	}
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// wantPledge checks the pledge answered: its stage, version, quantity and
// how many changes it has, and that the ETag is its version.
func wantPledge(stage string, version int, quantity float64, changes int) func(*testing.T, *http.Response, []byte) {
	return func(t *testing.T, resp *http.Response, b []byte) {
		t.Helper()
		p := decode[api.Pledge](t, b)
		if p.Stage != stage || p.Version != version || p.Quantity != quantity || len(p.History) != changes {
			t.Errorf("pledge %s v%d quantity %g with %d changes; want %s v%d quantity %g with %d", p.Stage, p.Version, p.Quantity, len(p.History),
				stage, version, quantity, changes)
		}
		if got, want := resp.Header.Get("ETag"), fmt.Sprintf(`"%d"`, version); got != want {
			t.Errorf("ETag %s, want %s", got, want)
		}
	}
}

// wantWords checks that the error answered holds every one of words.
func wantWords(words ...string) func(*testing.T, *http.Response, []byte) {
	return func(t *testing.T, _ *http.Response, b []byte) {
		t.Helper()
		eb := decode[errorBody](t, b)
		for _, w := range words {
			if !strings.Contains(eb.Error, w) {
				t.Errorf("error %q lacks %q", eb.Error, w)
			}
		}
	}
}

// TestPledgeStages records a nation's pledge and walks it through its
// stages, with the refusals on the way.
func TestPledgeStages(t *testing.T) {
	e, _ := newBookEnv(t)
	gbr := e.token(t, "GBR", truce.OrgNation, truce.RolePlanner)
	gbrViewer := e.token(t, "GBR", truce.OrgNation, truce.RoleViewer)
	fra := e.token(t, "FRA", truce.OrgNation, truce.RolePlanner)
	secretariat := e.token(t, "MISSION", truce.OrgCoalition, truce.RolePlanner)
	coalAdmin := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAdmin)
	ua := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison)

	const gbr1 = `{"id":"gbr-1","capability":"land_force","quantity":1,"unit":"battalion","approval":"parliament","change":{"stage":"announced","date":"2026-02-20","by":"government"}}`
	e.runSteps(t, []commitStep{
		{"recorded", jsonRq("POST", "/api/v1/pledges", gbr, gbr1), 201, journal.KindPledge, "GBR", func(t *testing.T, resp *http.Response, b []byte) {
			wantPledge("announced", 1, 1, 1)(t, resp, b)
			p := decode[api.Pledge](t, b)
			if loc := resp.Header.Get("Location"); loc != "/api/v1/pledges/gbr-1" {
				t.Errorf("Location %q, want /api/v1/pledges/gbr-1", loc)
			}
			// The nation defaults to the token's; the marking to AMBER.
			if p.Nation != "GBR" || p.Marking == nil || p.Marking.TLP != "AMBER" || len(p.History) == 0 || p.History[0].Date != "2026-02-20T00:00:00Z" {
				t.Errorf("pledge %+v: want nation GBR, TLP:AMBER, first change on 2026-02-20T00:00:00Z", p)
			}
		}},
		{"read", request{method: "GET", path: "/api/v1/pledges/gbr-1", token: gbrViewer}, 200, "", "", wantPledge("announced", 1, 1, 1)},
		{"recorded again", jsonRq("POST", "/api/v1/pledges", gbr, gbr1), 409, "", "", wantWords("gbr-1 already exists")},
		{"for another nation", jsonRq("POST", "/api/v1/pledges", gbr, strings.Replace(gbr1, `{`, `{"nation":"FRA",`, 1)), 403, "", "", wantWords("FRA")},
		{"by another nation", jsonRq("POST", "/api/v1/pledges", fra, strings.Replace(gbr1, `{`, `{"nation":"GBR",`, 1)), 403, "", "", nil},
		{"by the secretariat's planner", jsonRq("POST", "/api/v1/pledges", secretariat, strings.Replace(gbr1, `{`, `{"nation":"GBR",`, 1)), 403, "", "", nil},
		{"bad quantity", jsonRq("POST", "/api/v1/pledges", gbr, strings.Replace(strings.Replace(gbr1, `"quantity":1`, `"quantity":-2`, 1), "gbr-1", "gbr-2", 1)), 400, "", "",
			wantWords("pledge gbr-2.quantity")},
		{"advanced by another nation", stageRq(fra, "gbr-1", `{"stage":"approved","date":"2026-02-25","reference":"vote 12","version":1}`), 403, "", "", nil},
		{"approved without its vote", stageRq(gbr, "gbr-1", `{"stage":"approved","date":"2026-02-25","version":1}`), 400, "", "", wantWords("stage_reference", "parliament")},
		{"approved", stageRq(gbr, "gbr-1", `{"stage":"approved","date":"2026-02-25","by":"parliament","reference":"vote 12","version":1}`), 200, journal.KindPledge, "GBR",
			wantPledge("approved", 2, 1, 2)},
		{"stale version", stageRq(gbr, "gbr-1", `{"stage":"ready","date":"2026-02-26","version":1}`), 409, "", "", wantWords("at version 2, not 1")},
		{"back a stage", stageRq(gbr, "gbr-1", `{"stage":"announced","date":"2026-02-26","version":2}`), 409, "", "",
			wantWords("gbr-1 is approved", "cannot go back or stay at announced")},
		{"version 0", stageRq(gbr, "gbr-1", `{"stage":"ready","date":"2026-02-26","version":0}`), 400, "", "", wantWords("version")},
		{"before the last change", stageRq(gbr, "gbr-1", `{"stage":"ready","date":"2026-02-24","version":2}`), 400, "", "", wantWords("2026-02-24 is before", "2026-02-25")},
		{"bad date", stageRq(gbr, "gbr-1", `{"stage":"ready","date":"soon","version":2}`), 400, "", "", wantWords("pledge gbr-1.date", `"soon"`)},
		{"negative quantity", stageRq(gbr, "gbr-1", `{"stage":"ready","date":"2026-02-26","version":2,"quantity":-1}`), 400, "", "", wantWords("quantity")},
		{"ready, two battalions, by If-Match", request{method: "POST", path: "/api/v1/pledges/gbr-1/stage", token: gbr, contentType: "application/json",
			body: `{"stage":"ready","date":"2026-02-26","quantity":2}`, header: map[string]string{"If-Match": `"2"`}}, 200, journal.KindPledge, "GBR", wantPledge("ready", 3, 2, 3)},
		{"deployed by the coalition's admin", stageRq(coalAdmin, "gbr-1", `{"stage":"deployed","date":"2026-02-27","version":3}`), 200, journal.KindPledge, "MISSION",
			wantPledge("deployed", 4, 2, 4)},
		{"withdrawn after the last stage", stageRq(gbr, "gbr-1", `{"stage":"withdrawn","date":"2026-02-28","version":4}`), 409, "", "",
			wantWords("gbr-1 is deployed, its last stage", "withdrawn")},
		{"a party's liaison", stageRq(ua, "gbr-1", `{"stage":"withdrawn","date":"2026-02-28","version":4}`), 404, "", "", nil},
		{"unknown", stageRq(gbr, "nothing", `{"stage":"ready","date":"2026-02-28","version":1}`), 404, "", "", nil},
		{"not JSON", request{method: "POST", path: "/api/v1/pledges/gbr-1/stage", token: gbr, contentType: "text/plain", body: `{}`}, 415, "", "", nil},
		{"as it stands", request{method: "GET", path: "/api/v1/pledges/gbr-1", token: gbrViewer}, 200, "", "", wantPledge("deployed", 4, 2, 4)},
	})
}

// TestPledgeVisibility: who sees which pledge, by its marking and nation.
func TestPledgeVisibility(t *testing.T) {
	e, b := newBookEnv(t)
	approved := truce.StageChange{Stage: truce.StageApproved, Date: date("2026-02-01")}
	pl := func(id string, n truce.NationID, m truce.Marking) truce.Pledge {
		return truce.Pledge{ID: id, Nation: n, Capability: truce.CapAirPolicing, Quantity: 4, Unit: "aircraft", Marking: m}
	}
	e.addPledge(t, b, "GBR", pl("gbr-1", "GBR", amber), approved)
	e.addPledge(t, b, "GBR", pl("gbr-red", "GBR", truce.Marking{TLP: truce.TLPRed}), approved)
	e.addPledge(t, b, "FRA", pl("fra-strict", "FRA", amberStrict), approved)
	tokens := map[string]string{
		"GBR viewer":       e.token(t, "GBR", truce.OrgNation, truce.RoleViewer),
		"FRA viewer":       e.token(t, "FRA", truce.OrgNation, truce.RoleViewer),
		"coalition viewer": e.token(t, "MISSION", truce.OrgCoalition, truce.RoleViewer),
		"party liaison":    e.token(t, "UA", truce.OrgParty, truce.RoleLiaison),
		"public":           e.token(t, "PRESS", truce.OrgPublic, truce.RoleViewer),
		"coalition sensor": e.token(t, "MISSION", truce.OrgCoalition, truce.RoleSensor),
	}
	tests := []struct {
		who, path string
		status    int
		ids       []string // listed, or got
	}{
		// A nation sees AMBER and its own, whatever their marking.
		{"GBR viewer", "/api/v1/pledges", 200, []string{"gbr-1", "gbr-red"}},
		{"GBR viewer", "/api/v1/pledges/gbr-red", 200, []string{"gbr-red"}},
		{"GBR viewer", "/api/v1/pledges/fra-strict", 404, nil},
		{"FRA viewer", "/api/v1/pledges", 200, []string{"fra-strict", "gbr-1"}},
		{"FRA viewer", "/api/v1/pledges/gbr-red", 404, nil},
		// The coalition sees AMBER+STRICT, not RED.
		{"coalition viewer", "/api/v1/pledges", 200, []string{"fra-strict", "gbr-1"}},
		{"coalition viewer", "/api/v1/pledges?nation=GBR", 200, []string{"gbr-1"}},
		{"coalition viewer", "/api/v1/pledges?nation=GBR&stage=ready", 200, nil},
		{"coalition viewer", "/api/v1/pledges?capability=air_policing&stage=approved", 200, []string{"fra-strict", "gbr-1"}},
		{"coalition viewer", "/api/v1/pledges?stage=pending", 400, nil},
		{"coalition viewer", "/api/v1/pledges?capability=tanks", 400, nil},
		// The parties and the public see none.
		{"party liaison", "/api/v1/pledges", 200, nil},
		{"party liaison", "/api/v1/pledges/gbr-1", 404, nil},
		{"public", "/api/v1/pledges", 200, nil},
		{"coalition sensor", "/api/v1/pledges", 403, nil},
	}
	for _, tc := range tests {
		t.Run(tc.who+" "+tc.path, func(t *testing.T) {
			resp, body := e.do(t, request{method: "GET", path: tc.path, token: tokens[tc.who]})
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status != 200 {
				return
			}
			var got []string
			if strings.HasPrefix(tc.path, "/api/v1/pledges/") {
				got = []string{decode[api.Pledge](t, body).ID}
			} else {
				for _, p := range decode[pledgesAnswer](t, body).Pledges {
					got = append(got, p.ID)
				}
			}
			if !slices.Equal(got, tc.ids) {
				t.Errorf("got %q, want %q", got, tc.ids)
			}
		})
	}
}

// TestRequirements: the secretariat records and replaces requirements; the
// nations may not.
func TestRequirements(t *testing.T) {
	e, _ := newBookEnv(t)
	secretariat := e.token(t, "MISSION", truce.OrgCoalition, truce.RolePlanner)
	monitor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleMonitor)
	gbr := e.token(t, "GBR", truce.OrgNation, truce.RolePlanner)
	gbrAdmin := e.token(t, "GBR", truce.OrgNation, truce.RoleAdmin)
	gbrViewer := e.token(t, "GBR", truce.OrgNation, truce.RoleViewer)
	ua := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison)

	const land = `{"id":"land","capability":"land_force","quantity":4,"unit":"battalion","domain":"land","where":"ukraine","from":"2026-04-01"}`
	withVersion := func(body string, v string) string { return strings.Replace(body, `{`, `{"version":`+v+`,`, 1) }
	wantReq := func(quantity float64, version int) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, resp *http.Response, b []byte) {
			t.Helper()
			r := decode[api.Requirement](t, b)
			if r.Quantity != quantity || r.Version != version || r.From != "2026-04-01T00:00:00Z" || r.Marking == nil || r.Marking.TLP != "AMBER" {
				t.Errorf("requirement %+v; want quantity %g, version %d, from 2026-04-01T00:00:00Z, TLP:AMBER", r, quantity, version)
			}
			if got, want := resp.Header.Get("ETag"), fmt.Sprintf(`"%d"`, version); got != want {
				t.Errorf("ETag %s, want %s", got, want)
			}
		}
	}
	list := func(want ...string) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, _ *http.Response, b []byte) {
			t.Helper()
			var got []string
			for _, r := range decode[requirementsAnswer](t, b).Requirements {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("requirements %q, want %q", got, want)
			}
		}
	}
	e.runSteps(t, []commitStep{
		{"recorded", jsonRq("POST", "/api/v1/requirements", secretariat, land), 201, journal.KindRequirement, "MISSION", func(t *testing.T, resp *http.Response, b []byte) {
			wantReq(4, 1)(t, resp, b)
			if loc := resp.Header.Get("Location"); loc != "/api/v1/requirements/land" {
				t.Errorf("Location %q, want /api/v1/requirements/land", loc)
			}
		}},
		{"recorded again", jsonRq("POST", "/api/v1/requirements", secretariat, land), 409, "", "", wantWords("land is at version 1")},
		{"by a nation's planner", jsonRq("POST", "/api/v1/requirements", gbr, strings.Replace(land, `"land"`, `"air"`, 1)), 403, "", "", nil},
		{"by a nation's admin", jsonRq("POST", "/api/v1/requirements", gbrAdmin, strings.Replace(land, `"land"`, `"air"`, 1)), 403, "", "", nil},
		{"by a coalition monitor", jsonRq("POST", "/api/v1/requirements", monitor, strings.Replace(land, `"land"`, `"air"`, 1)), 403, "", "", nil},
		{"bad quantity", jsonRq("POST", "/api/v1/requirements", secretariat, strings.Replace(strings.Replace(land, `"land"`, `"air"`, 1), `"quantity":4`, `"quantity":0`, 1)), 400, "", "",
			wantWords("requirement air.quantity")},
		{"replaced", jsonRq("PUT", "/api/v1/requirements/land", secretariat, withVersion(strings.Replace(land, `"quantity":4`, `"quantity":5`, 1), "1")), 200,
			journal.KindRequirement, "MISSION", wantReq(5, 2)},
		{"replaced by If-Match", request{method: "PUT", path: "/api/v1/requirements/land", token: secretariat, contentType: "application/json",
			body: strings.Replace(land, `"quantity":4`, `"quantity":6`, 1), header: map[string]string{"If-Match": `"2"`}}, 200, journal.KindRequirement, "MISSION", wantReq(6, 3)},
		{"no version", jsonRq("PUT", "/api/v1/requirements/land", secretariat, land), 400, "", "", wantWords("version")},
		{"stale", jsonRq("PUT", "/api/v1/requirements/land", secretariat, withVersion(land, "2")), 409, "", "", wantWords("at version 3, not 2")},
		{"another id", jsonRq("PUT", "/api/v1/requirements/land", secretariat, withVersion(strings.Replace(land, `"land"`, `"air"`, 1), "3")), 400, "", "", wantWords(`"air" is not the requirement of the path, "land"`)},
		{"unknown", jsonRq("PUT", "/api/v1/requirements/air", secretariat, withVersion(strings.Replace(land, `"id":"land",`, ``, 1), "1")), 404, "", "", nil},
		{"replaced by a nation", jsonRq("PUT", "/api/v1/requirements/land", gbr, withVersion(land, "3")), 403, "", "", nil},
		{"listed to a nation", request{method: "GET", path: "/api/v1/requirements", token: gbrViewer}, 200, "", "", list("land")},
		{"not to a party", request{method: "GET", path: "/api/v1/requirements", token: ua}, 200, "", "", list()},
	})
}

// gapWant is what a requirement's gap must show.
type gapWant struct{ counted, missing, contingent float64 }

// TestGaps checks the gaps of a small example worked out by hand:
//
//	land: 4 battalions of land_force, land domain, in ukraine
//	  gbr-land  GBR 2, deployed
//	  fra-land  FRA 1, approved
//	  pol-land  POL 1, ready, caveat: stays within adjacent_territory
//	  deu-land  DEU 1, announced, awaiting the Bundestag
//	  nld-land  NLD 1, approved, contingent, not activated
//	air: 12 aircraft of air_policing, air domain
//	  deu-air   DEU 8, approved, caveat: air domain only
//	  fra-air   FRA 2, approved, TLP:AMBER+STRICT (the coalition sees it,
//	            the other nations do not)
//	  ita-air   ITA 2, withdrawn
//	swe-isr     SWE 2 aircraft of isr, announced, no requirement
func TestGaps(t *testing.T) {
	e, b := newBookEnv(t)
	e.addRequirement(t, b, truce.Requirement{ID: "land", Capability: truce.CapLandForce, Quantity: 4, Unit: "battalion", Domain: truce.DomainLand, Where: "ukraine", Marking: amber})
	e.addRequirement(t, b, truce.Requirement{ID: "air", Capability: truce.CapAirPolicing, Quantity: 12, Unit: "aircraft", Domain: truce.DomainAir, Marking: amber})
	at := func(s truce.PledgeStage, d string) truce.StageChange {
		return truce.StageChange{Stage: s, Date: date(d), By: "government", Reference: "decision " + d}
	}
	pl := func(id string, n truce.NationID, c truce.Capability, q float64, unit, req string) truce.Pledge {
		return truce.Pledge{ID: id, Nation: n, Capability: c, Quantity: q, Unit: unit, Requirement: req, Marking: amber}
	}
	e.addPledge(t, b, "GBR", pl("gbr-land", "GBR", truce.CapLandForce, 2, "battalion", "land"), at("approved", "2026-02-01"), at("deployed", "2026-02-10"))
	e.addPledge(t, b, "FRA", pl("fra-land", "FRA", truce.CapLandForce, 1, "battalion", "land"), at("approved", "2026-02-02"))
	pol := pl("pol-land", "POL", truce.CapLandForce, 1, "battalion", "land")
	pol.Caveat = truce.PledgeCaveat{Text: "from Polish territory only", Within: "adjacent_territory"}
	e.addPledge(t, b, "POL", pol, at("ready", "2026-02-03"))
	deu := pl("deu-land", "DEU", truce.CapLandForce, 1, "battalion", "land")
	deu.Approval = "Bundestag"
	e.addPledge(t, b, "DEU", deu, at("announced", "2026-02-04"))
	nld := pl("nld-land", "NLD", truce.CapLandForce, 1, "battalion", "land")
	nld.Contingent, nld.Trigger = true, truce.RenewedAggression
	e.addPledge(t, b, "NLD", nld, at("approved", "2026-02-05"))
	deuAir := pl("deu-air", "DEU", truce.CapAirPolicing, 8, "aircraft", "air")
	deuAir.Caveat = truce.PledgeCaveat{Text: "air only", Domains: []truce.Domain{truce.DomainAir}}
	e.addPledge(t, b, "DEU", deuAir, at("approved", "2026-02-06"))
	fraAir := pl("fra-air", "FRA", truce.CapAirPolicing, 2, "aircraft", "air")
	fraAir.Marking = amberStrict
	e.addPledge(t, b, "FRA", fraAir, at("approved", "2026-02-07"))
	e.addPledge(t, b, "ITA", pl("ita-air", "ITA", truce.CapAirPolicing, 2, "aircraft", "air"), at("announced", "2026-02-01"), at("withdrawn", "2026-02-08"))
	e.addPledge(t, b, "SWE", pl("swe-isr", "SWE", truce.CapISR, 2, "aircraft", ""), at("announced", "2026-02-09"))

	coalition := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst)
	gbrViewer := e.token(t, "GBR", truce.OrgNation, truce.RoleViewer)
	ua := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison)
	tests := []struct {
		name, token, query string
		want               map[string]gapWant
		excluded           map[string]string // pledge: why a share was left out
	}{
		// At approved: land GBR 2 + FRA 1 + POL 1 (ready) = 4, none
		// missing; NLD's contingent 1 waits for its activation; DEU is
		// only announced. Air: DEU 8 + FRA 2 = 10 of 12 (ITA withdrew).
		{"approved", coalition, "", map[string]gapWant{"land": {4, 0, 1}, "air": {10, 2, 0}}, nil},
		// At ready: land GBR 2 + POL 1 = 3; NLD is not ready, so adds
		// nothing. Air: nothing is ready.
		{"ready", coalition, "?stage=ready", map[string]gapWant{"land": {3, 1, 0}, "air": {0, 12, 0}}, nil},
		// At announced: DEU's battalion counts too: 5.
		{"announced", coalition, "?stage=announced", map[string]gapWant{"land": {5, 0, 1}, "air": {10, 2, 0}}, nil},
		// Without GBR: land FRA 1 + POL 1 = 2, two missing.
		{"without GBR", coalition, "?without=GBR", map[string]gapWant{"land": {2, 2, 1}, "air": {10, 2, 0}},
			map[string]string{"gbr-land": "what if GBR withdrew"}},
		// Caveats held: POL stays within adjacent_territory, not ukraine:
		// land GBR 2 + FRA 1 = 3. DEU's air-only caveat suits air.
		{"caveats hold", coalition, "?caveats=hold", map[string]gapWant{"land": {3, 1, 1}, "air": {10, 2, 0}},
			map[string]string{"pol-land": "caveat: stays within adjacent_territory, not ukraine", "deu-air": ""}},
		{"caveats ignored", coalition, "?caveats=ignore", map[string]gapWant{"land": {4, 0, 1}, "air": {10, 2, 0}}, map[string]string{"pol-land": ""}},
		// All at once: land loses GBR, FRA and POL: 0 counted; air loses
		// FRA: DEU 8.
		{"without GBR and FRA, caveats hold", coalition, "?without=GBR,FRA&caveats=hold", map[string]gapWant{"land": {0, 4, 1}, "air": {8, 4, 0}}, nil},
		// GBR does not see FRA's AMBER+STRICT aircraft: air DEU 8 of 12.
		{"as GBR sees it", gbrViewer, "", map[string]gapWant{"land": {4, 0, 1}, "air": {8, 4, 0}}, nil},
		// A party sees no requirement.
		{"as a party sees it", ua, "", map[string]gapWant{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.head(t)
			resp, body := e.do(t, request{method: "GET", path: "/api/v1/gaps" + tc.query, token: tc.token})
			if resp.StatusCode != 200 {
				t.Fatalf("got %d %s, want 200", resp.StatusCode, body)
			}
			g := decode[api.Gaps](t, body)
			got := map[string]gapWant{}
			why := map[string]string{}
			for _, x := range g.Requirements {
				got[x.Requirement.ID] = gapWant{x.Counted, x.Missing, x.Contingent}
				for _, s := range x.Shares {
					why[s.Pledge] = s.Excluded
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("gaps of %d requirements %v, want %d", len(got), got, len(tc.want))
			}
			for id, w := range tc.want {
				if got[id] != w {
					t.Errorf("%s: counted, missing, contingent %v, want %v", id, got[id], w)
				}
			}
			for p, w := range tc.excluded {
				if r, ok := why[p]; !ok || r != w {
					t.Errorf("share of %s excluded %q (listed: %v), want %q", p, r, ok, w)
				}
			}
			if h := e.head(t); h != before {
				t.Errorf("a read journaled %d entries", h-before)
			}
		})
	}

	t.Run("approval and assignment", func(t *testing.T) {
		_, body := e.do(t, request{method: "GET", path: "/api/v1/gaps", token: coalition})
		g := decode[api.Gaps](t, body)
		var awaiting, unassigned []string
		for _, p := range g.AwaitingApproval {
			awaiting = append(awaiting, p.ID)
		}
		for _, p := range g.Unassigned {
			unassigned = append(unassigned, p.ID)
		}
		if !slices.Equal(awaiting, []string{"deu-land"}) || !slices.Equal(unassigned, []string{"swe-isr"}) {
			t.Errorf("awaiting approval %q, unassigned %q; want [deu-land], [swe-isr]", awaiting, unassigned)
		}
	})

	for _, tc := range []struct{ query, field string }{
		{"?stage=soon", "stage"},
		{"?stage=withdrawn", "stage"},
		{"?caveats=maybe", "caveats"},
		{"?nation=GBR", "nation"},
	} {
		t.Run("refused "+tc.query, func(t *testing.T) {
			resp, body := e.do(t, request{method: "GET", path: "/api/v1/gaps" + tc.query, token: coalition})
			if resp.StatusCode != 400 {
				t.Fatalf("got %d %s, want 400", resp.StatusCode, body)
			}
			if msg := decode[errorBody](t, body).Error; !strings.HasPrefix(msg, tc.field+":") {
				t.Errorf("error %q does not name the field %s", msg, tc.field)
			}
		})
	}
}

// TestActivations: the trigger fires twice; the activations of the first
// firing are overdue by the server's clock; each nation acknowledges its
// own, and then its pledge counts.
func TestActivations(t *testing.T) {
	e, b := newBookEnv(t)
	e.addRequirement(t, b, truce.Requirement{ID: "land", Capability: truce.CapLandForce, Quantity: 4, Unit: "battalion", Marking: amber})
	approved := truce.StageChange{Stage: truce.StageApproved, Date: date("2026-02-01")}
	contingent := func(id string, n truce.NationID) truce.Pledge {
		return truce.Pledge{ID: id, Nation: n, Capability: truce.CapLandForce, Quantity: 1, Unit: "battalion", Requirement: "land",
			Contingent: true, Trigger: truce.RenewedAggression, Marking: amber}
	}
	e.addPledge(t, b, "NLD", contingent("nld-c", "NLD"), approved)
	e.addPledge(t, b, "GBR", contingent("gbr-c", "GBR"), approved)
	e.addPledge(t, b, "ITA", contingent("ita-c", "ITA"), approved, truce.StageChange{Stage: truce.StageWithdrawn, Date: date("2026-02-02")})
	standing := contingent("fra-s", "FRA")
	standing.Contingent, standing.Trigger = false, ""
	e.addPledge(t, b, "FRA", standing, approved)
	// The server's clock is 2026-03-01T12:00Z; an activation is due 12
	// hours after its trigger. The first firing, 13 hours before, is
	// overdue; the second, 2 hours before, is not.
	for _, at := range []time.Time{testNow.Add(-13 * time.Hour), testNow.Add(-2 * time.Hour)} {
		if acts := e.trigger(t, b, at); len(acts) != 2 {
			t.Fatalf("the trigger at %s activated %v, want nld-c and gbr-c", at, acts)
		}
	}
	const (
		gbr1, gbr2 = "gbr-c@20260228T230000Z", "gbr-c@20260301T100000Z"
		nld1, nld2 = "nld-c@20260228T230000Z", "nld-c@20260301T100000Z"
	)
	gbrViewer := e.token(t, "GBR", truce.OrgNation, truce.RoleViewer)
	nld := e.token(t, "NLD", truce.OrgNation, truce.RolePlanner)
	nldViewer := e.token(t, "NLD", truce.OrgNation, truce.RoleViewer)
	fra := e.token(t, "FRA", truce.OrgNation, truce.RolePlanner)
	secretariat := e.token(t, "MISSION", truce.OrgCoalition, truce.RolePlanner)
	ua := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison)
	public := e.token(t, "PRESS", truce.OrgPublic, truce.RoleViewer)

	list := func(want ...string) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, _ *http.Response, b []byte) {
			t.Helper()
			var got []string
			for _, a := range decode[activationsAnswer](t, b).Activations {
				got = append(got, a.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("activations %q, want %q", got, want)
			}
		}
	}
	get := func(token, query string) request {
		return request{method: "GET", path: "/api/v1/activations" + query, token: token}
	}
	ack := func(token, id string) request {
		return request{method: "POST", path: "/api/v1/activations/" + id + "/acknowledge", token: token}
	}
	acknowledged := func(t *testing.T, _ *http.Response, body []byte) {
		a := decode[api.Activation](t, body)
		want := api.Activation{ID: nld1, Pledge: "nld-c", Nation: "NLD", Trigger: truce.RenewedAggression, At: "2026-02-28T23:00:00Z",
			Due: "2026-03-01T11:00:00Z", Acknowledged: true, AcknowledgedAt: "2026-03-01T12:00:00Z", Overdue: false}
		if a != want {
			t.Errorf("got %+v, want %+v", a, want)
		}
	}
	landCounts := func(counted, contingent float64) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, _ *http.Response, body []byte) {
			g := decode[api.Gaps](t, body)
			if len(g.Requirements) != 1 || g.Requirements[0].Counted != counted || g.Requirements[0].Contingent != contingent {
				t.Errorf("gaps %+v; want land counted %g, contingent %g", g.Requirements, counted, contingent)
			}
		}
	}
	e.runSteps(t, []commitStep{
		// ITA's contingent pledge was withdrawn, FRA's is not contingent.
		{"all", get(gbrViewer, ""), 200, "", "", list(gbr1, gbr2, nld1, nld2)},
		{"overdue", get(gbrViewer, "?overdue=true"), 200, "", "", list(gbr1, nld1)},
		{"not only overdue", get(gbrViewer, "?overdue=false"), 200, "", "", list(gbr1, gbr2, nld1, nld2)},
		{"NLD's overdue", get(gbrViewer, "?nation=NLD&overdue=true"), 200, "", "", list(nld1)},
		{"overdue, not a boolean", get(gbrViewer, "?overdue=yes"), 400, "", "", wantWords("overdue")},
		{"a party's liaison", get(ua, ""), 403, "", "", nil},
		{"the public", get(public, ""), 403, "", "", nil},
		// Standing FRA 1 counts; the contingent pledges wait.
		{"gaps before", request{method: "GET", path: "/api/v1/gaps", token: gbrViewer}, 200, "", "", landCounts(1, 2)},
		{"acknowledged by another nation", ack(fra, nld1), 409, "", "", wantWords("NLD's to acknowledge, not FRA's")},
		{"acknowledged by the nation's viewer", ack(nldViewer, nld1), 403, "", "", nil},
		{"acknowledged by the secretariat", ack(secretariat, nld1), 403, "", "", nil},
		{"acknowledged", ack(nld, nld1), 200, journal.KindActivation, "NLD", acknowledged},
		{"acknowledged again", ack(nld, nld1), 200, "", "", acknowledged},
		{"unknown", ack(nld, "nld-c@20260101T000000Z"), 404, "", "", nil},
		{"overdue after", get(gbrViewer, "?overdue=true"), 200, "", "", list(gbr1)},
		// NLD's battalion now counts: FRA 1 + NLD 1; GBR's still waits.
		{"gaps after", request{method: "GET", path: "/api/v1/gaps", token: gbrViewer}, 200, "", "", landCounts(2, 1)},
	})
}

// TestSupport: the secretariat records support; everyone sees what is
// CLEAR, with totals worked out by hand.
func TestSupport(t *testing.T) {
	e, _ := newBookEnv(t)
	secretariat := e.token(t, "MISSION", truce.OrgCoalition, truce.RolePlanner)
	coalViewer := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleViewer)
	gbr := e.token(t, "GBR", truce.OrgNation, truce.RolePlanner)
	ua := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison)
	public := e.token(t, "PRESS", truce.OrgPublic, truce.RoleViewer)
	sensor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleSensor)

	const (
		s1 = `{"id":"s1","donor":"DEU","type":"military","item":"air defence","value_eur":1000000,"announced":"2024-03-01","stage":"allocated","delivered_eur":600000}`
		s2 = `{"id":"s2","donor":"DEU","type":"financial","item":"budget support","value_eur":500000,"announced":"2025-03-01","stage":"committed"}`
		s3 = `{"id":"s3","donor":"GBR","type":"military","item":"artillery shells","value_eur":300000,"announced":"2025-06-01","stage":"allocated","delivered_eur":300000,"marking":{"tlp":"AMBER"}}`
	)
	e.runSteps(t, []commitStep{
		{"s1", jsonRq("POST", "/api/v1/support", secretariat, s1), 201, journal.KindSupport, "MISSION", func(t *testing.T, _ *http.Response, b []byte) {
			s := decode[api.Support](t, b)
			if s.Marking == nil || s.Marking.TLP != "CLEAR" || s.Announced != "2024-03-01" || s.DeliveredEUR != 600000 {
				t.Errorf("support %+v; want TLP:CLEAR, announced 2024-03-01, 600000 delivered", s)
			}
		}},
		{"s2", jsonRq("POST", "/api/v1/support", secretariat, s2), 201, journal.KindSupport, "MISSION", nil},
		{"s3", jsonRq("POST", "/api/v1/support", secretariat, s3), 201, journal.KindSupport, "MISSION", nil},
		{"by a nation", jsonRq("POST", "/api/v1/support", gbr, strings.Replace(s3, `"s3"`, `"s4"`, 1)), 403, "", "", nil},
		{"by a party", jsonRq("POST", "/api/v1/support", ua, strings.Replace(s3, `"s3"`, `"s4"`, 1)), 403, "", "", nil},
		{"delivered over its value", jsonRq("POST", "/api/v1/support", secretariat, strings.Replace(strings.Replace(s1, `"s1"`, `"s4"`, 1), "600000", "1000001", 1)), 400, "", "",
			wantWords("support s4.delivered_eur")},
		{"no date", jsonRq("POST", "/api/v1/support", secretariat, strings.Replace(strings.Replace(s1, `"s1"`, `"s4"`, 1), "2024-03-01", "March", 1)), 400, "", "",
			wantWords("support s4.announced")},
	})

	// s1 DEU military 1,000,000 allocated (600,000 delivered), 2024;
	// s2 DEU financial 500,000 committed, 2025;
	// s3 GBR military 300,000 allocated (all delivered), 2025, AMBER.
	tests := []struct {
		name, token, query string
		ids                []string
		all                api.Totals
		byDonor, byYear    map[string]api.Totals
	}{
		{"the coalition", coalViewer, "", []string{"s1", "s2", "s3"},
			api.Totals{Records: 3, ValueEUR: 1800000, AllocatedEUR: 1300000, DeliveredEUR: 900000},
			map[string]api.Totals{"DEU": {Records: 2, ValueEUR: 1500000, AllocatedEUR: 1000000, DeliveredEUR: 600000}, "GBR": {Records: 1, ValueEUR: 300000, AllocatedEUR: 300000, DeliveredEUR: 300000}},
			map[string]api.Totals{"2024": {Records: 1, ValueEUR: 1000000, AllocatedEUR: 1000000, DeliveredEUR: 600000}, "2025": {Records: 2, ValueEUR: 800000, AllocatedEUR: 300000, DeliveredEUR: 300000}}},
		// The party and the public see the CLEAR records only.
		{"a party", ua, "", []string{"s1", "s2"},
			api.Totals{Records: 2, ValueEUR: 1500000, AllocatedEUR: 1000000, DeliveredEUR: 600000},
			map[string]api.Totals{"DEU": {Records: 2, ValueEUR: 1500000, AllocatedEUR: 1000000, DeliveredEUR: 600000}},
			map[string]api.Totals{"2024": {Records: 1, ValueEUR: 1000000, AllocatedEUR: 1000000, DeliveredEUR: 600000}, "2025": {Records: 1, ValueEUR: 500000, DeliveredEUR: 0}}},
		{"the public", public, "", []string{"s1", "s2"},
			api.Totals{Records: 2, ValueEUR: 1500000, AllocatedEUR: 1000000, DeliveredEUR: 600000},
			map[string]api.Totals{"DEU": {Records: 2, ValueEUR: 1500000, AllocatedEUR: 1000000, DeliveredEUR: 600000}},
			map[string]api.Totals{"2024": {Records: 1, ValueEUR: 1000000, AllocatedEUR: 1000000, DeliveredEUR: 600000}, "2025": {Records: 1, ValueEUR: 500000}}},
		{"military", coalViewer, "?type=military", []string{"s1", "s3"},
			api.Totals{Records: 2, ValueEUR: 1300000, AllocatedEUR: 1300000, DeliveredEUR: 900000},
			map[string]api.Totals{"DEU": {Records: 1, ValueEUR: 1000000, AllocatedEUR: 1000000, DeliveredEUR: 600000}, "GBR": {Records: 1, ValueEUR: 300000, AllocatedEUR: 300000, DeliveredEUR: 300000}},
			map[string]api.Totals{"2024": {Records: 1, ValueEUR: 1000000, AllocatedEUR: 1000000, DeliveredEUR: 600000}, "2025": {Records: 1, ValueEUR: 300000, AllocatedEUR: 300000, DeliveredEUR: 300000}}},
		{"GBR's, as a party sees them", ua, "?donor=GBR", nil, api.Totals{}, map[string]api.Totals{}, map[string]api.Totals{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, request{method: "GET", path: "/api/v1/support" + tc.query, token: tc.token})
			if resp.StatusCode != 200 {
				t.Fatalf("got %d %s, want 200", resp.StatusCode, body)
			}
			res := decode[supportAnswer](t, body)
			var ids []string
			for _, s := range res.Records {
				ids = append(ids, s.ID)
			}
			if !slices.Equal(ids, tc.ids) {
				t.Errorf("records %q, want %q", ids, tc.ids)
			}
			if res.Totals.All != tc.all {
				t.Errorf("all: got %+v, want %+v", res.Totals.All, tc.all)
			}
			if !mapsEqual(res.Totals.ByDonor, tc.byDonor) || !mapsEqual(res.Totals.ByYear, tc.byYear) {
				t.Errorf("by donor %+v, by year %+v; want %+v, %+v", res.Totals.ByDonor, res.Totals.ByYear, tc.byDonor, tc.byYear)
			}
		})
	}
	for _, tc := range []struct {
		token, query string
		status       int
	}{
		{coalViewer, "?type=moral", 400},
		{coalViewer, "?year=2025", 400},
		{sensor, "", 403},
	} {
		t.Run("refused "+tc.query, func(t *testing.T) {
			if resp, body := e.do(t, request{method: "GET", path: "/api/v1/support" + tc.query, token: tc.token}); resp.StatusCode != tc.status {
				t.Errorf("got %d %s, want %d", resp.StatusCode, body, tc.status)
			}
		})
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCommitmentsWithoutBook: a server keeping no commitments answers 503
// on every route of theirs, and journals nothing.
func TestCommitmentsWithoutBook(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAdmin)
	for _, rq := range []request{
		{method: "GET", path: "/api/v1/pledges"},
		jsonRq("POST", "/api/v1/pledges", "", `{}`),
		{method: "GET", path: "/api/v1/pledges/x"},
		stageRq("", "x", `{}`),
		{method: "GET", path: "/api/v1/requirements"},
		jsonRq("POST", "/api/v1/requirements", "", `{}`),
		jsonRq("PUT", "/api/v1/requirements/x", "", `{}`),
		{method: "GET", path: "/api/v1/gaps"},
		{method: "GET", path: "/api/v1/activations"},
		{method: "POST", path: "/api/v1/activations/x/acknowledge"},
		{method: "GET", path: "/api/v1/support"},
		jsonRq("POST", "/api/v1/support", "", `{}`),
	} {
		t.Run(rq.method+" "+rq.path, func(t *testing.T) {
			before := e.head(t)
			rq.token = admin
			resp, body := e.do(t, rq)
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "commitments are not kept") {
				t.Errorf("got %d %s, want 503", resp.StatusCode, body)
			}
			if h := e.head(t); h != before {
				t.Errorf("journaled %d entries", h-before)
			}
		})
	}
}

// TestCommitmentsFromAnotherProcess: records journaled by another process
// (truce pledge import beside truce serve) are served without a restart,
// and an older version replayed over a newer one changes nothing.
func TestCommitmentsFromAnotherProcess(t *testing.T) {
	e, b := newBookEnv(t)
	token := e.token(t, "GBR", truce.OrgNation, truce.RolePlanner)
	pl := truce.Pledge{ID: "gbr-ext", Nation: "GBR", Capability: truce.CapISR, Quantity: 2, Unit: "aircraft", Stage: truce.StageAnnounced,
		History: []truce.StageChange{{Stage: truce.StageAnnounced, Date: date("2026-02-01")}}, Marking: amber, Version: 1}
	// Journaled straight into the store: the server's Book never saw it.
	if _, err := e.db.Append(context.Background(), []journal.Entry{{Kind: journal.KindPledge, Org: "GBR", Pledge: &pl}}); err != nil {
		t.Fatal(err)
	}
	resp, body := e.do(t, jsonRq("GET", "/api/v1/pledges/gbr-ext", token, ""))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"stage":"announced"`) {
		t.Fatalf("GET the pledge another process journaled: %d %s", resp.StatusCode, body)
	}
	// Advanced through the server to version 2; replaying version 1 again
	// (the next sync reads nothing older, but a rebuild would) keeps 2.
	resp, body = e.do(t, stageRq(token, "gbr-ext", `{"stage":"approved","date":"2026-03-01","by":"MOD","version":1}`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("advance: %d %s", resp.StatusCode, body)
	}
	b.ApplyPledge(pl)
	if got, _ := b.Pledge("gbr-ext"); got.Version != 2 || got.Stage != truce.StageApproved {
		t.Errorf("after replaying version 1 the pledge is %s v%d; want approved v2", got.Stage, got.Version)
	}
}
