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
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

// windowBody is a request for a window of silence around 48.8 N 36.05 E,
// in the north sector of the simple test agreement and away from the
// judgement fixtures, from an hour before the test clock to two hours
// after it.
func windowBody(name string) string {
	return fmt.Sprintf(`{"name":%q,"purpose":"repair of the water main","center":{"lat":48.8,"lon":36.05},"radius_m":2000,"from":%q,"until":%q}`,
		name, testNow.Add(-time.Hour).Format(time.RFC3339), testNow.Add(2*time.Hour).Format(time.RFC3339))
}

func postWindowRq(token, body string) request {
	return request{method: "POST", path: "/api/v1/windows", token: token, contentType: "application/json", body: body}
}

func ackRq(token, id string) request {
	return request{method: "POST", path: "/api/v1/windows/" + id + "/acknowledge", token: token}
}

// doWindow sends rq, checks its status and decodes the window answered.
func (e *testEnv) doWindow(t *testing.T, rq request, want int) api.Window {
	t.Helper()
	resp, b := e.do(t, rq)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: got %d %s, want %d", rq.method, rq.path, resp.StatusCode, b, want)
	}
	var w api.Window
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatalf("%s %s: decode %s: %v", rq.method, rq.path, b, err)
	}
	return w
}

// TestWindowOfSilence: a window is requested, both parties acknowledge it,
// and fire inside it is then judged a critical breach of it.
func TestWindowOfSilence(t *testing.T) {
	e := newJudgingEnv(t, nil)
	analyst := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst)
	ua := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison)
	ru := e.token(t, "RU", truce.OrgParty, truce.RoleLiaison)
	viewer := e.token(t, "UA", truce.OrgParty, truce.RoleViewer)

	resp, b := e.do(t, postWindowRq(analyst, windowBody("Vodiane water main")))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("request: got %d %s, want 201", resp.StatusCode, b)
	}
	var w api.Window
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.ID, "w-") || resp.Header.Get("Location") != "/api/v1/windows/"+w.ID {
		t.Errorf("id %q, Location %q: want w-… and its URL", w.ID, resp.Header.Get("Location"))
	}
	if w.State != "requested" || len(w.AcknowledgedBy) != 0 || !slices.Equal(w.Pending, []string{"UA", "RU"}) ||
		w.RequestedBy != "MISSION" || w.RequestedAt != testNow.Format(time.RFC3339Nano) || w.Purpose != "repair of the water main" || w.RadiusM != 2000 {
		t.Errorf("requested window: got %+v", w)
	}
	// Read your write: listed and found right after the answer.
	var list windowsAnswer
	resp, b = e.do(t, request{method: "GET", path: "/api/v1/windows", token: viewer})
	if resp.StatusCode != 200 || json.Unmarshal(b, &list) != nil || len(list.Windows) != 1 || list.Windows[0].ID != w.ID {
		t.Fatalf("list after the request: got %d %s, want the window", resp.StatusCode, b)
	}
	if got := e.doWindow(t, request{method: "GET", path: "/api/v1/windows/" + w.ID, token: viewer}, 200); got.State != "requested" {
		t.Errorf("get: state %q, want requested", got.State)
	}

	got := e.doWindow(t, ackRq(ua, w.ID), 200)
	if got.State != "requested" || !slices.Equal(got.AcknowledgedBy, []string{"UA"}) || !slices.Equal(got.Pending, []string{"RU"}) {
		t.Errorf("after UA: got %+v, want requested, acknowledged by UA, RU pending", got)
	}
	head := e.head(t)
	if again := e.doWindow(t, ackRq(ua, w.ID), 200); !slices.Equal(again.AcknowledgedBy, []string{"UA"}) {
		t.Errorf("UA again: got %+v", again)
	}
	if h := e.head(t); h != head {
		t.Errorf("UA's second acknowledgement journaled %d entries, want none", h-head)
	}
	got = e.doWindow(t, ackRq(ru, w.ID), 200)
	if got.State != "acknowledged" || !slices.Equal(got.AcknowledgedBy, []string{"RU", "UA"}) || len(got.Pending) != 0 {
		t.Errorf("after RU: got %+v, want acknowledged by RU and UA, none pending", got)
	}

	// Fire inside the window.
	o := fixture("acoustic-w", "1", green)
	o.Time = testNow.Add(-10 * time.Minute)
	o.Location.Point = geo.Point{Lat: 48.805, Lon: 36.06}
	e.appendJudged(t, "MISSION", o.Canonical())
	if ws := e.eng.Windows(); len(ws) != 1 || !ws[0].Acknowledged || ws[0].ID != w.ID {
		t.Errorf("the engine's windows: got %+v, want the acknowledged window", ws)
	}
	var page violationPage
	resp, b = e.do(t, request{method: "GET", path: "/api/v1/violations?rule=window_of_silence", token: viewer})
	if resp.StatusCode != 200 || json.Unmarshal(b, &page) != nil {
		t.Fatalf("violations: got %d %s", resp.StatusCode, b)
	}
	if len(page.Violations) != 1 || page.Violations[0].Zone != w.ID || page.Violations[0].Severity != string(truce.SeverityCritical) {
		t.Errorf("violations of the window: got %+v, want one, critical, naming %s", page.Violations, w.ID)
	}
}

