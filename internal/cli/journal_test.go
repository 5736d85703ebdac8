package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestOfflineJournal drives the journal commands the way an operator
// would: ingest into a new database, make and list tokens, rebuild and
// check the projections.
func TestOfflineJournal(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")

	if code, _, errOut := run(t, "token", "create", "--db", db, "--org", "coalition", "--role", "admin"); code != 2 || !strings.Contains(errOut, "no such database") {
		t.Errorf("token create on a missing database: code %d, stderr %q; want 2 and 'no such database'", code, errOut)
	}

	code, out, errOut := run(t, "ingest", "--db", db, "testdata/observations.ndjson")
	if code != 0 || !strings.Contains(out, "3 records: 3 accepted, 0 duplicates, 0 rejected") {
		t.Fatalf("ingest: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	// Sending the same file again changes nothing.
	code, out, _ = run(t, "ingest", "--db", db, "testdata/observations.ndjson")
	if code != 0 || !strings.Contains(out, "3 records: 0 accepted, 3 duplicates, 0 rejected") {
		t.Errorf("ingest again: code %d, stdout %q", code, out)
	}
	// A rejected record fails the run (exit 1), names file, line and
	// field, and the good records of the file are kept.
	code, out, errOut = run(t, "ingest", "--db", db, "testdata/mixed.csv")
	if code != 1 || !strings.Contains(out, "3 records: 2 accepted, 0 duplicates, 1 rejected") || !strings.Contains(errOut, "testdata/mixed.csv:3: record 1: lat:") {
		t.Errorf("ingest mixed.csv: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}

	code, _, errOut = run(t, "token", "create", "--db", db, "--org", "UA", "--role", "liaison")
	if code != 2 || !strings.Contains(errOut, "--kind") {
		t.Errorf("token create for a new organisation without --kind: code %d, stderr %q", code, errOut)
	}
	code, out, errOut = run(t, "token", "create", "--db", db, "--org", "UA", "--kind", "party", "--role", "liaison", "--label", "UA hotline desk")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || !strings.HasPrefix(lines[len(lines)-1], "truce_") || len(lines[len(lines)-1]) != len("truce_")+43 {
		t.Fatalf("token create: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if code, _, errOut := run(t, "token", "create", "--db", db, "--org", "UA", "--kind", "nation", "--role", "viewer"); code != 2 || !strings.Contains(errOut, "already a party") {
		t.Errorf("token create with a conflicting kind: code %d, stderr %q", code, errOut)
	}
	code, out, _ = run(t, "token", "list", "--db", db)
	if code != 0 || !strings.Contains(out, "UA hotline desk") || strings.Contains(out, "truce_") {
		t.Errorf("token list: code %d, stdout %q (want the label and no secret)", code, out)
	}

	code, out, errOut = run(t, "rebuild", "--db", db, "--check")
	if code != 0 || !strings.Contains(out, "projections match the journal (6 entries") {
		t.Errorf("rebuild --check: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	code, out, errOut = run(t, "rebuild", "--db", db)
	if code != 0 || !strings.Contains(out, "rebuilt the projections from 6 journal entries") {
		t.Errorf("rebuild: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
}
