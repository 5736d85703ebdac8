package cli

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/truce-dev/truce/internal/server"
)

// reports writes an NDJSON file of n observations from source.
func reports(t *testing.T, dir, source string, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"source":%q,"source_id":"r%d","method":"acoustic","category":"explosion","time":"2026-11-20T09:%02d:00Z","lat":48.%d,"lon":37.9,"cep_m":500,"marking":{"tlp":"CLEAR"},"text":"a <b> & c %d"}`+"\n", source, i, i%60, 100+i, i)
	}
	path := filepath.Join(dir, source+".ndjson")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := run(t, args...)
	if code != 0 {
		t.Fatalf("truce %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// startServer serves db until the test ends or stop is called.
func startServer(t *testing.T, db string) (url string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, server.Options{DB: db, Addr: "127.0.0.1:0", Out: io.Discard, Listening: func(a net.Addr) { listening <- a }})
	}()
	select {
	case a := <-listening:
		url = "http://" + a.String()
	case err := <-done:
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(stop)
	return url, stop
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// truce verify --server follows a log as it grows, as the public (hashes
// for what it may not see) and with a token; a fork served under the same
// key is caught against the state it kept.
func TestVerifyServer(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	state := filepath.Join(dir, "state")
	mustRun(t, "ingest", "--db", db, reports(t, dir, "first", 30))
	url, stop := startServer(t, db) // makes the key and the bootstrap token
	key := strings.TrimSpace(mustRun(t, "log", "key", "--db", db))
	if !strings.HasPrefix(key, "truce.local/journal+") {
		t.Fatalf("log key: %q", key)
	}
	out := mustRun(t, "verify", "--server", url, "--key", key, "--state", state)
	if !strings.Contains(out, "checkpoint: 31 entries") || !strings.Contains(out, "read and hashed: 30; taken by their leaf hash (not visible to this caller): 1") {
		t.Errorf("verify: %s", out)
	}
	stop()
	// The fork: a copy of the log as it is now, with the same key.
	fork := filepath.Join(dir, "b.db")
	copyFile(t, db, fork)
	copyFile(t, db+".key", fork+".key")

	mustRun(t, "ingest", "--db", db, reports(t, dir, "second", 10))
	url, stop = startServer(t, db)
	out = mustRun(t, "verify", "--server", url, "--state", state) // the key from the state
	if !strings.Contains(out, "checkpoint: 41 entries") {
		t.Errorf("verify after growth: %s", out)
	}
	stop()

	mustRun(t, "ingest", "--db", fork, reports(t, dir, "other", 15))
	furl, _ := startServer(t, fork)
	code, _, stderr := run(t, "verify", "--server", furl, "--state", state)
	if code != 1 || !strings.Contains(stderr, "fork: the checkpoint of size 46 is not consistent with the one of size 41 seen before") {
		t.Errorf("verify of a fork: exit %d\n%s", code, stderr)
	}
	// The state still holds the honest checkpoint.
	if b, _ := os.ReadFile(filepath.Join(state, "checkpoint")); !bytes.Contains(b, []byte("\n41\n")) {
		t.Errorf("state after a failed verify: %q", b)
	}
	// A wrong key is refused.
	if code, _, stderr := run(t, "verify", "--server", furl, "--key", "other+12345678+AXGlcWNuBSeu1rXC4AeokZOWqbZ3FhaTyCCDNHJ2rTPe"); code == 0 {
		t.Errorf("verify with another key: exit 0\n%s", stderr)
	}
}

// Tampering with the database file is found by truce verify --db, which
// says what and where.
func TestVerifyDBTamper(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.db")
	mustRun(t, "ingest", "--db", clean, reports(t, dir, "obs", 12))
	mustRun(t, "log", "checkpoint", "--db", clean)
	mustRun(t, "ingest", "--db", clean, reports(t, dir, "more", 8))
	cp := mustRun(t, "log", "checkpoint", "--db", clean)
	if !strings.HasPrefix(cp, "truce.local/journal\n20\n") {
		t.Fatalf("checkpoint: %q", cp)
	}
	if out := mustRun(t, "verify", "--db", clean); !strings.Contains(out, "checkpoint: 20 entries") {
		t.Fatalf("verify clean: %s", out)
	}
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, h *sql.DB)
		want   []string
	}{
		{"one byte changed", func(t *testing.T, h *sql.DB) {
			var raw []byte
			h.QueryRow("SELECT entry FROM journal WHERE seq = 7").Scan(&raw)
			raw = bytes.Replace(raw, []byte(`a <b> & c`), []byte(`a <b> & d`), 1)
			sqlExec(t, h, "UPDATE journal SET entry = ? WHERE seq = 7", raw)
		}, []string{
			"entry 7 (leaf 6) hashes to ",
			"the entry was changed after it was logged",
			"the first 12 entries hash to root ",
		}},
		{"an entry deleted", func(t *testing.T, h *sql.DB) {
			sqlExec(t, h, "DELETE FROM journal WHERE seq = 4")
		}, []string{"journal entry 4 is missing: the row after entry 3 is 5"}},
		{"two entries reordered", func(t *testing.T, h *sql.DB) {
			var a, b []byte
			h.QueryRow("SELECT entry FROM journal WHERE seq = 9").Scan(&a)
			h.QueryRow("SELECT entry FROM journal WHERE seq = 10").Scan(&b)
			sqlExec(t, h, "UPDATE journal SET entry = ? WHERE seq = 9", b)
			sqlExec(t, h, "UPDATE journal SET entry = ? WHERE seq = 10", a)
		}, []string{"entry 9 (leaf 8): holds entry 10: entries are out of order", "entry 10 (leaf 9): holds entry 9"}},
		{"journal truncated", func(t *testing.T, h *sql.DB) {
			sqlExec(t, h, "DELETE FROM journal WHERE seq > 15")
		}, []string{"the log holds 15 entries, but the checkpoint covers 20: entries 16 to 20 are missing"}},
		{"journal truncated and the newest checkpoint removed", func(t *testing.T, h *sql.DB) {
			sqlExec(t, h, "DELETE FROM journal WHERE seq > 15")
			sqlExec(t, h, "DELETE FROM log_checkpoints WHERE size = 20")
			sqlExec(t, h, "DELETE FROM log_hashes")
		}, []string{"the log shrank: the checkpoint has 12 leaves, but one of 20 was seen before: entries 13 to 20 were removed"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "t.db")
			copyFile(t, clean, db)
			copyFile(t, clean+".key", db+".key")
			state := filepath.Join(t.TempDir(), "state")
			if c.name == "journal truncated and the newest checkpoint removed" {
				// A verifier that saw size 20 before.
				mustRun(t, "verify", "--db", db, "--state", state)
			}
			h, err := sql.Open("sqlite", db)
			if err != nil {
				t.Fatal(err)
			}
			c.tamper(t, h)
			h.Close()
			code, _, stderr := run(t, "verify", "--db", db, "--state", state)
			if code != 1 {
				t.Errorf("exit %d, want 1\n%s", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func sqlExec(t *testing.T, h *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := h.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
