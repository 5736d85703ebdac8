package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/pledge"
	"github.com/truce-dev/truce/internal/server"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
)

func pledgeCommand() *command {
	return &command{
		name:    "pledge",
		summary: "the coalition's commitments: pledges, requirements, gaps, support",
		subs: []*command{{
			name:    "import",
			summary: "import pledges.csv, requirements.csv and support.csv files into the journal (see docs/commitments.md for the columns)",
			flags:   pledgeImport,
		}, {
			name:    "gaps",
			summary: "print the gaps between requirements and pledges at a stage, with what-ifs",
			flags:   pledgeGaps,
		}},
	}
}

// csvKind tells an import file's kind from its header row.
func csvKind(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", invalidError{err}
	}
	defer f.Close()
	head, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	cols := strings.Split(strings.TrimSpace(strings.TrimPrefix(head, "\ufeff")), ",")
	switch {
	case slices.Contains(cols, "donor"):
		return "support", nil
	case slices.Contains(cols, "stage") && slices.Contains(cols, "nation"):
		return "pledges", nil
	case slices.Contains(cols, "capability"):
		return "requirements", nil
	}
	return "", invalidError{fmt.Errorf("%s: not a pledges, requirements or support file (its header names none of nation, donor or capability)", name)}
}

// commitTo journals the Book's changes in st, recorded by org.
func commitTo(ctx context.Context, st store.Journal, org truce.OrgID) pledge.Commit {
	one := func(e journal.Entry) error {
		_, err := st.Append(ctx, []journal.Entry{e})
		return err
	}
	return pledge.Commit{
		Pledge: func(p truce.Pledge) error { return one(journal.Entry{Kind: journal.KindPledge, Org: org, Pledge: &p}) },
		Requirement: func(r truce.Requirement) error {
			return one(journal.Entry{Kind: journal.KindRequirement, Org: org, Requirement: &r})
		},
		Support: func(s truce.Support) error {
			return one(journal.Entry{Kind: journal.KindSupport, Org: org, Support: &s})
		},
	}
}

// readFiles decodes import files by kind. Bad rows are returned as
// problems beside the good ones, which are still imported; a file that
// cannot be read at all is an error.
func readFiles(names []string) (pledge.Files, truce.Problems, error) {
	var in pledge.Files
	var probs truce.Problems
	for _, name := range names {
		kind, err := csvKind(name)
		if err != nil {
			return in, nil, err
		}
		f, err := os.Open(name)
		if err != nil {
			return in, nil, invalidError{err}
		}
		switch kind {
		case "pledges":
			var rows []pledge.PledgeRow
			rows, err = pledge.DecodePledges(f, name)
			in.Pledges, in.PledgesFile = append(in.Pledges, rows...), name
		case "requirements":
			var rs []truce.Requirement
			rs, err = pledge.DecodeRequirements(f, name)
			in.Requirements, in.RequirementsFile = append(in.Requirements, rs...), name
		default:
			var ss []truce.Support
			ss, err = pledge.DecodeSupport(f, name)
			in.Support, in.SupportFile = append(in.Support, ss...), name
		}
		f.Close()
		var p truce.Problems
		if errors.As(err, &p) {
			probs = append(probs, p...)
		} else if err != nil {
			return in, nil, invalidError{err}
		}
	}
	return in, probs, nil
}

// ImportCommitments imports files into the journal at st, recorded by org:
// every good row; the result's problems name the bad ones.
func ImportCommitments(ctx context.Context, st store.Store, org truce.OrgID, names []string) (pledge.ImportResult, error) {
	in, probs, err := readFiles(names)
	if err != nil {
		return pledge.ImportResult{}, err
	}
	book, _, err := server.Commitments(ctx, st, pledge.Options{})
	if err != nil {
		return pledge.ImportResult{}, err
	}
	res, err := book.Import(in, commitTo(ctx, st, org))
	res.Problems = append(probs, res.Problems...)
	return res, err
}

func pledgeImport(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
	db := fs.String("db", defaultDB, "SQLite `file` of the journal")
	org := fs.String("org", "coalition", "the `organisation` recorded as making the changes")
	return func(ctx context.Context, s *stdio, args []string) error {
		if len(args) == 0 {
			return usagef("pledge import needs one or more CSV files")
		}
		if !truce.ValidOrgID(*org) {
			return usagef("--org: %q is not an organisation id", *org)
		}
		st, err := openStore(ctx, *db, false)
		if err != nil {
			return err
		}
		defer st.Close()
		res, err := ImportCommitments(ctx, st, truce.OrgID(*org), args)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "%d requirements, %d pledges, %d stage changes, %d support records journaled; %d rows already held; %d refused\n",
			res.Requirements, res.Pledges, res.Stages, res.Support, res.Unchanged, len(res.Problems))
		for _, p := range res.Problems {
			fmt.Fprintln(s.err, p)
		}
		if len(res.Problems) > 0 {
			return errors.New("some rows were refused")
		}
		return st.Close()
	}
}