// TestWindowRequestAgain: the same request names the same window and
// journals nothing more; another request is another window.
func TestWindowRequestAgain(t *testing.T) {
	e := newJudgingEnv(t, nil)
	planner := e.token(t, "MISSION", truce.OrgCoalition, truce.RolePlanner)
	first := e.doWindow(t, postWindowRq(planner, windowBody("a")), 201)
	head := e.head(t)
	if again := e.doWindow(t, postWindowRq(planner, windowBody("a")), 200); again.ID != first.ID {
		t.Errorf("the same request: id %s, want %s", again.ID, first.ID)
	}
	if h := e.head(t); h != head {
		t.Errorf("the same request journaled %d entries, want none", h-head)
	}
	if other := e.doWindow(t, postWindowRq(planner, windowBody("b")), 201); other.ID == first.ID {
		t.Errorf("another request got the same id %s", other.ID)
	}
}

// TestWindowAccess: who may request, acknowledge and read.
func TestWindowAccess(t *testing.T) {
	e := newJudgingEnv(t, nil)
	analyst := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst)
	w := e.doWindow(t, postWindowRq(analyst, windowBody("access")), 201)
	tokens := map[string]string{
		"coalition admin":   e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAdmin),
		"coalition analyst": analyst,
		"commissioner":      e.token(t, "JCCC", truce.OrgCoalition, truce.RoleCommissioner),
		"coalition planner": e.token(t, "MISSION", truce.OrgCoalition, truce.RolePlanner),
		"coalition monitor": e.token(t, "MISSION", truce.OrgCoalition, truce.RoleMonitor),
		"coalition liaison": e.token(t, "MISSION", truce.OrgCoalition, truce.RoleLiaison),
		"coalition sensor":  e.token(t, "MISSION", truce.OrgCoalition, truce.RoleSensor),
		"nation admin":      e.token(t, "GBR", truce.OrgNation, truce.RoleAdmin),
		"nation liaison":    e.token(t, "GBR", truce.OrgNation, truce.RoleLiaison),
		"party liaison":     e.token(t, "UA", truce.OrgParty, truce.RoleLiaison),
		"party viewer":      e.token(t, "UA", truce.OrgParty, truce.RoleViewer),
		"party admin":       e.token(t, "RU", truce.OrgParty, truce.RoleAdmin),
		"non-party liaison": e.token(t, "XX", truce.OrgParty, truce.RoleLiaison),
		"public viewer":     e.token(t, "PRESS", truce.OrgPublic, truce.RoleViewer),
	}
	for _, tc := range []struct {
		who                string
		request, ack, read int
	}{
		{"coalition admin", 200, 403, 200},
		{"coalition analyst", 200, 403, 200},
		{"commissioner", 200, 403, 200},
		{"coalition planner", 200, 403, 200},
		{"coalition monitor", 403, 403, 200},
		{"coalition liaison", 403, 403, 200},
		{"coalition sensor", 403, 403, 403},
		{"nation admin", 403, 403, 200},
		{"nation liaison", 403, 403, 200},
		{"party liaison", 403, 200, 200},
		{"party viewer", 403, 403, 200},
		{"party admin", 403, 403, 200},
		{"non-party liaison", 403, 403, 200},
		{"public viewer", 403, 403, 403},
	} {
		t.Run(tc.who, func(t *testing.T) {
			tok := tokens[tc.who]
			check := func(what string, rq request, want int) {
				t.Helper()
				resp, b := e.do(t, rq)
				got := resp.StatusCode
				if got == 201 {
					got = 200
				}
				if got != want {
					t.Errorf("%s: got %d %s, want %d", what, resp.StatusCode, b, want)
				}
			}
			// Each may request the same window: it is not new for the
			// analyst's organisation, and new for the others'.
			check("request", postWindowRq(tok, windowBody("access")), tc.request)
			check("acknowledge", ackRq(tok, w.ID), tc.ack)
			check("list", request{method: "GET", path: "/api/v1/windows", token: tok}, tc.read)
			check("get", request{method: "GET", path: "/api/v1/windows/" + w.ID, token: tok}, tc.read)
		})
	}
	if got := e.doWindow(t, request{method: "GET", path: "/api/v1/windows/" + w.ID, token: analyst}, 200); !slices.Equal(got.AcknowledgedBy, []string{"UA"}) {
		t.Errorf("acknowledged by %v, want UA's only", got.AcknowledgedBy)
	}
}

