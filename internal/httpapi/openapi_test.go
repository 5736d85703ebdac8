package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/auth"
	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/pledge"
	"github.com/truce-dev/truce/internal/truce"
)

// loadDocument loads and validates the embedded OpenAPI document with
// kin-openapi, which handles OpenAPI 3.1 (JSON Schema 2020-12).
func loadDocument(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi.json is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// TestOpenAPIRoutes checks that the document describes exactly the routes
// the server serves.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadDocument(t)
	var documented, served []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	for _, rt := range routeTable() {
		// The document writes a wildcard {path...} as {path}.
		path := strings.ReplaceAll(rt.path, "...}", "}")
		served = append(served, rt.method+" "+path)
		item := doc.Paths.Find(path)
		if item == nil {
			continue // reported below
		}
		op := item.GetOperation(rt.method)
		if op == nil {
			continue
		}
		// Routes without a token say so: security [] overrides the
		// document's bearerAuth.
		// security [{}, bearerAuth] makes the token optional.
		public := op.Security != nil && (len(*op.Security) == 0 || slices.ContainsFunc(*op.Security, func(r openapi3.SecurityRequirement) bool { return len(r) == 0 }))
		if public == rt.auth || rt.optional && (op.Security == nil || len(*op.Security) == 0) {
			t.Errorf("%s: the document says it needs a token: %v; the server: %v", rt.pattern(), !public, rt.auth)
		}
	}
	slices.Sort(documented)
	slices.Sort(served)
	for _, p := range served {
		if !slices.Contains(documented, p) {
			t.Errorf("route %s is served but not in openapi.json", p)
		}
	}
	for _, p := range documented {
		if !slices.Contains(served, p) {
			t.Errorf("openapi.json describes %s, which is not served", p)
		}
	}
}

// conformance is one request of TestOpenAPIConformance.
type conformance struct {
	name       string
	rq         request
	wantStatus int
	// docInvalid: the request breaks the document (the validator must
	// say so); the response must still be as documented.
	docInvalid bool
}

