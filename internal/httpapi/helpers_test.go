package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-json"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/truce-dev/truce/internal/auth"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store/sqlite"
	"github.com/truce-dev/truce/internal/truce"
)

// testNow is the clock of the test servers; observations of the fixtures
// happen before it.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testClock() time.Time { return testNow }

// testEnv is a server over a real SQLite store in a temporary directory,
// served over loopback HTTP.
type testEnv struct {
	db   *sqlite.DB
	path string // of the database
	feed *journal.Feed
	s    *Server
	ts   *httptest.Server
	reg  *prometheus.Registry
	// finished receives the path of each request once its handler has
	// returned (dropped when nobody reads it and it is full).
	finished chan string
}

// newEnv starts a test server; edit may change the configuration, and
// hooks the server before it serves.
func newEnv(t testing.TB, edit func(*Config), hooks ...func(*Server)) *testEnv {
	t.Helper()
	ctx := context.Background()
	e := &testEnv{feed: journal.NewFeed(), reg: prometheus.NewRegistry(), finished: make(chan string, 64)}
	var err error
	e.path = filepath.Join(t.TempDir(), "truce.db")
	e.db, err = sqlite.Open(ctx, e.path, sqlite.Options{Now: testClock, Committed: e.feed.Publish})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	cfg := Config{
		Store:    e.db,
		Feed:     e.feed,
		Now:      testClock,
		Registry: e.reg,
		Logger:   slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if edit != nil {
		edit(&cfg)
	}
	if e.s, err = New(cfg); err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, h := range hooks {
		h(e.s)
	}
	h := e.s.Handler()
	e.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		select {
		case e.finished <- r.URL.Path:
		default:
		}
	}))
	t.Cleanup(func() {
		e.feed.Close() // ends the streams, so that Close does not wait for them
		e.ts.Close()
		if err := e.db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return e
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("server log: %s", bytes.TrimSpace(p))
	return len(p), nil
}

// token makes a token and journals it, returning its secret.
func (e *testEnv) token(t testing.TB, org truce.OrgID, kind truce.OrgKind, role truce.Role) string {
	t.Helper()
	secret, tok, err := auth.New(rand.Reader, org, kind, role, "test "+string(role), testNow)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	if _, err := e.db.Append(context.Background(), []journal.Entry{{Kind: journal.KindToken, Org: org, Token: &tok}}); err != nil {
		t.Fatalf("journal token: %v", err)
	}
	return secret
}

func (e *testEnv) head(t testing.TB) uint64 {
	t.Helper()
	h, err := e.db.Head(context.Background())
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return h
}

// request is one HTTP request of a test.
type request struct {
	method, path string
	token        string // "" for none
	contentType  string
	body         string
	header       map[string]string
}

func (rq request) build(ctx context.Context, base string) *http.Request {
	var body io.Reader
	if rq.body != "" || rq.method == http.MethodPost {
		body = strings.NewReader(rq.body)
	}
	r, err := http.NewRequestWithContext(ctx, rq.method, base+rq.path, body)
	if err != nil {
		panic(err)
	}
	if rq.token != "" {
		r.Header.Set("Authorization", "Bearer "+rq.token)
	}
	if rq.contentType != "" {
		r.Header.Set("Content-Type", rq.contentType)
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	return r
}

// do sends rq and returns the response with its body read.
func (e *testEnv) do(t testing.TB, rq request) (*http.Response, []byte) {
	t.Helper()
	resp, err := e.ts.Client().Do(rq.build(context.Background(), e.ts.URL))
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", rq.method, rq.path, err)
	}
	return resp, b
}

// post sends body as ctype with token and decodes the ingest result.
func (e *testEnv) post(t testing.TB, token, ctype, body string) (int, ingestResult) {
	t.Helper()
	resp, b := e.do(t, request{method: "POST", path: "/api/v1/observations", token: token, contentType: ctype, body: body})
	var res ingestResult
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnprocessableEntity {
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("POST: decode %s: %v", b, err)
		}
	}
	return resp.StatusCode, res
}