// TestWindowBadRequests: every invalid request is answered 400 naming the
// field, and journals nothing.
func TestWindowBadRequests(t *testing.T) {
	e := newJudgingEnv(t, nil)
	analyst := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst)
	from, until := testNow.Add(-time.Hour).Format(time.RFC3339), testNow.Add(2*time.Hour).Format(time.RFC3339)
	body := func(change func(m map[string]any)) string {
		m := map[string]any{"name": "n", "center": map[string]any{"lat": 48.8, "lon": 36.05}, "radius_m": 2000, "from": from, "until": until}
		change(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	del := func(k string) func(map[string]any) { return func(m map[string]any) { delete(m, k) } }
	for _, tc := range []struct {
		name, body, want string
	}{
		{"no name", body(del("name")), "name: required"},
		{"blank name", body(set("name", "  ")), "name: required"},
		{"long name", body(set("name", strings.Repeat("n", 201))), "name: longer than"},
		{"long purpose", body(set("purpose", strings.Repeat("p", 2001))), "purpose: longer than"},
		{"no center", body(del("center")), "center: required"},
		{"no lat", body(set("center", map[string]any{"lon": 36})), "center.lat: required"},
		{"no lon", body(set("center", map[string]any{"lat": 48})), "center.lon: required"},
		{"lat out of range", body(set("center", map[string]any{"lat": 91, "lon": 36})), "center.lat: 91 is outside"},
		{"lon out of range", body(set("center", map[string]any{"lat": 48, "lon": -181})), "center.lon: -181 is outside"},
		{"no radius", body(del("radius_m")), "radius_m: required"},
		{"zero radius", body(set("radius_m", 0)), "radius_m: must be more than 0"},
		{"negative radius", body(set("radius_m", -5)), "radius_m: must be more than 0"},
		{"radius below a millimetre", body(set("radius_m", 0.0001)), "radius_m: must be at least 1 millimetre"},
		{"radius too large", body(set("radius_m", 20001)), "radius_m: 20001 is more than"},
		{"no from", body(del("from")), "from: required"},
		{"bad from", body(set("from", "tomorrow")), `from: "tomorrow" is not an RFC 3339 time`},
		{"no until", body(del("until")), "until: required"},
		{"until before from", body(set("until", testNow.Add(-2*time.Hour).Format(time.RFC3339))), "until: must be after from"},
		{"until equal to from", body(set("until", from)), "until: must be after from"},
		{"too long", body(set("until", testNow.Add(72*time.Hour).Format(time.RFC3339))), "until: the window lasts 73h0m0s, more than the longest, 72h0m0s"},
		{"ended", body(func(m map[string]any) {
			m["from"], m["until"] = testNow.Add(-3*time.Hour).Format(time.RFC3339), testNow.Format(time.RFC3339)
		}), "until: already passed"},
		{"unknown field", body(set("colour", "red")), "body: not a window request"},
		{"wrong type", body(set("radius_m", "2 km")), "body: not a window request"},
		{"not json", "radius", "body: not a window request"},
		{"two values", body(del("purpose")) + "{}", "body: not a window request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := e.head(t)
			resp, b := e.do(t, postWindowRq(analyst, tc.body))
			var eb errorBody
			if resp.StatusCode != 400 || json.Unmarshal(b, &eb) != nil || !strings.HasPrefix(eb.Error, tc.want) {
				t.Errorf("got %d %s, want 400 with an error beginning %q", resp.StatusCode, b, tc.want)
			}
			if h := e.head(t); h != head {
				t.Errorf("journaled %d entries, want none", h-head)
			}
		})
	}
	resp, b := e.do(t, request{method: "POST", path: "/api/v1/windows", token: analyst, contentType: "text/plain", body: body(func(map[string]any) {})})
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: got %d %s, want 415", resp.StatusCode, b)
	}
	resp, b = e.do(t, request{method: "GET", path: "/api/v1/windows?state=requested", token: analyst})
	if resp.StatusCode != 400 || !strings.Contains(string(b), "state: unknown parameter") {
		t.Errorf("list with a parameter: got %d %s, want 400 naming it", resp.StatusCode, b)
	}
}

