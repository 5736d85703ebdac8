package pledge

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/truce-dev/truce/internal/truce"
)

func exampleFiles(t *testing.T) Files {
	t.Helper()
	dir := "../../examples/coalition"
	open := func(name string) *os.File {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	var in Files
	var err error
	if in.Requirements, err = DecodeRequirements(open("requirements.csv"), "requirements.csv"); err != nil {
		t.Fatal(err)
	}
	if in.Pledges, err = DecodePledges(open("pledges.csv"), "pledges.csv"); err != nil {
		t.Fatal(err)
	}
	if in.Support, err = DecodeSupport(open("support.csv"), "support.csv"); err != nil {
		t.Fatal(err)
	}
	in.RequirementsFile, in.PledgesFile, in.SupportFile = "requirements.csv", "pledges.csv", "support.csv"
	return in
}

// counting commits count what reached the journal.
func counting(n *int) Commit {
	return Commit{
		Pledge:      func(truce.Pledge) error { *n++; return nil },
		Requirement: func(truce.Requirement) error { *n++; return nil },
		Support:     func(truce.Support) error { *n++; return nil },
	}
}

// TestImportExample imports the example dataset, then again: the second
// time changes nothing.
func TestImportExample(t *testing.T) {
	in := exampleFiles(t)
	b := NewBook(Options{})
	var n int
	res, err := b.Import(in, counting(&n))
	if err != nil || len(res.Problems) != 0 {
		t.Fatalf("import: %v, problems:\n%v", err, res.Problems)
	}
	ids := map[string]bool{}
	for _, r := range in.Pledges {
		ids[r.Pledge.ID] = true
	}
	if res.Requirements != len(in.Requirements) || res.Pledges != len(ids) || res.Stages != len(in.Pledges)-len(ids) || res.Support != len(in.Support) || res.Unchanged != 0 {
		t.Errorf("import %+v; want %d requirements, %d pledges, %d later stages, %d support", res, len(in.Requirements), len(ids), len(in.Pledges)-len(ids), len(in.Support))
	}
	if n != res.Requirements+res.Pledges+res.Stages+res.Support {
		t.Errorf("%d commits for %+v", n, res)
	}
	n = 0
	again, err := b.Import(in, counting(&n))
	if err != nil || n != 0 || again.Unchanged != len(in.Requirements)+len(in.Pledges)+len(in.Support) {
		t.Errorf("second import: %+v, %d commits, %v; want everything unchanged", again, n, err)
	}
	// The dataset is made to show gaps at approved.
	missing := 0.0
	for _, g := range b.Gaps(GapQuery{}).Requirements {
		missing += g.Missing
	}
	if missing == 0 {
		t.Error("the example shows no gap at stage approved")
	}
}

func TestImportRefusesBadRows(t *testing.T) {
	csv := "id,nation,capability,quantity,unit,stage,stage_date\n" +
		"p1,GBR,land_force,1,battalion,approved,2026-01-10\n" +
		"p1,GBR,land_force,1,battalion,announced,2026-02-01\n" +
		"p2,FRA,land_force,1,battalion,announced,2026-01-01\n"
	rows, err := DecodePledges(strings.NewReader(csv), "p.csv")
	if err != nil {
		t.Fatal(err)
	}
	b := NewBook(Options{})
	var n int
	res, err := b.Import(Files{Pledges: rows, PledgesFile: "p.csv"}, counting(&n))
	if err != nil {
		t.Fatal(err)
	}
	if res.Pledges != 2 || len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Error(), "p.csv:3: pledge p1: pledge p1 is approved; it cannot go back or stay at announced") {
		t.Errorf("result %+v: %v", res, res.Problems)
	}
	boom := errors.New("disk full")
	_, err = NewBook(Options{}).Import(Files{Pledges: rows, PledgesFile: "p.csv"}, Commit{Pledge: func(truce.Pledge) error { return boom }})
	if !errors.Is(err, boom) {
		t.Errorf("a failing journal: %v", err)
	}
}