// TestOpenAPIConformance sends requests down the happy and the error paths
// of every route and validates each request and response against the
// document with kin-openapi's openapi3filter.
func TestOpenAPIConformance(t *testing.T) {
	doc := loadDocument(t)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	// Bodies the validator has no decoder for are read as text.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/openmetrics-text", openapi3filter.PlainBodyDecoder)

	var notReady atomic.Bool
	force, _ := withForce(t, simpleAgreement)
	book := pledge.NewBook(pledge.Options{})
	e := newJudgingEnv(t, func(c *Config) {
		force(c)
		c.Book = book
		c.MaxBodyBytes = 8 << 10
		c.Ready = func() error {
			if notReady.Load() {
				return errors.New("store not open")
			}
			return nil
		}
	})
	monitor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleMonitor)
	sensor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleSensor)
	viewer := e.token(t, "GBR", truce.OrgNation, truce.RoleViewer)
	public := e.token(t, "PRESS", truce.OrgPublic, truce.RoleViewer)
	// Windows of silence: one requested before the cases, and one that has
	// ended (windows_test.go).
	analyst := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst)
	liaisonUA, liaisonRU := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison), e.token(t, "RU", truce.OrgParty, truce.RoleLiaison)
	wid := e.doWindow(t, postWindowRq(analyst, windowBody("conformance")), 201).ID
	gbrPlanner := e.token(t, "GBR", truce.OrgNation, truce.RolePlanner)
	coalPlanner := e.token(t, "MISSION", truce.OrgCoalition, truce.RolePlanner)
	e.appendEndedWindow(t)
	// Commitments: a contingent pledge of GBR, activated by a trigger that
	// fired 13 hours before the server's clock, so that its activation is
	// overdue (due 12 hours after).
	fraPlanner := e.token(t, "FRA", truce.OrgNation, truce.RolePlanner)
	contingent := truce.Pledge{ID: "conf-gbr-c", Nation: "GBR", Capability: truce.CapLandForce, Quantity: 1, Unit: "battalion",
		Requirement: "conf-land", Contingent: true, Trigger: truce.RenewedAggression, Marking: truce.Marking{TLP: truce.TLPAmber}}
	e.addPledge(t, book, "GBR", contingent, truce.StageChange{Stage: truce.StageApproved, Date: testNow.Add(-72 * time.Hour)})
	acts := e.trigger(t, book, testNow.Add(-13*time.Hour))
	if len(acts) != 1 {
		t.Fatalf("the trigger activated %d pledges, want 1", len(acts))
	}
	ackPath := "/api/v1/activations/" + acts[0].ID + "/acknowledge"
	// The judgement scenario, then the observations the cases post, from
	// first+1 on.
	incidents := judgementScenario(t, e)
	first := e.settle(t)
	obs := func(n uint64) string { return fmt.Sprintf("/api/v1/observations/%d", first+n) }
	recs, next := e.eng.Incidents(coalitionQuery(1))
	if len(recs) != 1 || next.IsZero() {
		t.Fatalf("no second page of incidents")
	}
	incCursor := encodeEngineCursor(incidentCursor, next)
	_, vnext := e.eng.Violations(engine.ViolationQuery{Viewer: engineQueryAll().Viewer, Limit: 1})
	if vnext.IsZero() {
		t.Fatalf("no second page of violations")
	}
	violCursor := encodeEngineCursor(violationCursor, vnext)
	// A server without an agreement, for the 503s.
	bare := newEnv(t, nil)
	bareAnalyst := bare.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst)
	bareLiaison := bare.token(t, "UA", truce.OrgParty, truce.RoleLiaison)
	postWin := func(token, ctype, body string) request {
		return request{method: "POST", path: "/api/v1/windows", token: token, contentType: ctype, body: body}
	}
	const unknown = "truce_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	post := func(token, ctype, body string) request {
		return request{method: "POST", path: "/api/v1/observations", token: token, contentType: ctype, body: body}
	}
	get := func(token, path string) request { return request{method: "GET", path: path, token: token} }
	// Coalition activities and tracks, about 50 km west of the simple
	// agreement's line (its keep-out band is 30 km wide).
	barePlanner := bare.token(t, "MISSION", truce.OrgCoalition, truce.RolePlanner)
	bareSensor := bare.token(t, "MISSION", truce.OrgCoalition, truce.RoleSensor)
	west := [2]float64{48.6, 35.3}
	a1 := plan{id: "conf-a1", unit: "GBR-1", prio: 5, at: west}
	a2 := plan{id: "conf-a2", unit: "GBR-2", prio: 1, at: [2]float64{48.8, 35.3}}
	f1 := plan{id: "conf-f1", nation: "FRA", unit: "FRA-1", prio: 3, at: [2]float64{48.61, 35.3}}
	withVersion := func(p plan, v int) plan { p.version = v; return p }
	overA1 := a2
	overA1.at, overA1.version = west, 1
	check := func(token, body string) request {
		return request{method: "POST", path: "/api/v1/activities/check", token: token, contentType: "application/json", body: body}
	}
	pos1 := pos{"GBR-1", "GBR", "air", 10, west[0], west[1], 1500}
	// Commitments.
	const (
		landReq    = `{"id":"conf-land","capability":"land_force","quantity":2,"unit":"battalion","domain":"land","where":"ukraine","from":"2026-03-01"}`
		gbrPledge  = `{"id":"conf-gbr","capability":"land_force","quantity":1,"unit":"battalion","requirement":"conf-land","approval":"parliament","change":{"stage":"announced","date":"2026-02-20","by":"government"}}`
		supportRec = `{"id":"conf-s1","donor":"DEU","type":"military","item":"air defence systems","value_eur":500000000,"announced":"2026-01-15","stage":"allocated","delivered_eur":250000000,"source":"government release"}`
	)
	landV := func(v int) string { return strings.Replace(landReq, `{`, fmt.Sprintf(`{"version":%d,`, v), 1) }
	inBand := pos{"GBR-9", "GBR", "land", 10, 48.6, 35.9, 0}

	cases := []conformance{
		{"post json", post(monitor, "application/json", jsonTwo), 200, false},
		{"post ndjson", post(monitor, "application/x-ndjson", ndjson("mon-1", "n", 3)), 200, false},
		{"post csv", post(monitor, "text/csv", csvTwo), 200, false},
		{"post geojson", post(monitor, "application/geo+json", geoTwo), 200, false},
		{"post duplicates", post(monitor, "application/x-ndjson", ndjson("mon-1", "n", 3)), 200, false},
		{"post some rejected", post(monitor, "application/x-ndjson", ndjsonMixed), 200, false},
		{"post all rejected", post(monitor, "application/json", `[{"source":"x","source_id":"1","method":"seen","category":"impact","time":"2026-03-01T09:00:00Z","lat":91,"lon":37.9,"cep_m":100}]`), 422, true},
		{"post no records", post(monitor, "application/json", `[]`), 422, false},
		{"post not json", post(monitor, "application/json", "hello"), 400, true},
		{"post not a collection", post(monitor, "application/geo+json", `{"type":"Point","coordinates":[1,2]}`), 400, true},
		{"post too large", post(monitor, "application/x-ndjson", ndjson("mon-2", "big", 100)), 413, false},
		{"post unknown type", post(monitor, "text/plain", jsonOne), 415, true},
		{"post no token", post("", "application/json", jsonOne), 401, true},
		{"post unknown token", post(unknown, "application/json", jsonOne), 401, false},
		{"post viewer", post(viewer, "application/json", jsonOne), 403, false},

		{"list", get(viewer, "/api/v1/observations"), 200, false},
		{"checkpoint", get("", "/api/v1/log/checkpoint"), 200, false},
		{"checkpoint with token", get(viewer, "/api/v1/log/checkpoint"), 200, false},
		{"checkpoint unknown token", get(unknown, "/api/v1/log/checkpoint"), 401, false},
		{"log entries", get(viewer, "/api/v1/log/entries?start=0&end=5"), 200, false},
		{"log entries public", get("", "/api/v1/log/entries?end=3"), 200, false},
		{"log entries bad start", get("", "/api/v1/log/entries?start=-1"), 400, true},
		{"inclusion", get("", "/api/v1/log/proof/inclusion?index=1"), 200, false},
		{"inclusion no leaf", get("", "/api/v1/log/proof/inclusion"), 400, false},
		{"inclusion unknown hash", get("", "/api/v1/log/proof/inclusion?hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), 404, false},
		{"consistency", get("", "/api/v1/log/proof/consistency?from=1"), 200, false},
		{"consistency no from", get("", "/api/v1/log/proof/consistency"), 400, true},
		{"list filtered", get(monitor, "/api/v1/observations?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&bbox=37,47,39,49&category=impact,burst&category=explosion&source=mon-1&source=uav-1&limit=2"), 200, false},
		{"list cursor", get(monitor, "/api/v1/observations?limit=1&cursor="+encodeCursor(3)), 200, false},
		{"list bad bbox", get(monitor, "/api/v1/observations?bbox=1,2,3"), 400, false},
		{"list bad category", get(monitor, "/api/v1/observations?category=kaboom"), 400, false},
		{"list bad cursor", get(monitor, "/api/v1/observations?cursor=zzz"), 400, false},
		{"list bad limit", get(monitor, "/api/v1/observations?limit=0"), 400, true},
		{"list bad time", get(monitor, "/api/v1/observations?from=yesterday"), 400, true},
		{"list unknown parameter", get(monitor, "/api/v1/observations?colour=red"), 400, false},
		{"list no token", get("", "/api/v1/observations"), 401, true},
		{"list unknown token", get(unknown, "/api/v1/observations"), 401, false},
		{"list sensor", get(sensor, "/api/v1/observations"), 403, false},

		{"get", get(monitor, obs(1)), 200, false},
		{"get observer report", get(monitor, obs(2)), 200, false},
		{"get missing", get(monitor, "/api/v1/observations/999999"), 404, false},
		{"get not an id", get(monitor, "/api/v1/observations/abc"), 400, true},
		{"get no token", get("", obs(1)), 401, true},
		{"get unknown token", get(unknown, obs(1)), 401, false},
		{"get sensor", get(sensor, obs(1)), 403, false},

		{"incidents", get(viewer, "/api/v1/incidents"), 200, false},
		{"incidents filtered", get(monitor, "/api/v1/incidents?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&bbox=35,47,37,49&category=impact,outgoing_fire&category=weapon_sighting&status=reported,unverified&sector=north&sector=south&party=RU,UA&party=none&limit=2"), 200, false},
		{"incidents cursor", get(monitor, "/api/v1/incidents?limit=1&cursor="+incCursor), 200, false},
		{"incidents bad bbox", get(monitor, "/api/v1/incidents?bbox=1,2,3"), 400, false},
		{"incidents bad status", get(monitor, "/api/v1/incidents?status=rumoured"), 400, false},
		{"incidents unknown sector", get(monitor, "/api/v1/incidents?sector=east"), 400, false},
		{"incidents unknown party", get(monitor, "/api/v1/incidents?party=XX"), 400, false},
		{"incidents bad cursor", get(monitor, "/api/v1/incidents?cursor="+violCursor), 400, false},
		{"incidents bad limit", get(monitor, "/api/v1/incidents?limit=0"), 400, true},
		{"incidents bad time", get(monitor, "/api/v1/incidents?to=tomorrow"), 400, true},
		{"incidents unknown parameter", get(monitor, "/api/v1/incidents?rule=ceasefire"), 400, false},
		{"incidents no token", get("", "/api/v1/incidents"), 401, true},
		{"incidents sensor", get(sensor, "/api/v1/incidents"), 403, false},
		{"incidents without agreement", get(bareAnalyst, "/api/v1/incidents"), 503, false},

		{"incident", get(viewer, "/api/v1/incidents/"+incidents["A"]), 200, false},
		{"incident of a party", get(monitor, "/api/v1/incidents/"+incidents["C"]), 200, false},
		{"incident missing", get(monitor, "/api/v1/incidents/inc-000000000000"), 404, false},
		{"incident no token", get("", "/api/v1/incidents/"+incidents["A"]), 401, true},
		{"incident sensor", get(sensor, "/api/v1/incidents/"+incidents["A"]), 403, false},
		{"incident without agreement", get(bareAnalyst, "/api/v1/incidents/"+incidents["A"]), 503, false},

		{"violations", get(viewer, "/api/v1/violations"), 200, false},
		{"violations filtered", get(monitor, "/api/v1/violations?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&rule=ceasefire,withdrawal&rule=protected_site&sector=north,south&party=RU&party=none&severity=high,medium&limit=3"), 200, false},
		{"violations cursor", get(monitor, "/api/v1/violations?limit=1&cursor="+violCursor), 200, false},
		{"violations bad rule", get(monitor, "/api/v1/violations?rule=peace"), 400, false},
		{"violations bad severity", get(monitor, "/api/v1/violations?severity=grave"), 400, false},
		{"violations bad cursor", get(monitor, "/api/v1/violations?cursor="+incCursor), 400, false},
		{"violations no token", get("", "/api/v1/violations"), 401, true},
		{"violations sensor", get(sensor, "/api/v1/violations"), 403, false},
		{"violations without agreement", get(bareAnalyst, "/api/v1/violations"), 503, false},

		{"sectors", get(viewer, "/api/v1/sectors"), 200, false},
		{"sectors unknown parameter", get(monitor, "/api/v1/sectors?sector=north"), 400, false},
		{"sectors no token", get("", "/api/v1/sectors"), 401, true},
		{"sectors public", get(public, "/api/v1/sectors"), 403, false},
		{"sectors sensor", get(sensor, "/api/v1/sectors"), 403, false},
		{"sectors without agreement", get(bareAnalyst, "/api/v1/sectors"), 503, false},

		{"window request", postWin(analyst, "application/json", windowBody("another")), 201, false},
		{"window request again", postWin(analyst, "application/json", windowBody("conformance")), 200, false},
		{"window request bad radius", postWin(analyst, "application/json", strings.Replace(windowBody("x"), `"radius_m":2000`, `"radius_m":0`, 1)), 400, true},
		{"window request until before from", postWin(analyst, "application/json", strings.Replace(windowBody("x"), `"from":"2026-03-01T11`, `"from":"2026-03-01T15`, 1)), 400, false},
		{"window request unknown field", postWin(analyst, "application/json", strings.Replace(windowBody("x"), `{`, `{"colour":"red",`, 1)), 400, true},
		{"window request too large", postWin(analyst, "application/json", strings.Replace(windowBody("x"), `"purpose":"`, `"purpose":"`+strings.Repeat("p", 9000), 1)), 413, true},
		{"window request not json", postWin(analyst, "text/plain", windowBody("x")), 415, true},
		{"window request no token", postWin("", "application/json", windowBody("x")), 401, true},
		{"window request monitor", postWin(monitor, "application/json", windowBody("x")), 403, false},
		{"window request without agreement", postWin(bareAnalyst, "application/json", windowBody("x")), 503, false},
		{"windows", get(viewer, "/api/v1/windows"), 200, false},
		{"windows unknown parameter", get(viewer, "/api/v1/windows?state=requested"), 400, false},
		{"windows no token", get("", "/api/v1/windows"), 401, true},
		{"windows public", get(public, "/api/v1/windows"), 403, false},
		{"window", get(viewer, "/api/v1/windows/"+wid), 200, false},
		{"window missing", get(viewer, "/api/v1/windows/w-000000000000"), 404, false},
		{"window sensor", get(sensor, "/api/v1/windows/"+wid), 403, false},
		{"window acknowledge", ackRq(liaisonUA, wid), 200, false},
		{"window acknowledge again", ackRq(liaisonUA, wid), 200, false},
		{"window acknowledge last", ackRq(liaisonRU, wid), 200, false},
		{"window acknowledge monitor", ackRq(monitor, wid), 403, false},
		{"window acknowledge missing", ackRq(liaisonUA, "w-000000000000"), 404, false},
		{"window acknowledge ended", ackRq(liaisonRU, "w-ended"), 409, false},
		{"window acknowledge no token", ackRq("", wid), 401, true},
		{"window acknowledge without agreement", ackRq(bareLiaison, wid), 503, false},

		{"activity plan", postPlanRq(gbrPlanner, a1.body()), 201, false},
		{"activity plan refused", postPlanRq(coalPlanner, f1.body()), 409, false},
		{"activity plan elsewhere", postPlanRq(gbrPlanner, a2.body()), 201, false},
		{"activity plan exists", postPlanRq(gbrPlanner, a1.body()), 409, false},
		{"activity plan bad priority", postPlanRq(gbrPlanner, plan{unit: "x", prio: 101, at: west}.body()), 400, true},
		{"activity plan no until", postPlanRq(gbrPlanner, strings.Replace(a1.body(), `,"until":"2026-03-01T14:00:00Z"`, "", 1)), 400, true},
		{"activity plan until before from", postPlanRq(gbrPlanner, plan{unit: "x", prio: 1, at: west, from: testNow, until: testNow.Add(-time.Hour)}.body()), 400, false},
		{"activity plan unknown field", postPlanRq(gbrPlanner, strings.Replace(a1.body(), `{`, `{"colour":"red",`, 1)), 400, true},
		{"activity plan too large", postPlanRq(gbrPlanner, plan{unit: "x", prio: 1, at: west, note: strings.Repeat("n", 9000)}.body()), 413, true},
		{"activity plan not json", request{method: "POST", path: "/api/v1/activities", token: gbrPlanner, contentType: "text/plain", body: a1.body()}, 415, true},
		{"activity plan no token", postPlanRq("", a1.body()), 401, true},
		{"activity plan other nation", postPlanRq(gbrPlanner, plan{nation: "FRA", unit: "x", prio: 1, at: west}.body()), 403, false},
		{"activity plan viewer", postPlanRq(viewer, plan{unit: "x", prio: 1, at: west}.body()), 403, false},
		{"activity plan without agreement", postPlanRq(barePlanner, a1.body()), 503, false},
		{"activity check", check(gbrPlanner, plan{unit: "GBR-3", prio: 1, at: [2]float64{49.0, 35.3}}.body()), 200, false},
		{"activity check conflicting", check(gbrPlanner, plan{unit: "GBR-3", prio: 1, at: west}.body()), 200, false},
		{"activity check bad", check(gbrPlanner, plan{unit: "x", prio: 1, at: west, from: testNow, until: testNow}.body()), 400, false},
		{"activity check not json", request{method: "POST", path: "/api/v1/activities/check", token: gbrPlanner, contentType: "text/plain", body: a1.body()}, 415, true},
		{"activity check liaison", check(liaisonUA, a1.body()), 403, false},
		{"activity check without agreement", check(barePlanner, a1.body()), 503, false},
		{"activities", get(viewer, "/api/v1/activities"), 200, false},
		{"activities filtered", get(monitor, "/api/v1/activities?nation=GBR&unit=GBR-1&state=accepted,rejected&at=2026-03-01T12:30:00Z"), 200, false},
		{"activities bad state", get(monitor, "/api/v1/activities?state=flying"), 400, false},
		{"activities bad at", get(monitor, "/api/v1/activities?at=noon"), 400, true},
		{"activities unknown parameter", get(monitor, "/api/v1/activities?colour=red"), 400, false},
		{"activities no token", get("", "/api/v1/activities"), 401, true},
		{"activities liaison", get(liaisonUA, "/api/v1/activities"), 403, false},
		{"activities without agreement", get(bareAnalyst, "/api/v1/activities"), 503, false},
		{"activity", get(viewer, "/api/v1/activities/conf-a1"), 200, false},
		{"activity rejected", get(viewer, "/api/v1/activities/conf-f1"), 200, false},
		{"activity missing", get(viewer, "/api/v1/activities/nothing"), 404, false},
		{"activity sensor", get(sensor, "/api/v1/activities/conf-a1"), 403, false},
		{"activity no token", get("", "/api/v1/activities/conf-a1"), 401, true},
		{"activity without agreement", get(bareAnalyst, "/api/v1/activities/conf-a1"), 503, false},
		{"activity revise", putPlanRq(gbrPlanner, "conf-a1", withVersion(a1, 1).body()), 200, false},
		{"activity revise stale", putPlanRq(gbrPlanner, "conf-a1", withVersion(a1, 1).body()), 409, false},
		{"activity revise If-Match", request{method: "PUT", path: "/api/v1/activities/conf-a1", token: gbrPlanner, contentType: "application/json", body: a1.body(), header: map[string]string{"If-Match": `"2"`}}, 200, false},
		{"activity revise refused", putPlanRq(gbrPlanner, "conf-a2", overA1.body()), 409, false},
		{"activity revise no version", putPlanRq(gbrPlanner, "conf-a1", a1.body()), 400, false},
		{"activity revise missing", putPlanRq(gbrPlanner, "nothing", plan{unit: "x", prio: 1, at: west, version: 1}.body()), 404, false},
		{"activity revise other nation", putPlanRq(gbrPlanner, "conf-f1", plan{unit: "FRA-1", prio: 3, at: west, version: 1}.body()), 403, false},
		{"activity revise not json", request{method: "PUT", path: "/api/v1/activities/conf-a1", token: gbrPlanner, contentType: "text/plain", body: a1.body()}, 415, true},
		{"activity revise without agreement", putPlanRq(barePlanner, "conf-a1", withVersion(a1, 1).body()), 503, false},
		{"activity activate", transitionRq(gbrPlanner, "conf-a1", "activate", 3, false), 200, false},
		{"activity activate again", transitionRq(gbrPlanner, "conf-a1", "activate", 4, true), 409, false},
		{"activity activate rejected", transitionRq(coalPlanner, "conf-f1", "activate", 1, false), 409, false},
		{"activity activate no version", transitionRq(gbrPlanner, "conf-a1", "activate", -1, false), 400, false},
		{"activity activate bad If-Match", request{method: "POST", path: "/api/v1/activities/conf-a1/activate", token: gbrPlanner, header: map[string]string{"If-Match": "*"}}, 400, false},
		{"activity activate missing", transitionRq(gbrPlanner, "nothing", "activate", 1, false), 404, false},
		{"activity activate liaison", transitionRq(liaisonUA, "conf-a1", "activate", 4, false), 403, false},
		{"activity activate not json", request{method: "POST", path: "/api/v1/activities/conf-a1/activate", token: gbrPlanner, contentType: "text/plain", body: `{"version":4}`}, 415, true},
		{"activity activate without agreement", transitionRq(barePlanner, "conf-a1", "activate", 1, false), 503, false},
		{"tracks", postTracksRq(sensor, tracksBody(pos1, pos{"FRA-1", "FRA", "sea", 10, 46.0, 31.0, 0})), 200, false},
		{"tracks alert", postTracksRq(sensor, tracksBody(inBand)), 200, false},
		{"tracks nonconforming", postTracksRq(sensor, tracksBody(pos{"GBR-1", "GBR", "air", 11, 48.9, 35.3, 1500})), 200, false},
		{"tracks missing lat", postTracksRq(sensor, `{"positions":[{"unit":"u","nation":"GBR","domain":"air","time":"2026-03-01T12:00:00Z","lon":35}]}`), 400, true},
		{"tracks bad domain", postTracksRq(sensor, tracksBody(pos{"u", "GBR", "space", 1, 48, 35, 0})), 400, true},
		{"tracks none", postTracksRq(sensor, `{"positions":[]}`), 400, true},
		{"tracks too large", postTracksRq(sensor, tracksBody(slices.Repeat([]pos{pos1}, 100)...)), 413, false},
		{"tracks not json", request{method: "POST", path: "/api/v1/tracks", token: sensor, contentType: "text/plain", body: tracksBody(pos1)}, 415, true},
		{"tracks no token", postTracksRq("", tracksBody(pos1)), 401, true},
		{"tracks other nation", postTracksRq(gbrPlanner, tracksBody(pos{"FRA-1", "FRA", "sea", 12, 46.0, 31.0, 0})), 403, false},
		{"tracks liaison", postTracksRq(liaisonUA, tracksBody(pos1)), 403, false},
		{"tracks without agreement", postTracksRq(bareSensor, tracksBody(pos1)), 503, false},
		{"units", get(viewer, "/api/v1/tracks"), 200, false},
		{"units unknown parameter", get(viewer, "/api/v1/tracks?unit=GBR-1"), 400, false},
		{"units no token", get("", "/api/v1/tracks"), 401, true},
		{"units liaison", get(liaisonUA, "/api/v1/tracks"), 403, false},
		{"units without agreement", get(bareAnalyst, "/api/v1/tracks"), 503, false},
		{"activity end", transitionRq(gbrPlanner, "conf-a1", "end", 5, true), 200, false},
		{"activity end not active", transitionRq(gbrPlanner, "conf-a2", "end", 2, false), 409, false},
		{"activity end liaison", transitionRq(liaisonUA, "conf-a1", "end", 5, false), 403, false},
		{"activity end without agreement", transitionRq(barePlanner, "conf-a1", "end", 1, false), 503, false},
		{"activity cancel", transitionRq(coalPlanner, "conf-f1", "cancel", 1, false), 200, false},
		{"activity cancel stale", transitionRq(coalPlanner, "conf-f1", "cancel", 1, true), 409, false},
		{"activity cancel missing", transitionRq(coalPlanner, "nothing", "cancel", 1, true), 404, false},
		{"activity cancel without agreement", transitionRq(barePlanner, "conf-f1", "cancel", 1, false), 503, false},

		{"requirement record", jsonRq("POST", "/api/v1/requirements", coalPlanner, landReq), 201, false},
		{"requirement record exists", jsonRq("POST", "/api/v1/requirements", coalPlanner, landReq), 409, false},
		{"requirement record bad capability", jsonRq("POST", "/api/v1/requirements", coalPlanner, strings.Replace(landReq, "land_force", "tanks", 1)), 400, true},
		{"requirement record bad from", jsonRq("POST", "/api/v1/requirements", coalPlanner, strings.Replace(landReq, `"from":"2026-03-01"`, `"from":"soon"`, 1)), 400, false},
		{"requirement record unknown field", jsonRq("POST", "/api/v1/requirements", coalPlanner, strings.Replace(landReq, `{`, `{"colour":"red",`, 1)), 400, true},
		{"requirement record too large", jsonRq("POST", "/api/v1/requirements", coalPlanner, strings.Replace(landReq, `{`, `{"note":"`+strings.Repeat("n", 9000)+`",`, 1)), 413, true},
		{"requirement record not json", request{method: "POST", path: "/api/v1/requirements", token: coalPlanner, contentType: "text/plain", body: landReq}, 415, true},
		{"requirement record no token", jsonRq("POST", "/api/v1/requirements", "", landReq), 401, true},
		{"requirement record nation", jsonRq("POST", "/api/v1/requirements", gbrPlanner, landReq), 403, false},
		{"requirement record without book", jsonRq("POST", "/api/v1/requirements", barePlanner, landReq), 503, false},
		{"requirement replace", jsonRq("PUT", "/api/v1/requirements/conf-land", coalPlanner, landV(1)), 200, false},
		{"requirement replace If-Match", request{method: "PUT", path: "/api/v1/requirements/conf-land", token: coalPlanner, contentType: "application/json", body: landReq, header: map[string]string{"If-Match": `"2"`}}, 200, false},
		{"requirement replace stale", jsonRq("PUT", "/api/v1/requirements/conf-land", coalPlanner, landV(1)), 409, false},
		{"requirement replace no version", jsonRq("PUT", "/api/v1/requirements/conf-land", coalPlanner, landReq), 400, false},
		{"requirement replace other id", jsonRq("PUT", "/api/v1/requirements/conf-land", coalPlanner, strings.Replace(landV(3), "conf-land", "conf-air", 1)), 400, false},
		{"requirement replace missing", jsonRq("PUT", "/api/v1/requirements/nothing", coalPlanner, strings.Replace(landV(1), "conf-land", "nothing", 1)), 404, false},
		{"requirement replace nation", jsonRq("PUT", "/api/v1/requirements/conf-land", gbrPlanner, landV(3)), 403, false},
		{"requirement replace not json", request{method: "PUT", path: "/api/v1/requirements/conf-land", token: coalPlanner, contentType: "text/plain", body: landV(3)}, 415, true},
		{"requirement replace no token", jsonRq("PUT", "/api/v1/requirements/conf-land", "", landV(3)), 401, true},
		{"requirement replace without book", jsonRq("PUT", "/api/v1/requirements/conf-land", barePlanner, landV(3)), 503, false},
		{"requirements", get(viewer, "/api/v1/requirements"), 200, false},
		{"requirements unknown parameter", get(viewer, "/api/v1/requirements?capability=isr"), 400, false},
		{"requirements no token", get("", "/api/v1/requirements"), 401, true},
		{"requirements sensor", get(sensor, "/api/v1/requirements"), 403, false},
		{"requirements without book", get(bareAnalyst, "/api/v1/requirements"), 503, false},

		{"pledge record", jsonRq("POST", "/api/v1/pledges", gbrPlanner, gbrPledge), 201, false},
		{"pledge record exists", jsonRq("POST", "/api/v1/pledges", gbrPlanner, gbrPledge), 409, false},
		{"pledge record bad quantity", jsonRq("POST", "/api/v1/pledges", gbrPlanner, strings.Replace(gbrPledge, `"quantity":1`, `"quantity":0`, 1)), 400, true},
		{"pledge record bad date", jsonRq("POST", "/api/v1/pledges", gbrPlanner, strings.Replace(gbrPledge, "2026-02-20", "soon", 1)), 400, false},
		{"pledge record withdrawn", jsonRq("POST", "/api/v1/pledges", gbrPlanner, strings.Replace(gbrPledge, `"announced"`, `"withdrawn"`, 1)), 400, false},
		{"pledge record unknown field", jsonRq("POST", "/api/v1/pledges", gbrPlanner, strings.Replace(gbrPledge, `{`, `{"colour":"red",`, 1)), 400, true},
		{"pledge record too large", jsonRq("POST", "/api/v1/pledges", gbrPlanner, strings.Replace(gbrPledge, `{`, `{"note":"`+strings.Repeat("n", 9000)+`",`, 1)), 413, true},
		{"pledge record not json", request{method: "POST", path: "/api/v1/pledges", token: gbrPlanner, contentType: "text/plain", body: gbrPledge}, 415, true},
		{"pledge record no token", jsonRq("POST", "/api/v1/pledges", "", gbrPledge), 401, true},
		{"pledge record other nation", jsonRq("POST", "/api/v1/pledges", gbrPlanner, strings.Replace(gbrPledge, `{`, `{"nation":"FRA",`, 1)), 403, false},
		{"pledge record liaison", jsonRq("POST", "/api/v1/pledges", liaisonUA, gbrPledge), 403, false},
		{"pledge record without book", jsonRq("POST", "/api/v1/pledges", barePlanner, gbrPledge), 503, false},
		{"pledges", get(viewer, "/api/v1/pledges"), 200, false},
		{"pledges filtered", get(viewer, "/api/v1/pledges?nation=GBR&capability=land_force&stage=announced&requirement=conf-land"), 200, false},
		{"pledges liaison", get(liaisonUA, "/api/v1/pledges"), 200, false},
		{"pledges bad stage", get(viewer, "/api/v1/pledges?stage=promised"), 400, true},
		{"pledges unknown parameter", get(viewer, "/api/v1/pledges?colour=red"), 400, false},
		{"pledges no token", get("", "/api/v1/pledges"), 401, true},
		{"pledges sensor", get(sensor, "/api/v1/pledges"), 403, false},
		{"pledges without book", get(bareAnalyst, "/api/v1/pledges"), 503, false},
		{"pledge", get(viewer, "/api/v1/pledges/conf-gbr"), 200, false},
		{"pledge missing", get(viewer, "/api/v1/pledges/nothing"), 404, false},
		{"pledge liaison", get(liaisonUA, "/api/v1/pledges/conf-gbr"), 404, false},
		{"pledge sensor", get(sensor, "/api/v1/pledges/conf-gbr"), 403, false},
		{"pledge no token", get("", "/api/v1/pledges/conf-gbr"), 401, true},
		{"pledge without book", get(bareAnalyst, "/api/v1/pledges/conf-gbr"), 503, false},
		{"pledge advance", stageRq(gbrPlanner, "conf-gbr", `{"stage":"approved","date":"2026-02-25","by":"parliament","reference":"vote 12","version":1}`), 200, false},
		{"pledge advance If-Match", request{method: "POST", path: "/api/v1/pledges/conf-gbr/stage", token: gbrPlanner, contentType: "application/json", body: `{"stage":"ready","date":"2026-02-26"}`, header: map[string]string{"If-Match": `"2"`}}, 200, false},
		{"pledge advance stale", stageRq(gbrPlanner, "conf-gbr", `{"stage":"deployed","date":"2026-02-27","version":2}`), 409, false},
		{"pledge advance back", stageRq(gbrPlanner, "conf-gbr", `{"stage":"announced","date":"2026-02-27","version":3}`), 409, false},
		{"pledge advance no version", stageRq(gbrPlanner, "conf-gbr", `{"stage":"deployed","date":"2026-02-27"}`), 400, false},
		{"pledge advance version 0", stageRq(gbrPlanner, "conf-gbr", `{"stage":"deployed","date":"2026-02-27","version":0}`), 400, true},
		{"pledge advance bad stage", stageRq(gbrPlanner, "conf-gbr", `{"stage":"promised","date":"2026-02-27","version":3}`), 400, true},
		{"pledge advance before last", stageRq(gbrPlanner, "conf-gbr", `{"stage":"deployed","date":"2026-02-01","version":3}`), 400, false},
		{"pledge advance negative quantity", stageRq(gbrPlanner, "conf-gbr", `{"stage":"deployed","date":"2026-02-27","version":3,"quantity":-1}`), 400, true},
		{"pledge advance missing", stageRq(gbrPlanner, "nothing", `{"stage":"deployed","date":"2026-02-27","version":1}`), 404, false},
		{"pledge advance liaison", stageRq(liaisonUA, "conf-gbr", `{"stage":"deployed","date":"2026-02-27","version":3}`), 404, false},
		{"pledge advance secretariat planner", stageRq(coalPlanner, "conf-gbr", `{"stage":"deployed","date":"2026-02-27","version":3}`), 403, false},
		{"pledge advance other nation", stageRq(fraPlanner, "conf-gbr", `{"stage":"deployed","date":"2026-02-27","version":3}`), 403, false},
		{"pledge advance not json", request{method: "POST", path: "/api/v1/pledges/conf-gbr/stage", token: gbrPlanner, contentType: "text/plain", body: `{"stage":"deployed","date":"2026-02-27","version":3}`}, 415, true},
		{"pledge advance too large", stageRq(gbrPlanner, "conf-gbr", `{"stage":"deployed","date":"2026-02-27","version":3,"reference":"`+strings.Repeat("r", 9000)+`"}`), 413, true},
		{"pledge advance no token", stageRq("", "conf-gbr", `{"stage":"deployed","date":"2026-02-27","version":3}`), 401, true},
		{"pledge advance without book", stageRq(barePlanner, "conf-gbr", `{"stage":"deployed","date":"2026-02-27","version":3}`), 503, false},

		{"gaps", get(viewer, "/api/v1/gaps"), 200, false},
		{"gaps what-if", get(viewer, "/api/v1/gaps?stage=ready&without=FRA,DEU&caveats=hold"), 200, false},
		{"gaps liaison", get(liaisonUA, "/api/v1/gaps"), 200, false},
		{"gaps bad stage", get(viewer, "/api/v1/gaps?stage=withdrawn"), 400, true},
		{"gaps bad caveats", get(viewer, "/api/v1/gaps?caveats=maybe"), 400, true},
		{"gaps unknown parameter", get(viewer, "/api/v1/gaps?nation=GBR"), 400, false},
		{"gaps no token", get("", "/api/v1/gaps"), 401, true},
		{"gaps sensor", get(sensor, "/api/v1/gaps"), 403, false},
		{"gaps without book", get(bareAnalyst, "/api/v1/gaps"), 503, false},

		{"activations", get(viewer, "/api/v1/activations"), 200, false},
		{"activations filtered", get(viewer, "/api/v1/activations?nation=GBR&overdue=true"), 200, false},
		{"activations bad overdue", get(viewer, "/api/v1/activations?overdue=yes"), 400, true},
		{"activations unknown parameter", get(viewer, "/api/v1/activations?pledge=conf-gbr-c"), 400, false},
		{"activations no token", get("", "/api/v1/activations"), 401, true},
		{"activations liaison", get(liaisonUA, "/api/v1/activations"), 403, false},
		{"activations without book", get(bareAnalyst, "/api/v1/activations"), 503, false},
		{"activation acknowledge other nation", request{method: "POST", path: ackPath, token: fraPlanner}, 409, false},
		{"activation acknowledge viewer", request{method: "POST", path: ackPath, token: viewer}, 403, false},
		{"activation acknowledge", request{method: "POST", path: ackPath, token: gbrPlanner}, 200, false},
		{"activation acknowledge again", request{method: "POST", path: ackPath, token: gbrPlanner}, 200, false},
		{"activation acknowledge missing", request{method: "POST", path: "/api/v1/activations/nothing/acknowledge", token: gbrPlanner}, 404, false},
		{"activation acknowledge no token", request{method: "POST", path: ackPath}, 401, true},
		{"activation acknowledge without book", request{method: "POST", path: ackPath, token: barePlanner}, 503, false},

		{"support record", jsonRq("POST", "/api/v1/support", coalPlanner, supportRec), 201, false},
		{"support record over value", jsonRq("POST", "/api/v1/support", coalPlanner, strings.Replace(supportRec, `"delivered_eur":250000000`, `"delivered_eur":600000000`, 1)), 400, false},
		{"support record bad type", jsonRq("POST", "/api/v1/support", coalPlanner, strings.Replace(supportRec, `"military"`, `"moral"`, 1)), 400, true},
		{"support record unknown field", jsonRq("POST", "/api/v1/support", coalPlanner, strings.Replace(supportRec, `{`, `{"colour":"red",`, 1)), 400, true},
		{"support record too large", jsonRq("POST", "/api/v1/support", coalPlanner, strings.Replace(supportRec, `"government release"`, `"`+strings.Repeat("s", 9000)+`"`, 1)), 413, true},
		{"support record not json", request{method: "POST", path: "/api/v1/support", token: coalPlanner, contentType: "text/plain", body: supportRec}, 415, true},
		{"support record no token", jsonRq("POST", "/api/v1/support", "", supportRec), 401, true},
		{"support record nation", jsonRq("POST", "/api/v1/support", gbrPlanner, supportRec), 403, false},
		{"support record without book", jsonRq("POST", "/api/v1/support", barePlanner, supportRec), 503, false},
		{"support", get(public, "/api/v1/support"), 200, false},
		{"support filtered", get(viewer, "/api/v1/support?donor=DEU&type=military"), 200, false},
		{"support bad type", get(viewer, "/api/v1/support?type=moral"), 400, true},
		{"support unknown parameter", get(viewer, "/api/v1/support?year=2026"), 400, false},
		{"support no token", get("", "/api/v1/support"), 401, true},
		{"support sensor", get(sensor, "/api/v1/support"), 403, false},
		{"support without book", get(bareAnalyst, "/api/v1/support"), 503, false},

		{"stream", get(monitor, "/api/v1/stream?after=0"), 200, false},
		{"stream bad after", get(monitor, "/api/v1/stream?after=x"), 400, true},
		{"stream bad Last-Event-ID", request{method: "GET", path: "/api/v1/stream", token: monitor, header: map[string]string{"Last-Event-ID": "x"}}, 400, true},
		{"stream no token", get("", "/api/v1/stream"), 401, true},
		{"stream unknown token", get(unknown, "/api/v1/stream"), 401, false},
		{"stream sensor", get(sensor, "/api/v1/stream"), 403, false},

		{"openapi", get("", "/api/v1/openapi.json"), 200, false},
		{"healthz", get("", "/healthz"), 200, false},
		{"readyz", get("", "/readyz"), 200, false},
		{"readyz not ready", get("", "/readyz"), 503, false},
		{"metrics", get("", "/metrics"), 200, false},
		{"metrics openmetrics", request{method: "GET", path: "/metrics", header: map[string]string{"Accept": "application/openmetrics-text; version=1.0.0"}}, 200, false},
	}

	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if _, ok := auth.Bearer(in.RequestValidationInput.Request.Header.Get("Authorization")); !ok {
				return errors.New("no bearer token")
			}
			return nil
		},
	}
	statuses := map[string][]int{} // by route pattern
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			notReady.Store(c.name == "readyz not ready")
			env := e
			if strings.HasSuffix(c.name, "without agreement") || strings.HasSuffix(c.name, "without book") {
				env = bare
			}
			var last uint64
			if c.name == "stream" {
				// The journal ends with a marker whose incident, then,
				// ends the incidents the resumed stream sends.
				last = e.settle(t)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			resp, err := env.ts.Client().Do(c.rq.build(ctx, env.ts.URL))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body []byte
			if resp.StatusCode == 200 && strings.HasPrefix(c.rq.path, "/api/v1/stream") {
				body = readStreamToHead(t, doc, resp.Body, last)
				cancel()
			} else if body, err = io.ReadAll(resp.Body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.wantStatus {
				t.Fatalf("status: got %d (%s), want %d", resp.StatusCode, body, c.wantStatus)
			}
			if resp.StatusCode != 200 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("error with Content-Type %q, want application/json", resp.Header.Get("Content-Type"))
			}

			req := c.rq.build(context.Background(), e.ts.URL)
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("the document has no route for %s %s: %v", req.Method, req.URL.Path, err)
			}
			pattern := route.Method + " " + route.Path
			statuses[pattern] = append(statuses[pattern], resp.StatusCode)
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
			err = openapi3filter.ValidateRequest(context.Background(), in)
			switch {
			case c.docInvalid && err == nil:
				t.Errorf("request: the validator accepts it, want it to break the document")
			case !c.docInvalid && err != nil:
				t.Errorf("request: %v", err)
			}
			out := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: in,
				Status:                 resp.StatusCode,
				Header:                 resp.Header,
				Body:                   io.NopCloser(bytes.NewReader(body)),
				Options:                opts,
			}
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("response %d %s: %v", resp.StatusCode, clip(body), err)
			}
		})
	}

	// Every route went down its happy path and, where it has one, an
	// error path.
	for _, rt := range routeTable() {
		if strings.Contains(rt.path, "...}") {
			continue // a wildcard the validator's router cannot match: TestLogRoutes
		}
		got := statuses[rt.pattern()]
		if !slices.ContainsFunc(got, func(c int) bool { return c < 300 }) {
			t.Errorf("%s: no successful request checked", rt.pattern())
		}
		if (rt.auth || rt.path == "/readyz") && !slices.ContainsFunc(got, func(c int) bool { return c >= 400 }) {
			t.Errorf("%s: no failing request checked", rt.pattern())
		}
	}
}

