package httpapi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

func TestMetrics(t *testing.T) {
	e := newEnv(t, nil)
	monitor := e.token(t, "MISSION", truce.OrgCoalition, truce.RoleMonitor)
	if status, _ := e.post(t, monitor, "application/x-ndjson", ndjson("m", "a", 7)); status != 200 {
		t.Fatalf("POST: got %d", status)
	}
	if status, _ := e.post(t, monitor, "application/x-ndjson", ndjson("m", "a", 3)+ndjsonMixed); status != 200 {
		t.Fatalf("POST: got %d", status)
	}
	e.post(t, "", "application/x-ndjson", ndjson("m", "a", 1)) // 401

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := e.openStream(t, ctx, monitor, "", "")
	if _, err := s.next(); err != nil { // the retry announcement: the client is counted
		t.Fatal(err)
	}

	resp, b := e.do(t, request{method: "GET", path: "/metrics"})
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: got %d", resp.StatusCode)
	}
	text := string(b)
	for _, want := range []string{
		`truce_ingest_observations_total{result="accepted"} 8`,
		`truce_ingest_observations_total{result="duplicate"} 3`,
		`truce_ingest_observations_total{result="rejected"} 1`,
		`truce_ingest_batch_size_count 2`,
		`truce_ingest_batch_size_sum 11`,
		`truce_journal_commit_seconds_count 2`,
		`truce_journal_commit_seconds_bucket{le="0.0001"}`,
		`truce_stream_clients 1`,
		`truce_http_requests_total{code="200",route="POST /api/v1/observations"} 2`,
		`truce_http_requests_total{code="401",route="POST /api/v1/observations"} 1`,
		`truce_http_request_duration_seconds_count{route="POST /api/v1/observations"} 3`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
}