func pledgeGaps(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
	db := fs.String("db", defaultDB, "SQLite `file` of the journal")
	stage := fs.String("stage", "approved", "count pledges at this `stage` or past it: proposed, announced, approved, ready, deployed, delivered")
	without := fs.String("without", "", "what if these `nations` (comma-separated, such as GBR,FRA) withdrew")
	caveats := fs.Bool("caveats", false, "hold every caveat: leave out pledges whose caveats keep them from a requirement")
	caveatsOf := fs.String("caveats-of", "", "hold only these `nations`' caveats (comma-separated)")
	asJSON := fs.Bool("json", false, "print JSON (the answer of GET /api/v1/gaps) instead of a table")
	return func(ctx context.Context, s *stdio, args []string) error {
		if len(args) > 0 {
			return usagef("pledge gaps takes no arguments")
		}
		st, err := truce.ParsePledgeStage(*stage)
		if err != nil || st == truce.StageWithdrawn {
			return usagef("--stage: %q is not a stage to count at", *stage)
		}
		q := pledge.GapQuery{Stage: st, CaveatsHold: *caveats, Without: nationList(*without), CaveatsOf: nationList(*caveatsOf)}
		db, err := openStore(ctx, *db, false)
		if err != nil {
			return err
		}
		defer db.Close()
		book, _, err := server.Commitments(ctx, db, pledge.Options{})
		if err != nil {
			return err
		}
		g := book.Gaps(q)
		if *asJSON {
			enc := json.NewEncoder(s.out)
			enc.SetIndent("", "  ")
			return enc.Encode(api.FromGaps(g))
		}
		writeGaps(s.out, g)
		return nil
	}
}

// quantity formats a pledged quantity: whole numbers with thousands
// separators, fractions with the decimals they need (at most three).
func quantity(x float64) string {
	for d := 0; d < 3; d++ {
		if s := thousands(x, d); x == truce.Round(x, math.Pow10(-d)) {
			return s
		}
	}
	return thousands(x, 3)
}

// nationList reads a comma-separated list of nations.
func nationList(s string) []truce.NationID {
	var out []truce.NationID
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, truce.NationID(n))
		}
	}
	return out
}

// writeGaps prints gaps as tables.
func writeGaps(w io.Writer, g pledge.Gaps) {
	title := "Gaps at stage " + string(g.Query.Stage)
	if len(g.Query.Without) > 0 {
		ns := make([]string, len(g.Query.Without))
		for i, n := range g.Query.Without {
			ns[i] = string(n)
		}
		title += ", without " + strings.Join(ns, ", ")
	}
	if g.Query.CaveatsHold {
		title += ", caveats held"
	}
	if len(g.Query.CaveatsOf) > 0 {
		ns := make([]string, len(g.Query.CaveatsOf))
		for i, n := range g.Query.CaveatsOf {
			ns[i] = string(n)
		}
		title += ", caveats of " + strings.Join(ns, ", ") + " held"
	}
	fmt.Fprintln(w, title+":")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  REQUIREMENT\tCAPABILITY\tNEEDED\tPLEDGED\tMISSING\tCONTINGENT\tUNIT\t")
	for _, x := range g.Requirements {
		r := &x.Requirement
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.ID, r.Capability, quantity(r.Quantity), quantity(x.Counted), quantity(x.Missing), quantity(x.Contingent), r.Unit)
	}
	tw.Flush()
	if len(g.AwaitingApproval) > 0 {
		fmt.Fprintln(w, "\nAwaiting approval:")
		for _, p := range g.AwaitingApproval {
			fmt.Fprintf(w, "  %s  %s %s %s %s, %s; needs %s\n", p.ID, p.Nation, quantity(p.Quantity), p.Unit, p.Capability, p.Stage, p.Approval)
		}
	}
	fmt.Fprintln(w, "\nPledges by nation and stage:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	stages := []truce.PledgeStage{truce.StageProposed, truce.StageAnnounced, truce.StageApproved, truce.StageReady, truce.StageDeployed, truce.StageDelivered}
	fmt.Fprint(tw, "  NATION")
	for _, st := range stages {
		fmt.Fprintf(tw, "\t%s", strings.ToUpper(string(st)))
	}
	fmt.Fprintln(tw, "\tCONTINGENT\tCAVEATS")
	for _, n := range g.Nations {
		fmt.Fprintf(tw, "  %s", n.Nation)
		for _, st := range stages {
			fmt.Fprintf(tw, "\t%d", n.Pledges[st])
		}
		fmt.Fprintf(tw, "\t%d\t%s\n", n.Contingent, strings.Join(n.Caveats, "; "))
	}
	tw.Flush()
}
