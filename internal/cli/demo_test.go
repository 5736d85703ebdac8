package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/evidence"
	"github.com/truce-dev/truce/internal/journal"
)

// TestDemo runs `truce demo --no-serve` to completion and checks, from the
// report's JSON form, what the simulated day drives: the three surge
// sectors (the example agreement's first three, as many as its
// renewed-aggression trigger needs) reach CRITICAL, the broken window of
// silence is reported as broken, both parties' weapons are listed in
// violation of withdrawal lines, and the example coalition's commitments
// show their gaps and, the trigger having fired, the contingent pledges it
// activated.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("a simulated day through the HTTP API")
	}
	dir := t.TempDir()
	// The built-in example agreement, any free port: as on a fresh machine.
	code, out, errOut := run(t, "demo", "--no-serve", "--out", dir)
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "report-*.json"))
	if len(files) != 1 {
		t.Fatalf("reports written: %v; want one JSON report", files)
	}
	for _, ext := range []string{".html", ".md"} {
		if _, err := os.Stat(strings.TrimSuffix(files[0], ".json") + ext); err != nil {
			t.Errorf("no %s report: %v", ext, err)
		}
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Timeline []struct{ Sector, To string } `json:"timeline"`
		Windows  []struct {
			ID, Status string
		} `json:"windows_of_silence"`
		Withdrawal []struct{ Party string } `json:"withdrawal_violations"`
		Checkpoint *struct {
			Size int64
			Note string
		} `json:"checkpoint"`
		Commitments *struct {
			Pledges, Nations int
			Requirements     []struct {
				ID      string
				Missing float64
			}
			Activations []struct {
				Nation, Pledge string
				At             time.Time
			}
		} `json:"commitments"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	for _, sector := range []string{"kupiansk", "lyman-siversk", "bakhmut-toretsk"} {
		if !slices.ContainsFunc(rep.Timeline, func(c struct{ Sector, To string }) bool { return c.Sector == sector && c.To == "CRITICAL" }) {
			t.Errorf("surge sector %s never reached CRITICAL: timeline %+v", sector, rep.Timeline)
		}
	}
	if len(rep.Windows) != 1 || rep.Windows[0].Status != "broken" {
		t.Errorf("windows of silence %+v, want the one window broken", rep.Windows)
	}
	parties := map[string]bool{}
	for _, w := range rep.Withdrawal {
		parties[w.Party] = true
	}
	if !parties["UA"] || !parties["RU"] {
		t.Errorf("withdrawal-zone violations by %v, want both UA and RU", parties)
	}
	// The report names the checkpoint it was made at, signed by the log's
	// key, and the record verifies against it.
	if rep.Checkpoint == nil {
		t.Fatalf("the report carries no checkpoint")
	}
	key, err := evidence.LoadKey(evidence.KeyPath(filepath.Join(dir, "truce.db")))
	if err != nil {
		t.Fatal(err)
	}
	if _, size, _, err := evidence.VerifyCheckpoint([]byte(rep.Checkpoint.Note), key.Verifier); err != nil || size != rep.Checkpoint.Size || size < 2000 {
		t.Errorf("the report's checkpoint: size %d (%d), %v", size, rep.Checkpoint.Size, err)
	}
	if code, vout, verr := run(t, "verify", "--db", filepath.Join(dir, "truce.db"), "--key", key.VerifierKey); code != 0 {
		t.Errorf("verify the demo's database: exit %d\n%s%s", code, vout, verr)
	}
	if !strings.Contains(out, "daily report:") || !strings.Contains(out, "CRITICAL") {
		t.Errorf("summary:\n%s", out)
	}
	// The coalition's commitments: the example's gaps, and the contingent
	// pledges activated if and only if the journal says the
	// renewed-aggression trigger fired on the day.
	fired := triggerFired(t, filepath.Join(dir, "truce.db"))
	if !fired {
		t.Errorf("the renewed-aggression trigger did not fire on the surge day")
	}
	if c := rep.Commitments; c == nil {
		t.Errorf("the report has no commitments section")
	} else {
		missing := 0
		for _, r := range c.Requirements {
			if r.Missing > 0 {
				missing++
			}
		}
		if missing == 0 || c.Pledges == 0 || c.Nations == 0 {
			t.Errorf("commitments: %d pledges from %d nations, %d requirements with something missing; want some of each", c.Pledges, c.Nations, missing)
		}
		if got := len(c.Activations) > 0; got != fired {
			t.Errorf("activations %+v with the trigger fired %v; want activations if and only if it fired", c.Activations, fired)
		}
	}
	if !regexp.MustCompile(`\n  req-[a-z-]+: [0-9,.]+ of [0-9,.]+ [a-zA-Z ]+, [0-9,.]+ missing\n`).MatchString(out) {
		t.Errorf("the demo's commitments section names no requirement with something missing:\n%s", out)
	}
	wants := []string{"\nThe coalition's commitments ("}
	if fired {
		wants = append(wants, "  the renewed-aggression trigger fired: ", "  GBR gbr-land-r1: activated ")
	} else {
		wants = append(wants, "  the renewed-aggression trigger did not fire")
	}
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's commitments section lacks %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "The coalition's force"), strings.Index(out, "The coalition's commitments"); i < 0 || j < i {
		t.Errorf("the commitments section (at %d) should follow the coalition-force section (at %d)", j, i)
	}

	// The coalition's plans: one accepted, three refused each for its own
	// reason, and the patrol's aircraft straying and returning.
	for _, want := range []string{
		"GBR air patrol (RAF Rivet 1): accepted",
		"FRA air flight (FAF Cougar 2): rejected; meets activity gbr-",
		"POL land patrol (PL Engineer Patrol 3): rejected; enters zone coalition-keep-out (keep_out)",
		"DEU air flight (Luftwaffe Air Policing 4): rejected; breaks the caveat",
		"alerts: nonconforming (",
		"km outside its orbit), conforming",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's coalition section lacks %q:\n%s", want, out)
		}
	}

	// truce report makes the same report from the database alone.
	day := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(files[0]), "report-"), ".json")
	code, md, errOut := run(t, "report", "--db", filepath.Join(dir, "truce.db"), "--date", day, "--format", "md", "-o", "-")
	if code != 0 || !strings.Contains(md, "# Daily report "+day) || !strings.Contains(md, "## Violations by sector") || !strings.Contains(md, "## The record") ||
		!strings.Contains(md, "## Commitments") || !strings.Contains(md, "| req-air-defence | air_defence |") {
		t.Errorf("report: exit %d, stderr %s\n%.400s", code, errOut, md)
	}

	// The PDF, printed by headless Chromium, turned into page images by
	// poppler's pdftoppm.
	for _, prog := range []string{"chromium", "pdftoppm"} {
		if _, err := exec.LookPath(prog); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed, and .ci/run should have installed it", prog)
			}
			t.Skipf("%s is not installed: skipping the PDF report", prog)
		}
	}
	pdf := filepath.Join(dir, "report.pdf")
	if code, _, errOut := run(t, "report", "--db", filepath.Join(dir, "truce.db"), "--date", day, "--format", "pdf", "-o", pdf, "--agreement", filepath.Join(dir, "agreement", "agreement.yaml")); code != 0 {
		t.Fatalf("report --format pdf: exit %d\n%s", code, errOut)
	}
	if out, err := exec.Command("pdftoppm", "-png", "-r", "40", pdf, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(pages) < 2 {
		t.Errorf("the PDF report has %d pages; want several (summary, sector tables, map)", len(pages))
	}
	for _, p := range pages {
		if b, err := os.ReadFile(p); err != nil || len(b) < 1000 || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("page %s: %d bytes, %v; want a PNG image", p, len(b), err)
		}
	}
}

// triggerFired reports whether the journal at db holds the
// renewed-aggression trigger firing.
func triggerFired(t *testing.T, db string) bool {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, db, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fired := false
	err = st.Entries(ctx, 0, 0, func(e *journal.Entry, _ []byte) error {
		fired = fired || e.Kind == journal.KindTrigger && e.Trigger != nil && e.Trigger.Fired
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fired
}