// TestWindowNotFoundAndEnded: an unknown id is 404; acknowledging a window
// that has ended is 409, unless the party had acknowledged it already.
func TestWindowNotFoundAndEnded(t *testing.T) {
	e := newJudgingEnv(t, nil)
	ua := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison)
	ru := e.token(t, "RU", truce.OrgParty, truce.RoleLiaison)
	for _, rq := range []request{ackRq(ua, "w-000000000000"), {method: "GET", path: "/api/v1/windows/w-000000000000", token: ua}} {
		if resp, b := e.do(t, rq); resp.StatusCode != 404 {
			t.Errorf("%s %s: got %d %s, want 404", rq.method, rq.path, resp.StatusCode, b)
		}
	}
	ended := e.appendEndedWindow(t)
	if resp, b := e.do(t, ackRq(ru, ended.ID)); resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), "ended") {
		t.Errorf("RU acknowledging an ended window: got %d %s, want 409", resp.StatusCode, b)
	}
	if got := e.doWindow(t, ackRq(ua, ended.ID), 200); got.State != "requested" || !slices.Equal(got.Pending, []string{"RU"}) {
		t.Errorf("UA acknowledging again: got %+v, want the window unchanged", got)
	}
}

// TestWindowsWithoutAgreement: without an agreement nobody can acknowledge,
// so windows cannot be requested; the list still answers.
func TestWindowsWithoutAgreement(t *testing.T) {
	e := newEnv(t, nil)
	analyst := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleAnalyst)
	ua := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison)
	for _, rq := range []request{postWindowRq(analyst, windowBody("x")), ackRq(ua, "w-000000000000")} {
		if resp, b := e.do(t, rq); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s %s: got %d %s, want 503", rq.method, rq.path, resp.StatusCode, b)
		}
	}
	if resp, b := e.do(t, request{method: "GET", path: "/api/v1/windows", token: analyst}); resp.StatusCode != 200 || string(b) != "{\"windows\":[]}\n" {
		t.Errorf("list: got %d %s, want 200 and no windows", resp.StatusCode, b)
	}
}

// appendEndedWindow journals directly (as a window agreed outside the API
// would be) window w-ended, which ended at the test clock, acknowledged by
// UA only.
func (e *testEnv) appendEndedWindow(t testing.TB) truce.SilenceWindow {
	t.Helper()
	ended := truce.SilenceWindow{ID: "w-ended", Name: "past", Center: geo.Pt(48.8, 36.05), Radius: 500,
		Period: truce.TimeRange{From: testNow.Add(-3 * time.Hour), Until: testNow}, Acks: []truce.PartyID{"UA"}}
	if _, err := e.db.Append(context.Background(), []journal.Entry{{Kind: journal.KindWindow, Org: "MISSION", Window: &ended}}); err != nil {
		t.Fatal(err)
	}
	return ended
}
