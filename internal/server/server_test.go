package server

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/store/sqlite"
)

// serveOnce runs Run until stop is called, and returns the address it
// listens on, what it printed, and a channel with Run's result.
func serveOnce(t *testing.T, db string) (addr string, out *bytes.Buffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &bytes.Buffer{}
	listening := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{DB: db, Addr: "127.0.0.1:0", Out: out, Listening: func(a net.Addr) { listening <- a }})
	}()
	select {
	case a := <-listening:
		addr = a.String()
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	}
	var stopped bool
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return addr, out, stop
}

func TestServeLifecycle(t *testing.T) {
	db := filepath.Join(t.TempDir(), "truce.db")
	addr, out, stop := serveOnce(t, db)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := lines[len(lines)-1]
	if !strings.HasPrefix(token, "truce_") {
		t.Fatalf("first start printed %q; want a bootstrap token as the last line", out.String())
	}
	base := "http://" + addr

	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/api/v1/observations": 401} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: got %d, want %d", path, resp.StatusCode, want)
		}
	}

	// A stream client stays connected until the server shuts down.
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	stream, err := http.DefaultClient.Do(req)
	if err != nil || stream.StatusCode != 200 {
		t.Fatalf("stream: %v %v", err, stream)
	}
	events := bufio.NewScanner(stream.Body)

	body := `{"source":"t","source_id":"1","method":"seen","category":"explosion","time":"2026-01-01T00:00:00Z","lat":48,"lon":37,"cep_m":10}`
	req, _ = http.NewRequest(http.MethodPost, base+"/api/v1/observations", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST: %v %v", err, resp)
	}
	resp.Body.Close()
	var gotEvent bool
	for events.Scan() {
		if events.Text() == "event: observation" {
			gotEvent = true
			break
		}
	}
	if !gotEvent {
		t.Fatalf("the stream ended before the observation came: %v", events.Err())
	}

	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
	for events.Scan() { // the stream ends: shutdown does not wait on it
	}
	stream.Body.Close()
	// Closed cleanly: the WAL was checkpointed and removed.
	if fi, err := os.Stat(db + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("after shutdown the WAL holds %d bytes; want it checkpointed", fi.Size())
	}

	// A second start on the same database prints no token; the data is there.
	_, out2, stop2 := serveOnce(t, db)
	if strings.Contains(out2.String(), "truce_") {
		t.Errorf("second start printed a token: %q", out2.String())
	}
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if head, err := st.Head(context.Background()); err != nil || head != 2 {
		t.Errorf("Head = %d, %v; want 2 (the bootstrap token and one observation)", head, err)
	}
}