// eventSchemas names the schema of each stream event's data.
var eventSchemas = map[string]string{
	"observation": "ObservationRecord", "token": "TokenEvent", "lost": "LostEvent", "error": "Error",
	"sector_level": "LevelChange", "trigger": "Trigger",
	"incident": "Incident", "violation": "Violation", "incident_merged": "IncidentMerged",
	"activity": "Activity", "track_alert": "TrackAlert", "silence_window": "Window",
	"pledge": "Pledge", "requirement": "Requirement", "activation": "Activation", "support": "Support",
}

// checkEvent checks ev's data against its schema in doc.
func checkEvent(t *testing.T, doc *openapi3.T, ev sseEvent) {
	t.Helper()
	name, ok := eventSchemas[ev.event]
	if !ok {
		t.Fatalf("stream: unknown event %q", ev.event)
	}
	var v any
	if err := json.Unmarshal([]byte(ev.data), &v); err != nil {
		t.Fatalf("stream: event data %s: %v", ev.data, err)
	}
	if err := doc.Components.Schemas[name].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("stream: event %s %s is not a %s: %v", ev.id, ev.data, name, err)
	}
}

// readStreamToHead reads a stream until it has sent the event of entry
// head, an observation, and the incident event of that observation,
// checking each event's data against its schema in doc, and returns what
// it read.
func readStreamToHead(t *testing.T, doc *openapi3.T, r io.Reader, head uint64) []byte {
	t.Helper()
	var all bytes.Buffer
	br := bufio.NewReader(io.TeeReader(r, &all))
	sr := &sseReader{r: br}
	seen := map[string]int{}
	headSeen, incidentSeen := false, false
	for {
		ev, err := sr.nextEvent()
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		checkEvent(t, doc, ev)
		seen[ev.event]++
		headSeen = headSeen || ev.id == fmt.Sprint(head)
		if ev.event == "incident" {
			var inc api.Incident
			if err := json.Unmarshal([]byte(ev.data), &inc); err != nil {
				t.Fatal(err)
			}
			incidentSeen = incidentSeen || slices.ContainsFunc(inc.Observations, func(r api.ObservationRef) bool { return r.ID == head })
		}
		if headSeen && incidentSeen {
			for _, kind := range []string{"observation", "sector_level", "trigger", "incident", "activity", "track_alert", "silence_window", "pledge", "requirement", "activation", "support"} {
				if seen[kind] == 0 {
					t.Errorf("stream: no %s event checked", kind)
				}
			}
			return all.Bytes()[:all.Len()-br.Buffered()]
		}
	}
}

func clip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// TestNotFound: what no route serves is answered in JSON too.
func TestNotFound(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/nothing", 404},
		{"GET", "/api/v1/observations/", 404},
		{"DELETE", "/api/v1/observations", 405},
		{"POST", "/healthz", 405},
	} {
		resp, b := e.do(t, request{method: c.method, path: c.path})
		var eb errorBody
		if resp.StatusCode != c.want || json.Unmarshal(b, &eb) != nil || eb.Error == "" {
			t.Errorf("%s %s: got %d %s, want %d with a JSON error", c.method, c.path, resp.StatusCode, b, c.want)
		}
	}
}