// ndjson returns n NDJSON observations from source with ids prefix0...
func ndjson(source, prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"source":%q,"source_id":"%s%d","method":"heard","category":"explosion","time":"2026-03-01T10:%02d:%02dZ","lat":48.%04d,"lon":37.8,"cep_m":500,"marking":{"tlp":"GREEN"}}`+"\n",
			source, prefix, i, i/60%60, i%60, i%10000)
	}
	return b.String()
}

// fixture returns a valid canonical observation.
func fixture(source, id string, m truce.Marking) truce.Observation {
	return truce.Observation{
		Source:      source,
		SourceID:    id,
		Method:      truce.MethodSeen,
		Category:    truce.CategoryImpact,
		Count:       1,
		Time:        testNow.Add(-time.Hour),
		Location:    &truce.Location{Point: geo.Point{Lat: 48.1, Lon: 37.9}, CEP: 100},
		Reliability: 'B',
		Credibility: 2,
		Marking:     m,
	}.Canonical()
}

// appendObservations journals observations recorded by org, returning
// their ids.
func (e *testEnv) appendObservations(t testing.TB, org truce.OrgID, obs ...truce.Observation) []uint64 {
	t.Helper()
	entries := make([]journal.Entry, len(obs))
	for i := range obs {
		entries[i] = journal.Entry{Kind: journal.KindObservation, Org: org, Observation: &obs[i]}
	}
	out, err := e.db.Append(context.Background(), entries)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	ids := make([]uint64, len(out))
	for i, o := range out {
		ids[i] = o.Seq
	}
	return ids
}

// sseEvent is one block of an event stream: an event, a comment or a
// retry announcement.
type sseEvent struct {
	id, event, data, comment, retry string
}

type sseReader struct{ r *bufio.Reader }

// next returns the next block of the stream.
func (s *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			if err == io.EOF && line != "" {
				err = io.ErrUnexpectedEOF
			}
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return ev, nil
		}
		if c, ok := strings.CutPrefix(line, ":"); ok {
			ev.comment = strings.TrimSpace(c)
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "id":
			ev.id = value
		case "event":
			ev.event = value
		case "data":
			ev.data = value
		case "retry":
			ev.retry = value
		}
	}
}

// nextEvent skips comments and retry announcements.
func (s *sseReader) nextEvent() (sseEvent, error) {
	for {
		ev, err := s.next()
		if err != nil || ev.event != "" || ev.data != "" {
			return ev, err
		}
	}
}

// openStream opens the event stream; the caller cancels ctx to close it.
func (e *testEnv) openStream(t testing.TB, ctx context.Context, token, lastEventID, query string) *sseReader {
	t.Helper()
	r, err := e.openStreamErr(ctx, token, lastEventID, query)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *testEnv) openStreamErr(ctx context.Context, token, lastEventID, query string) (*sseReader, error) {
	rq := request{method: "GET", path: "/api/v1/stream" + query, token: token}
	if lastEventID != "" {
		rq.header = map[string]string{"Last-Event-ID": lastEventID}
	}
	resp, err := e.ts.Client().Do(rq.build(ctx, e.ts.URL))
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("open stream: got status %d (%s), want 200", resp.StatusCode, b)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		resp.Body.Close()
		return nil, fmt.Errorf("stream Content-Type: got %q, want text/event-stream", got)
	}
	go func() { <-ctx.Done(); resp.Body.Close() }()
	return &sseReader{r: bufio.NewReader(resp.Body)}, nil
}

// waitFinished waits until a request to path has been fully handled.
func (e *testEnv) waitFinished(t testing.TB, path string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case p := <-e.finished:
			if p == path {
				return
			}
		case <-timeout:
			t.Fatalf("request to %s not finished after 10s", path)
		}
	}
}
