package httpapi

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/truce"
)

const (
	jsonOne = `{"source":"mon-1","source_id":"j1","method":"seen","category":"impact","time":"2026-03-01T09:00:00Z","lat":48.1,"lon":37.9,"cep_m":100}`
	jsonTwo = `[{"source":"mon-1","source_id":"j2","method":"seen","category":"impact","time":"2026-03-01T09:00:00Z","lat":48.1,"lon":37.9,"cep_m":100},
{"source":"mon-1","source_id":"j3","method":"heard","category":"burst","time":"2026-03-01T09:01:00Z","observer":{"lat":48.0,"lon":37.7},"bearing_deg":90,"distance_m":[1000,2000]}]`
	csvTwo = "source,source_id,method,category,time,lat,lon,cep_m,tlp\n" +
		"mon-2,c1,seen,impact,2026-03-01T09:00:00Z,48.1,37.9,100,GREEN\n" +
		"mon-2,c2,camera,damage,2026-03-01T09:05:00Z,48.2,37.9,50,CLEAR\n"
	geoTwo = `{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Point","coordinates":[37.9,48.1]},"properties":{"source":"uav-1","source_id":"g1","method":"uav","category":"impact","time":"2026-03-01T09:00:00Z","cep_m":20}},
{"type":"Feature","geometry":{"type":"Point","coordinates":[37.95,48.15]},"properties":{"source":"uav-1","source_id":"g2","method":"uav","category":"military_presence","time":"2026-03-01T09:00:00Z","cep_m":20}}]}`
	// Every record bad: lat out of range on line 1, no method on line 2.
	ndjsonBad = `{"source":"mon-3","source_id":"b1","method":"heard","category":"explosion","time":"2026-03-01T10:00:00Z","lat":91,"lon":37.8,"cep_m":500}
{"source":"mon-3","source_id":"b2","category":"explosion","time":"2026-03-01T10:00:00Z","lat":48,"lon":37.8,"cep_m":500}
`
	// One good record, one bad (line 2: unknown category).
	ndjsonMixed = `{"source":"mon-3","source_id":"m1","method":"heard","category":"explosion","time":"2026-03-01T10:00:00Z","lat":48,"lon":37.8,"cep_m":500}
{"source":"mon-3","source_id":"m2","method":"heard","category":"kaboom","time":"2026-03-01T10:00:00Z","lat":48,"lon":37.8,"cep_m":500}
`
)

