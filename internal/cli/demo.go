package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	fs2 "io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/truce-dev/truce/examples/coalition"
	"github.com/truce-dev/truce/examples/donbas"
	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/auth"
	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/evidence"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/pledge"
	"github.com/truce-dev/truce/internal/report"
	"github.com/truce-dev/truce/internal/server"
	"github.com/truce-dev/truce/internal/sim"
	"github.com/truce-dev/truce/internal/store/sqlite"
	"github.com/truce-dev/truce/internal/truce"
)

func demoCommand() *command {
	return &command{name: "demo", summary: "run a simulated day of ceasefire monitoring end to end, write the daily report, and serve it all", flags: demo}
}

func demo(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
	out := fs.String("out", "truce-demo", "`directory` for the database and the reports (its database is made afresh)")
	hours := fs.Int("hours", 24, "`hours` to simulate")
	seed := fs.Uint64("seed", 1, "random `seed` of the simulation")
	noServe := fs.Bool("no-serve", false, "exit once the report is written instead of serving")
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address` of the server (with --no-serve: a free port)")
	agr := fs.String("agreement", "", "agreement `file` (default: the example agreement over Donbas, built in)")
	return func(ctx context.Context, s *stdio, args []string) error {
		if len(args) > 0 {
			return usagef("demo takes no arguments")
		}
		if *hours < 1 || *hours > 24*7 {
			return usagef("--hours must be between 1 and 168")
		}
		addrSet := false
		fs.Visit(func(f *flag.Flag) { addrSet = addrSet || f.Name == "addr" })
		if *noServe && !addrSet {
			*addr = "127.0.0.1:0" // nothing to connect to afterwards: any free port
		}
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
		if *agr == "" {
			// The built-in example, written out beside the database so that
			// truce serve and truce report can be pointed at it later.
			dir := filepath.Join(*out, "agreement")
			if err := os.CopyFS(dir, donbas.FS); err != nil && !errors.Is(err, fs2.ErrExist) {
				return fmt.Errorf("write the example agreement: %w", err)
			}
			*agr = filepath.Join(dir, "agreement.yaml")
		}
		a, err := loadAgreement(*agr)
		if err != nil {
			return err
		}
		// The example coalition's commitments, written out beside it for
		// truce pledge import to take again.
		coalitionDir := filepath.Join(*out, "coalition")
		if err := os.CopyFS(coalitionDir, coalition.FS); err != nil && !errors.Is(err, fs2.ErrExist) {
			return fmt.Errorf("write the example commitments: %w", err)
		}
		var commitmentFiles []string
		for _, f := range []string{"requirements.csv", "pledges.csv", "support.csv"} {
			commitmentFiles = append(commitmentFiles, filepath.Join(coalitionDir, f))
		}
		// The simulated day ends before now: reports from the future are
		// refused, as they should be.
		day := time.Now().UTC().Truncate(24 * time.Hour).Add(-time.Duration((*hours+23)/24) * 24 * time.Hour)
		// The evening surge drives as many sectors to CRITICAL as the
		// renewed-aggression trigger needs (the simulation's own choice is
		// two), so that the day shows the trigger firing and the
		// contingent pledges it activates.
		cfg := sim.Config{Seed: *seed, Start: day, Hours: *hours}
		for i := 0; i < a.Escalation.RenewedAggressionSectors && i < len(a.Sectors); i++ {
			cfg.Surge = append(cfg.Surge, a.Sectors[i].ID)
		}
		if len(cfg.Surge) < 2 {
			cfg.Surge = nil
		}
		sc, err := sim.Generate(a, cfg)
		if err != nil && cfg.Surge != nil {
			// A sector without a stretch of the line between the parties
			// cannot surge: the simulation's own choice then.
			cfg.Surge = nil
			sc, err = sim.Generate(a, cfg)
		}
		if err != nil {
			return err
		}
		db := filepath.Join(*out, "truce.db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(db + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		admin, tokens, planners, err := demoSetup(ctx, db, sc, commitmentFiles)
		if err != nil {
			return err
		}

		sctx, stop := context.WithCancel(ctx)
		defer stop()
		listening := make(chan net.Addr, 1)
		served := make(chan error, 1)
		go func() {
			served <- server.Run(sctx, server.Options{DB: db, Addr: *addr, Agreement: *agr, Out: io.Discard, Listening: func(a net.Addr) { listening <- a }})
		}()
		var base string
		select {
		case la := <-listening:
			base = "http://" + la.String()
		case err := <-served:
			return fmt.Errorf("start the server: %w", err)
		}
		fmt.Fprintf(s.err, "simulated %s from %s: %s reports of %s events; sending them to %s\n",
			plural(*hours, "hour"), day.Format("2006-01-02"), thousands(float64(len(sc.Observations)), 0), thousands(float64(len(sc.Truth)), 0), base)
		prog := newProgress(s.err, "reports", int64(len(sc.Observations)), false)
		if err := sendScenario(ctx, base, sc, tokens, prog); err != nil {
			stop()
			<-served
			return err
		}
		prog.done(int64(len(sc.Observations)), len(sc.Observations))
		force, err := demoForce(ctx, base, day, planners)
		if err != nil {
			stop()
			<-served
			return fmt.Errorf("the coalition's plans: %w", err)
		}
		if *noServe {
			stop()
			if err := <-served; err != nil {
				return err
			}
		}

		// The report is made from the journal, as `truce report` makes it.
		var commitments *report.CommitmentsSection
		var activations []report.ActivationRow
		for d := day; d.Before(day.Add(time.Duration(*hours) * time.Hour)); d = d.Add(24 * time.Hour) {
			rep, eng, err := buildReport(ctx, db, a, d, d.Add(24*time.Hour))
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "\nA day along the line, %s:\n", d.Format("2 January 2006"))
			fmt.Fprintf(s.out, "  %s incidents, %s violations of the agreement\n", thousands(float64(rep.Summary.Incidents), 0), thousands(float64(rep.Summary.Violations), 0))
			fmt.Fprintln(s.out, "  sector levels at the end of the day:")
			for _, l := range eng.SectorsAt(d.Add(24 * time.Hour)) {
				fmt.Fprintf(s.out, "    %-20s %s\n", l.Sector, l.Level)
			}
			if c := rep.Commitments; c != nil {
				commitments = c
				activations = append(activations, c.Activations...)
			}
			if c := rep.Checkpoint; c != nil {
				fmt.Fprintf(s.out, "  made from the record at checkpoint %d of the evidence log %s\n", c.Size, c.Origin)
			}
			fmt.Fprintln(s.out, "  daily report:")
			for _, f := range []string{"html", "md", "json"} {
				path := filepath.Join(*out, "report-"+d.Format("2006-01-02")+"."+f)
				if err := writeReport(rep, f, path); err != nil {
					return err
				}
				fmt.Fprintf(s.out, "    %s\n", path)
			}
		}
		fmt.Fprintf(s.out, "\nThe coalition's force, %s (plans checked against each other, the keep-out zone and national caveats; tracks against the plans):\n", day.Format("2 January 2006"))
		for _, l := range force {
			fmt.Fprintf(s.out, "  %s\n", l)
		}
		if commitments != nil {
			writeDemoCommitments(s.out, commitments, activations, coalitionDir, time.Now())
		}
		fmt.Fprintf(s.out, "\n%s reports sent through the API; the agreement is %s\n", thousands(float64(len(sc.Observations)), 0), *agr)
		if k, err := evidence.LoadKey(evidence.KeyPath(db)); err == nil {
			fmt.Fprintf(s.out, "The evidence log's verifier key (truce verify --db %s --key ...):\n%s\n", db, k.VerifierKey)
		}
		if *noServe {
			return nil
		}
		fmt.Fprintf(s.out, "\nServing the API at %s/api/v1 (OpenAPI: %s/api/v1/openapi.json). Ctrl-C stops.\nAdmin token:\n%s\n", base, base, admin)
		select {
		case <-ctx.Done():
			stop()
			return <-served
		case err := <-served:
			return err
		}
	}
}

// demoSetup makes the database with its bootstrap admin token, a token for
// every other organisation that reports in the scenario, a planner token
// for each nation that files plans, the journal entries of the scenario's
// windows of silence (agreed with both parties) and the coalition's
// commitments imported from the CSV files commitments.
func demoSetup(ctx context.Context, db string, sc *sim.Scenario, commitments []string) (admin string, tokens map[truce.OrgID]string, planners map[truce.NationID]string, err error) {
	st, err := sqlite.Open(ctx, db, sqlite.Options{Now: time.Now})
	if err != nil {
		return "", nil, nil, err
	}
	defer st.Close()
	var buf bytes.Buffer
	if err := server.Bootstrap(ctx, st, &buf, rand.Reader, time.Now()); err != nil {
		return "", nil, nil, err
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	admin = lines[len(lines)-1]
	tokens = map[truce.OrgID]string{"coalition": admin}
	for _, r := range sc.Observations {
		if _, ok := tokens[r.Org]; ok {
			continue
		}
		kind, role := truce.OrgNation, truce.RoleMonitor
		if r.Observation.Party != "" {
			kind, role = truce.OrgParty, truce.RoleLiaison
		}
		secret, tok, err := auth.New(rand.Reader, r.Org, kind, role, "demo", time.Now())
		if err != nil {
			return "", nil, nil, err
		}
		if err := server.CreateToken(ctx, st, tok); err != nil {
			return "", nil, nil, err
		}
		tokens[r.Org] = secret
	}
	for i := range sc.Windows {
		w := sc.Windows[i]
		if _, err := st.Append(ctx, []journal.Entry{{Kind: journal.KindWindow, Org: "coalition", Window: &w}}); err != nil {
			return "", nil, nil, err
		}
	}
	if planners, err = demoPlannerTokens(ctx, st); err != nil {
		return "", nil, nil, err
	}
	res, err := ImportCommitments(ctx, st, "coalition", commitments)
	if err != nil {
		return "", nil, nil, fmt.Errorf("import the example commitments: %w", err)
	}
	if len(res.Problems) > 0 {
		return "", nil, nil, fmt.Errorf("import the example commitments: %w", res.Problems)
	}
	return admin, tokens, planners, st.Close()
}

// sendScenario posts the scenario's reports in the order they are sent,
// each organisation with its own token, in NDJSON batches, as truce ingest
// --server does.
func sendScenario(ctx context.Context, base string, sc *sim.Scenario, tokens map[truce.OrgID]string, prog *progress) error {
	client := &http.Client{Timeout: time.Minute}
	reps := sc.Observations
	for sent := 0; sent < len(reps); {
		org := reps[sent].Org
		n := 1
		for sent+n < len(reps) && reps[sent+n].Org == org && n < 500 {
			n++
		}
		batch := make([]pending, n)
		for i := range batch {
			batch[i] = pending{obs: reps[sent+i].Observation, index: sent + i}
		}
		sink := &serverSink{url: base + "/api/v1/observations", token: tokens[org], client: client}
		acc, dup, rejs, err := sink.send(ctx, batch)
		if err != nil {
			return fmt.Errorf("sending reports of %s: %w", org, err)
		}
		if len(rejs) > 0 || acc+dup != n {
			return fmt.Errorf("sending reports of %s: %d accepted, %d duplicates, rejected %+v", org, acc, dup, rejs)
		}
		sent += n
		prog.update(int64(sent), sent)
	}
	return nil
}

// buildReport judges the journal at db afresh and reports the day
// [date, cutoff).
func buildReport(ctx context.Context, db string, a *truce.Agreement, date, cutoff time.Time) (*report.Report, *engine.Engine, error) {
	st, err := openStore(ctx, db, false)
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	eng, err := engine.New(engine.Config{Agreement: a})
	if err != nil {
		return nil, nil, err
	}
	// As of the cut-off: what the journal holds about events up to it, and
	// the alert levels those events set.
	derived, err := engine.Judge(ctx, eng, st, cutoff)
	if err != nil {
		return nil, nil, err
	}
	var levels []truce.LevelChange
	for _, d := range derived {
		if d.Level != nil && d.Level.At.Before(cutoff) {
			levels = append(levels, *d.Level)
		}
	}
	// The report is the coalition's: every incident it may see.
	viewer := truce.Principal{Org: "coalition", Kind: truce.OrgCoalition, Role: truce.RoleAdmin}
	var recs []engine.Record
	for c := (engine.Cursor{}); ; {
		page, next := eng.Incidents(engine.IncidentQuery{Viewer: viewer, From: date.Add(-(report.TrendDays - 1) * 24 * time.Hour), To: cutoff, After: c, Limit: 1000})
		recs = append(recs, page...)
		if next.IsZero() {
			break
		}
		c = next
	}
	// The coalition's commitments, rebuilt from the journal (read only:
	// the server journals the activations), with the activations of the
	// day; none when the journal holds none.
	var commitments *report.Commitments
	book, _, err := server.Commitments(ctx, st, pledge.Options{})
	if err != nil {
		return nil, nil, err
	}
	if len(book.Requirements(nil)) > 0 || len(book.Pledges(nil)) > 0 || len(book.Support(nil)) > 0 {
		commitments = &report.Commitments{
			Gaps:        book.Gaps(pledge.GapQuery{Stage: truce.StageApproved}),
			Activations: book.Activations(func(a *truce.Activation) bool { return !a.At.Before(date) && a.At.Before(cutoff) }),
			Support:     pledge.SumSupport(book.Support(nil)),
		}
	}
	// The report carries the checkpoint of the record it was made from.
	notary, err := server.Notary(st, db, "", "truce.local/"+a.ID)
	if err != nil {
		return nil, nil, err
	}
	cp, _, err := notary.Checkpoint(ctx)
	if err != nil {
		return nil, nil, err
	}
	sum, err := evidence.Summarize(cp)
	if err != nil {
		return nil, nil, err
	}
	rep, err := report.Build(report.Input{Agreement: a, Date: date, Cutoff: cutoff, Incidents: recs, Levels: levels, Sectors: eng.SectorsAt(cutoff), Windows: eng.Windows(),
		Checkpoint: &report.Checkpoint{Origin: sum.Origin, Size: sum.Size, Root: sum.Root, Note: sum.Note}, Commitments: commitments})
	if err != nil {
		return nil, nil, err
	}
	return rep, eng, st.Close()
}

// renderReport writes rep to w in a text format: html, md or json.
func renderReport(rep *report.Report, format string, w io.Writer) error {
	switch format {
	case "html":
		return rep.HTML(w)
	case "md":
		return rep.Markdown(w)
	case "json":
		return rep.JSON(w)
	}
	return usagef("--format %q: want html, md, json or pdf", format)
}

// writeReport writes rep in format (html, md, json or pdf) to path.
func writeReport(rep *report.Report, format, path string) error {
	if format == "pdf" {
		return writePDF(rep, path)
	}
	var buf bytes.Buffer
	if err := renderReport(rep, format, &buf); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

func reportCommand() *command {
	return &command{name: "report", summary: "write the daily report of a day from a database's journal", flags: reportCmd}
}

func reportCmd(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
	db := fs.String("db", defaultDB, "SQLite `file` of the journal")
	date := fs.String("date", "", "the report's `day`, YYYY-MM-DD (UTC); default yesterday")
	cutoff := fs.String("cutoff", "", "report as of this `time` (RFC 3339); default the end of the day")
	format := fs.String("format", "html", "`format`: html, md, json, or pdf (printed by headless Chromium from the HTML)")
	out := fs.String("o", "", "output `file`; default report-DAY.FORMAT in the current directory, - for standard output")
	agr := fs.String("agreement", "", "agreement `file` the journal is judged against (default: the built-in example)")
	return func(ctx context.Context, s *stdio, args []string) error {
		if len(args) > 0 {
			return usagef("report takes no arguments")
		}
		if !slices.Contains([]string{"html", "md", "json", "pdf"}, *format) {
			return usagef("--format %q: want html, md, json or pdf", *format)
		}
		day := time.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
		if *date != "" {
			d, err := time.Parse("2006-01-02", *date)
			if err != nil {
				return usagef("--date %q: want YYYY-MM-DD", *date)
			}
			day = d
		}
		until := day.Add(24 * time.Hour)
		if *cutoff != "" {
			c, err := time.Parse(time.RFC3339, *cutoff)
			if err != nil {
				return usagef("--cutoff %q: want an RFC 3339 time", *cutoff)
			}
			until = c.UTC()
		}
		var a *truce.Agreement
		var err error
		if *agr == "" {
			a, err = agreement.LoadFS(donbas.FS, "agreement.yaml")
		} else {
			a, err = loadAgreement(*agr)
		}
		if err != nil {
			return err
		}
		rep, _, err := buildReport(ctx, *db, a, day, until)
		if err != nil {
			return err
		}
		path := *out
		if path == "" {
			path = "report-" + day.Format("2006-01-02") + "." + *format
		}
		if path == "-" {
			if *format == "pdf" {
				return usagef("a PDF needs a file: give -o FILE")
			}
			return renderReport(rep, *format, s.out)
		}
		if err := writeReport(rep, *format, path); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "wrote %s: %s incidents, %s violations\n", path, thousands(float64(rep.Summary.Incidents), 0), thousands(float64(rep.Summary.Violations), 0))
		return nil
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// chromium names the headless browser that prints reports to PDF.
var chromium = []string{"chromium", "chromium-browser", "google-chrome"}

// writePDF prints rep's self-contained HTML to a PDF at path with headless
// Chromium (Debian's chromium package).
func writePDF(rep *report.Report, path string) error {
	var bin string
	for _, name := range chromium {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		return errors.New("a PDF report is printed by headless Chromium, which is not installed (apt-get install chromium)")
	}
	dir, err := os.MkdirTemp("", "truce-report-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	html := filepath.Join(dir, "report.html")
	f, err := os.Create(html)
	if err != nil {
		return err
	}
	if err := rep.HTML(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	tmp := abs + ".tmp"
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-pdf-header-footer",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--print-to-pdf="+tmp, "file://"+html)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("print the report with %s: %v\n%s", bin, err, out)
	}
	return os.Rename(tmp, abs)
}

// writeDemoCommitments prints the demo's commitments section: the pledges
// and nations, each requirement with something missing at the section's
// stage, and the activations of contingent pledges, overdue as of now.
func writeDemoCommitments(w io.Writer, c *report.CommitmentsSection, acts []report.ActivationRow, dir string, now time.Time) {
	fmt.Fprintf(w, "\nThe coalition's commitments (%s, imported from %s; gaps at stage %s):\n", plural(c.Pledges, "pledge")+" from "+plural(c.Nations, "nation"), dir, c.Stage)
	for _, g := range c.Requirements {
		if g.Missing > 0 {
			fmt.Fprintf(w, "  %s: %s of %s %s, %s missing\n", g.ID, quantity(g.Pledged), quantity(g.Needed), g.Unit, quantity(g.Missing))
		}
	}
	if len(c.AwaitingApproval) > 0 {
		fmt.Fprintf(w, "  %s awaiting approval by a parliament or other body\n", plural(len(c.AwaitingApproval), "pledge"))
	}
	if len(acts) == 0 {
		fmt.Fprintln(w, "  the renewed-aggression trigger did not fire: no contingent pledge activated")
		return
	}
	fmt.Fprintf(w, "  the renewed-aggression trigger fired: %s activated\n", plural(len(acts), "contingent pledge"))
	for _, a := range acts {
		status := "awaiting acknowledgement"
		switch {
		case a.Acknowledged:
			status = "acknowledged"
		case now.After(a.Due):
			status = "overdue"
		}
		fmt.Fprintf(w, "  %s %s: activated %s, due %s, %s\n", a.Nation, a.Pledge, a.At.Format("2006-01-02 15:04"), a.Due.Format("2006-01-02 15:04"), status)
	}
}
