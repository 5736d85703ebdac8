package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/store/sqlite"
)

// TestPledgeImportAndGaps imports the example coalition dataset, again
// (nothing changes), then a file with a bad row (the good rows are
// imported, the bad one named), and prints the gaps.
func TestPledgeImportAndGaps(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "truce.db")
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	files, _ := filepath.Glob("../../examples/coalition/*.csv")
	if len(files) != 3 {
		t.Fatalf("example files %v", files)
	}
	code, out, errOut := run(t, append([]string{"pledge", "import", "--db", db}, files...)...)
	if code != 0 || !strings.Contains(out, "10 requirements, 52 pledges, 9 stage changes, 16 support records journaled; 0 rows already held; 0 refused") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, append([]string{"pledge", "import", "--db", db}, files...)...)
	if code != 0 || !strings.Contains(out, "0 requirements, 0 pledges, 0 stage changes, 0 support records journaled; 87 rows already held") {
		t.Errorf("second import: exit %d\n%s", code, out)
	}
	bad := filepath.Join(dir, "more.csv")
	os.WriteFile(bad, []byte("id,nation,capability,quantity,unit,stage,stage_date\n"+
		"x-good,EST,training,20,personnel,announced,2026-02-01\n"+
		"x-bad,EST,training,-3,personnel,announced,2026-02-01\n"+
		"gbr-land-1,GBR,land_force,3,battalion,proposed,2026-03-01\n"), 0o644)
	code, out, errOut = run(t, "pledge", "import", "--db", db, bad)
	if code != 1 || !strings.Contains(out, "0 requirements, 1 pledges") || !strings.Contains(errOut, "more.csv:3: pledge x-bad.quantity") ||
		!strings.Contains(errOut, "more.csv:4: pledge gbr-land-1: pledge gbr-land-1 is") {
		t.Errorf("import with bad rows: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, "pledge", "gaps", "--db", db)
	if code != 0 || !strings.Contains(out, "Gaps at stage approved:") || !strings.Contains(out, "req-air-defence") || !strings.Contains(out, "Awaiting approval:") ||
		!strings.Contains(out, "deu-air-1  DEU 6 aircraft air_policing, announced; needs Bundestag") {
		t.Errorf("gaps: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, "pledge", "gaps", "--db", db, "--json", "--without", "GBR,FRA", "--caveats")
	var g struct {
		Stage        string   `json:"stage"`
		Without      []string `json:"without"`
		CaveatsHold  bool     `json:"caveats_hold"`
		Requirements []struct {
			Requirement struct{ ID string }
			Missing     float64 `json:"missing"`
		} `json:"requirements"`
	}
	if err := json.Unmarshal([]byte(out), &g); code != 0 || err != nil || g.Stage != "approved" || len(g.Without) != 2 || !g.CaveatsHold || len(g.Requirements) != 10 {
		t.Errorf("gaps --json: exit %d, %v: %+v", code, err, g)
	}
	if code, _, _ := run(t, "pledge", "gaps", "--db", db, "--stage", "withdrawn"); code != 2 {
		t.Errorf("--stage withdrawn: exit %d, want 2", code)
	}
}