// TestIngest sends bodies in turn to one server and checks the status,
// the counts and the rejections, and that the journal grew by what was
// accepted only.
func TestIngest(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.MaxBodyBytes = 16 << 10
		c.Parties = []truce.PartyID{"UA", "RU"}
	})
	monitor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleMonitor)
	sensor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleSensor)
	viewer := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleViewer)
	public := e.token(t, "PRESS", truce.OrgPublic, truce.RoleMonitor)
	liaison := e.token(t, "UA", truce.OrgParty, truce.RoleLiaison)
	big := ndjson("mon-9", "big", 100) // about 24 KiB: over the limit
	if len(big) <= 16<<10 {
		t.Fatalf("oversize body is only %d bytes", len(big))
	}

	tests := []struct {
		name        string
		token       string
		ctype, body string
		wantStatus  int
		wantAcc     int
		wantDup     int
		wantRej     []rejection // Error is not compared
	}{
		{name: "json object", token: monitor, ctype: "application/json", body: jsonOne, wantStatus: 200, wantAcc: 1},
		{name: "json array", token: monitor, ctype: "application/json; charset=utf-8", body: jsonTwo, wantStatus: 200, wantAcc: 2},
		{name: "ndjson", token: monitor, ctype: "application/x-ndjson", body: ndjson("mon-1", "n", 5), wantStatus: 200, wantAcc: 5},
		{name: "csv", token: monitor, ctype: "text/csv", body: csvTwo, wantStatus: 200, wantAcc: 2},
		{name: "geojson", token: monitor, ctype: "application/geo+json", body: geoTwo, wantStatus: 200, wantAcc: 2},
		{name: "ndjson sent again", token: monitor, ctype: "application/x-ndjson", body: ndjson("mon-1", "n", 5), wantStatus: 200, wantDup: 5},
		{name: "ndjson partly again", token: monitor, ctype: "application/x-ndjson", body: ndjson("mon-1", "n", 7), wantStatus: 200, wantAcc: 2, wantDup: 5},
		{name: "duplicates within the body", token: monitor, ctype: "application/x-ndjson", body: ndjson("mon-4", "d", 1) + ndjson("mon-4", "d", 1), wantStatus: 200, wantAcc: 1, wantDup: 1},
		{name: "csv again", token: monitor, ctype: "text/csv", body: csvTwo, wantStatus: 200, wantDup: 2},
		{name: "all rejected", token: monitor, ctype: "application/x-ndjson", body: ndjsonBad, wantStatus: 422,
			wantRej: []rejection{{Index: 0, Line: 1, Field: "lat"}, {Index: 1, Line: 2, Field: "method"}}},
		{name: "some rejected", token: monitor, ctype: "application/x-ndjson", body: ndjsonMixed, wantStatus: 200, wantAcc: 1,
			wantRej: []rejection{{Index: 1, Line: 2, Field: "category"}}},
		{name: "csv rejected", token: monitor, ctype: "text/csv", body: "source,source_id,method,category,time,lat,lon,cep_m\nmon-2,c9,seen,impact,2026-03-01T09:00:00Z,48.1,37.9,-5\n", wantStatus: 422,
			wantRej: []rejection{{Index: 0, Line: 2, Field: "cep_m"}}},
		{name: "empty body", token: monitor, ctype: "application/x-ndjson", body: "", wantStatus: 422},
		{name: "empty array", token: monitor, ctype: "application/json", body: "[]", wantStatus: 422},
		{name: "json not json", token: monitor, ctype: "application/json", body: "hello", wantStatus: 400},
		{name: "geojson not a collection", token: monitor, ctype: "application/geo+json", body: `{"type":"Point","coordinates":[1,2]}`, wantStatus: 400},
		{name: "oversize", token: monitor, ctype: "application/x-ndjson", body: big, wantStatus: 413},
		{name: "unknown content type", token: monitor, ctype: "text/plain", body: jsonOne, wantStatus: 415},
		{name: "no content type", token: monitor, body: jsonOne, wantStatus: 415},
		{name: "no token", ctype: "application/json", body: jsonOne, wantStatus: 401},
		{name: "bad token", token: "truce_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ctype: "application/json", body: jsonOne, wantStatus: 401},
		{name: "sensor may report", token: sensor, ctype: "application/x-ndjson", body: ndjson("sensor-1", "s", 3), wantStatus: 200, wantAcc: 3},
		{name: "viewer may not report", token: viewer, ctype: "application/x-ndjson", body: ndjson("mon-5", "v", 1), wantStatus: 403},
		{name: "public may not report", token: public, ctype: "application/x-ndjson", body: ndjson("mon-5", "p", 1), wantStatus: 403},
		{name: "party reports its own claims", token: liaison, ctype: "application/x-ndjson",
			body: `{"source":"ua-mod","source_id":"p1","method":"party_report","category":"impact","time":"2026-03-01T09:00:00Z","lat":48.1,"lon":37.9,"cep_m":100}
{"source":"ua-mod","source_id":"p2","method":"party_report","category":"impact","time":"2026-03-01T09:00:00Z","lat":48.1,"lon":37.9,"cep_m":100,"party":"UA"}
{"source":"ua-mod","source_id":"p3","method":"party_report","category":"impact","time":"2026-03-01T09:00:00Z","lat":48.1,"lon":37.9,"cep_m":100,"party":"RU"}
{"source":"ua-mod","source_id":"p4","method":"party_report","category":"impact","time":"2026-03-01T09:00:00Z","lat":48.1,"lon":37.9,"cep_m":100,"party":"XX"}
`,
			wantStatus: 200, wantAcc: 2, wantRej: []rejection{{Index: 2, Line: 3, Field: "party"}, {Index: 3, Line: 4, Field: "party"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.head(t)
			status, res := e.post(t, tt.token, tt.ctype, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", status, tt.wantStatus)
			}
			if got, want := e.head(t)-before, uint64(tt.wantAcc); got != want {
				t.Errorf("journal grew by %d entries, want %d", got, want)
			}
			if status != 200 && status != 422 {
				return
			}
			if res.Accepted != tt.wantAcc || res.Duplicates != tt.wantDup {
				t.Errorf("got accepted %d, duplicates %d; want %d, %d", res.Accepted, res.Duplicates, tt.wantAcc, tt.wantDup)
			}
			if len(res.Rejected) != len(tt.wantRej) {
				t.Fatalf("got rejections %+v, want %+v", res.Rejected, tt.wantRej)
			}
			for i, got := range res.Rejected {
				want := tt.wantRej[i]
				if got.Index != want.Index || got.Line != want.Line || got.Field != want.Field || got.Error == "" {
					t.Errorf("rejection %d: got %+v, want %+v with a reason", i, got, want)
				}
			}
			if status == 422 && res.Error == "" {
				t.Errorf("422 without error")
			}
		})
	}

	// The party's claims were recorded as UA's.
	_, b := e.do(t, request{method: "GET", path: "/api/v1/observations?source=ua-mod", token: monitor})
	var page observationPage
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	if len(page.Observations) != 2 {
		t.Fatalf("got %d observations of ua-mod, want 2", len(page.Observations))
	}
	for _, o := range page.Observations {
		if o.Party != "UA" || o.Org != "UA" {
			t.Errorf("%s: got party %q org %q, want UA, UA", o.SourceID, o.Party, o.Org)
		}
	}
}

// TestIngestRead checks who may read after reporting: a sensor reports
// but reads nothing.
func TestIngestRead(t *testing.T) {
	e := newEnv(t, nil)
	sensor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleSensor)
	if status, _ := e.post(t, sensor, "application/x-ndjson", ndjson("sensor-1", "s", 1)); status != 200 {
		t.Fatalf("sensor POST: got %d, want 200", status)
	}
	id := e.head(t)
	for _, path := range []string{"/api/v1/observations", fmt.Sprintf("/api/v1/observations/%d", id), "/api/v1/stream"} {
		resp, b := e.do(t, request{method: "GET", path: path, token: sensor})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("sensor GET %s: got %d, want 403", path, resp.StatusCode)
		}
		var eb errorBody
		if err := json.Unmarshal(b, &eb); err != nil || eb.Error == "" {
			t.Errorf("sensor GET %s: body %s is not an error body", path, b)
		}
	}
}

