package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/truce-dev/truce/internal/server"
)

// TestIngestServer sends files to a real server in process: local
// rejections and the server's own (a party's token filing another party's
// claim) are both reported with the file's line, and the exit status says
// something was rejected.
func TestIngestServer(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	ctx, cancel := context.WithCancel(context.Background())
	out := &bytes.Buffer{}
	listening := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, server.Options{DB: db, Addr: "127.0.0.1:0", Out: out, Listening: func(a net.Addr) { listening <- a }})
	}()
	var url string
	select {
	case a := <-listening:
		url = "http://" + a.String()
	case err := <-done:
		t.Fatal(err)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	admin := lines[len(lines)-1]

	code, stdout, stderr := run(t, "ingest", "--server", url, "--token", admin, "testdata/observations.ndjson", "testdata/mixed.csv")
	if code != 1 || !strings.Contains(stdout, "6 records: 5 accepted, 0 duplicates, 1 rejected") || !strings.Contains(stderr, "testdata/mixed.csv:3: record 1: lat:") {
		t.Errorf("ingest: code %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}

	// A UA liaison's file with a claim in RU's name on its third line: the
	// server rejects it, and the rejection points at the file's line.
	code, stdout, _ = run(t, "token", "create", "--db", db, "--org", "UA", "--kind", "party", "--role", "liaison")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, stdout)
	}
	tokLines := strings.Split(strings.TrimSpace(stdout), "\n")
	liaison := tokLines[len(tokLines)-1]
	claims := filepath.Join(dir, "claims.ndjson")
	body := `{"source":"ua-mod","source_id":"c1","method":"party_report","category":"impact","time":"2026-11-20T09:00:00Z","lat":48.1,"lon":37.9,"cep_m":1000}
{"source":"ua-mod","source_id":"c2","method":"party_report","category":"impact","time":"2026-11-20T09:00:00Z","lat":48.1,"lon":37.9,"cep_m":1000,"party":"UA"}
{"source":"ua-mod","source_id":"c3","method":"party_report","category":"impact","time":"2026-11-20T09:00:00Z","lat":48.1,"lon":37.9,"cep_m":1000,"party":"RU"}
`
	if err := os.WriteFile(claims, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = run(t, "ingest", "--server", url+"/", "--token", liaison, claims)
	if code != 1 || !strings.Contains(stdout, "3 records: 2 accepted, 0 duplicates, 1 rejected") || !strings.Contains(stderr, "claims.ndjson:3: record 2: party: party UA may only report its own claims") {
		t.Errorf("ingest claims: code %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}

	if code, _, stderr := run(t, "ingest", "--server", url, "--token", "truce_wrong", claims); code != 1 || !strings.Contains(stderr, "401") {
		t.Errorf("ingest with a bad token: code %d, stderr %q; want 1 and the server's 401", code, stderr)
	}
}