// TestIngestClientGone cuts uploads short: nothing is journaled, and the
// server goes on serving.
func TestIngestClientGone(t *testing.T) {
	e := newEnv(t, nil)
	monitor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleMonitor)
	body := ndjson("mon-1", "cut", 50)
	half := body[:len(body)/2]
	tests := []struct {
		name string
		head string
		send string
	}{
		{"content-length", fmt.Sprintf("Content-Length: %d\r\n", len(body)), half},
		{"chunked", "Transfer-Encoding: chunked\r\n", fmt.Sprintf("%x\r\n%s\r\n", len(half), half)},
		{"chunked mid-chunk", "Transfer-Encoding: chunked\r\n", fmt.Sprintf("%x\r\n%s", len(body), half)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.head(t)
			conn, err := net.Dial("tcp", e.ts.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "POST /api/v1/observations HTTP/1.1\r\nHost: truce\r\nAuthorization: Bearer %s\r\nContent-Type: application/x-ndjson\r\n%s\r\n%s", monitor, tt.head, tt.send)
			conn.Close()
			e.waitFinished(t, "/api/v1/observations")
			if got := e.head(t); got != before {
				t.Errorf("head: got %d, want %d (nothing journaled)", got, before)
			}
			if status, res := e.post(t, monitor, "application/x-ndjson", ndjson("after-"+tt.name, "x", 2)); status != 200 || res.Accepted != 2 {
				t.Errorf("POST after: got %d %+v, want 200 with 2 accepted", status, res)
			}
		})
	}

	// The same through net/http's client: a body that fails mid-way.
	t.Run("pipe", func(t *testing.T) {
		before := e.head(t)
		pr, pw := io.Pipe()
		go func() {
			io.WriteString(pw, half)
			pw.CloseWithError(fmt.Errorf("client gave up"))
		}()
		req, _ := http.NewRequestWithContext(context.Background(), "POST", e.ts.URL+"/api/v1/observations", pr)
		req.Header.Set("Authorization", "Bearer "+monitor)
		req.Header.Set("Content-Type", "application/x-ndjson")
		if resp, err := e.ts.Client().Do(req); err == nil {
			resp.Body.Close()
			t.Logf("server answered %d", resp.StatusCode)
		}
		e.waitFinished(t, "/api/v1/observations")
		if got := e.head(t); got != before {
			t.Errorf("head: got %d, want %d (nothing journaled)", got, before)
		}
	})
}

// TestIngestRecord checks that what was posted reads back as held.
func TestIngestRecord(t *testing.T) {
	e := newEnv(t, nil)
	monitor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleMonitor)
	if status, _ := e.post(t, monitor, "application/json", jsonOne); status != 200 {
		t.Fatalf("POST: got %d", status)
	}
	id := e.head(t)
	resp, b := e.do(t, request{method: "GET", path: fmt.Sprintf("/api/v1/observations/%d", id), token: monitor})
	if resp.StatusCode != 200 {
		t.Fatalf("GET: got %d %s", resp.StatusCode, b)
	}
	var got api.ObservationRecord
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := api.ObservationRecord{ID: id, Recorded: testNow.Format("2006-01-02T15:04:05Z07:00"), Org: "MISSION"}
	if got.ID != want.ID || got.Recorded != want.Recorded || got.Org != want.Org {
		t.Errorf("got id %d recorded %s org %s, want %d %s %s", got.ID, got.Recorded, got.Org, want.ID, want.Recorded, want.Org)
	}
	if got.SourceID != "j1" || got.Marking == nil || got.Marking.TLP != "AMBER" || math.Abs(*got.Lat-48.1) > 1e-9 {
		t.Errorf("got %s", b)
	}
	if !strings.Contains(string(b), `"reliability":"F"`) {
		t.Errorf("defaults not filled in: %s", b)
	}
}

// TestIngestBounds: one request holds at most MaxRecords records, and an
// answer lists at most 1,000 rejections while counting them all.
func TestIngestBounds(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxRecords = 1500 })
	monitor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleMonitor)
	before := e.head(t)
	if status, _ := e.post(t, monitor, "application/x-ndjson", ndjson("m", "big", 1501)); status != 413 {
		t.Errorf("1,501 records: got %d, want 413", status)
	}
	if h := e.head(t); h != before {
		t.Errorf("1,501 records: journal grew from %d to %d, want nothing journaled", before, h)
	}
	bad := strings.Repeat(`{"source":"m","source_id":"x","method":"seen","category":"impact","time":"2026-03-01T09:00:00Z","lat":91,"lon":37.9,"cep_m":100}`+"\n", 1200)
	status, res := e.post(t, monitor, "application/x-ndjson", bad+ndjson("m", "ok", 3))
	if status != 200 || res.Accepted != 3 || res.RejectedCount != 1200 || len(res.Rejected) != 1000 {
		t.Errorf("1,200 bad and 3 good: got %d, accepted %d, rejected_count %d, %d listed; want 200, 3, 1200, 1000 listed", status, res.Accepted, res.RejectedCount, len(res.Rejected))
	}
	if len(res.Rejected) > 0 && (res.Rejected[999].Index != 999 || res.Rejected[999].Line != 1000 || res.Rejected[999].Field != "lat") {
		t.Errorf("last listed rejection: got %+v, want index 999, line 1000, field lat", res.Rejected[999])
	}
}
