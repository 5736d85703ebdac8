package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"text/tabwriter"
	"time"

	"github.com/truce-dev/truce/internal/auth"
	"github.com/truce-dev/truce/internal/pledge"
	"github.com/truce-dev/truce/internal/server"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/store/sqlite"
	"github.com/truce-dev/truce/internal/truce"
)

const defaultDB = "truce.db"

func serveCommand() *command {
	return &command{name: "serve", summary: "serve the HTTP API and the live stream over a journal", flags: serve}
}

func serve(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
	db := fs.String("db", defaultDB, "SQLite `file` holding the journal and projections (made if missing)")
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address` (host:port; port 0 picks a free one)")
	agr := fs.String("agreement", "", "agreement `file`: reports are fused into incidents, judged against it and escalated by sector (the incidents, violations and sectors routes), and party claims must name its parties")
	origin := fs.String("origin", "", "`name` of the evidence log in its checkpoints and signing key, made on first start beside the database (default: the existing key's, else truce.local/<agreement id>)")
	cotAddr := fs.String("cot-addr", "", "TAK/Cursor-on-Target `address` (host:port, TCP and UDP; CoT XML and TAK protocol 1): friendly units' positions become tracks; clients receive the line, zones, incidents and track alerts (needs --agreement and --cot-nation)")
	cotNation := fs.String("cot-nation", "", "the `nation` (organisation id, such as GBR) whose units the TAK clients at --cot-addr report")
	markers := map[string]truce.Category{}
	fs.Func("cot-marker", "`TYPE=CATEGORY`: TAK markers of CoT type TYPE (and the types below it) become observations of that category, seen by the --cot-nation (repeatable; for example b-r-f-h-c=explosion)", func(v string) error {
		typ, cat, err := server.ParseMarker(v)
		if err != nil {
			return err
		}
		markers[typ] = cat
		return nil
	})
	ackWithin := fs.Duration("ack-within", pledge.DefaultAckWithin, "how long a nation has to acknowledge the activation of its contingent pledge before it is overdue (`duration`, such as 12h)")
	maxBody := fs.Int64("max-body", 16<<20, "largest request body accepted, in `bytes`")
	logLevel := fs.String("log", "info", "log `level`: debug, info, warn or error")
	return func(ctx context.Context, s *stdio, args []string) error {
		if len(args) > 0 {
			return usagef("serve takes no arguments")
		}
		var level slog.Level
		if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
			return usagef("--log: %v", err)
		}
		if *agr != "" {
			if _, err := loadAgreement(*agr); err != nil {
				return err
			}
		}
		if *ackWithin <= 0 {
			return usagef("--ack-within must be positive")
		}
		if *cotAddr != "" && (*agr == "" || *cotNation == "") {
			return usagef("--cot-addr needs --agreement and --cot-nation")
		}
		if *cotNation != "" && !truce.ValidOrgID(*cotNation) {
			return usagef("--cot-nation: %q is not an organisation id", *cotNation)
		}
		log := slog.New(slog.NewTextHandler(s.err, &slog.HandlerOptions{Level: level}))
		return server.Run(ctx, server.Options{
			DB:           *db,
			Addr:         *addr,
			Agreement:    *agr,
			Origin:       *origin,
			MaxBodyBytes: *maxBody,
			CoTAddr:      *cotAddr,
			CoTNation:    truce.NationID(*cotNation),
			CoTMarkers:   markers,
			AckWithin:    *ackWithin,
			Out:          s.out,
			Logger:       log,
			Listening: func(a net.Addr) {
				fmt.Fprintf(s.err, "truce serve: listening on http://%s\n", a)
			},
		})
	}
}

// openStore opens the SQLite store at path for a command that runs and
// exits. It refuses to make a new database: a mistyped path must not
// silently start an empty journal.
func openStore(ctx context.Context, path string, mayCreate bool) (*sqlite.DB, error) {
	if !mayCreate {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, invalidError{fmt.Errorf("%s: no such database (truce serve --db %s makes one)", path, path)}
		}
	}
	return sqlite.Open(ctx, path, sqlite.Options{Now: time.Now})
}

func tokenCommand() *command {
	return &command{
		name:    "token",
		summary: "make and list API bearer tokens",
		subs: []*command{
			{name: "create", summary: "make a token for an organisation and role; the secret is the last line printed", flags: tokenCreate},
			{name: "list", summary: "list the tokens of a database (never their secrets)", flags: tokenList},
		},
	}
}

func tokenCreate(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
	db := fs.String("db", defaultDB, "SQLite `file` of the journal")
	org := fs.String("org", "", "`organisation`: coalition, public, a party (UA, RU) or a nation (GBR, FRA, ...)")
	kind := fs.String("kind", "", "organisation `kind`: coalition, nation, party or public (default: coalition for \"coalition\", public for \"public\", else what earlier tokens of the organisation say)")
	role := fs.String("role", "", "`role`: admin, analyst, commissioner, monitor, sensor, liaison, planner or viewer")
	label := fs.String("label", "", "a `note` saying who or what holds the token")
	return func(ctx context.Context, s *stdio, args []string) error {
		if len(args) > 0 {
			return usagef("token create takes no arguments")
		}
		if *org == "" || *role == "" {
			return usagef("--org and --role are required")
		}
		st, err := openStore(ctx, *db, false)
		if err != nil {
			return err
		}
		defer st.Close()
		k, err := orgKind(ctx, st, truce.OrgID(*org), *kind)
		if err != nil {
			return err
		}
		secret, tok, err := auth.New(rand.Reader, truce.OrgID(*org), k, truce.Role(*role), *label, time.Now())
		if err != nil {
			return invalidError{err}
		}
		if err := server.CreateToken(ctx, st, tok); err != nil {
			return err
		}
		if err := st.Close(); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "token %s: organisation %s (%s), role %s\n", tok.ID, tok.Org, tok.Kind, tok.Role)
		fmt.Fprintln(s.out, "The secret below is shown once; truce keeps only its hash.")
		fmt.Fprintln(s.out, secret)
		return nil
	}
}

// orgKind decides the kind of org: the flag, else what the organisation's
// earlier tokens say, else the built-in organisations' kinds.
func orgKind(ctx context.Context, st store.Store, org truce.OrgID, flagKind string) (truce.OrgKind, error) {
	toks, err := st.Tokens(ctx)
	if err != nil {
		return "", err
	}
	var known truce.OrgKind
	for _, t := range toks {
		if t.Org == org {
			known = t.Kind
		}
	}
	if flagKind != "" {
		k, err := truce.ParseOrgKind(flagKind)
		if err != nil {
			return "", invalidError{fmt.Errorf("--kind: %w", err)}
		}
		if known != "" && k != known {
			return "", invalidError{fmt.Errorf("--kind %s: organisation %s is already a %s", k, org, known)}
		}
		return k, nil
	}
	switch {
	case known != "":
		return known, nil
	case org == "coalition":
		return truce.OrgCoalition, nil
	case org == "public":
		return truce.OrgPublic, nil
	}
	return "", usagef("organisation %s is new: say what kind it is with --kind (coalition, nation, party or public)", org)
}

func tokenList(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
	db := fs.String("db", defaultDB, "SQLite `file` of the journal")
	return func(ctx context.Context, s *stdio, args []string) error {
		if len(args) > 0 {
			return usagef("token list takes no arguments")
		}
		st, err := openStore(ctx, *db, false)
		if err != nil {
			return err
		}
		defer st.Close()
		toks, err := st.Tokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tORGANISATION\tKIND\tROLE\tCREATED\tLABEL")
		for _, t := range toks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Org, t.Kind, t.Role, t.Created.UTC().Format(time.RFC3339), t.Label)
		}
		return tw.Flush()
	}
}

func rebuildCommand() *command {
	return &command{name: "rebuild", summary: "recompute every projection from the journal (or, with --check, prove they match it)", flags: rebuild}
}

func rebuild(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
	db := fs.String("db", defaultDB, "SQLite `file` of the journal")
	check := fs.Bool("check", false, "compare the projections with a rebuild aside, change nothing, and fail if they differ")
	return func(ctx context.Context, s *stdio, args []string) error {
		if len(args) > 0 {
			return usagef("rebuild takes no arguments")
		}
		st, err := openStore(ctx, *db, false)
		if err != nil {
			return err
		}
		defer st.Close()
		head, err := st.Head(ctx)
		if err != nil {
			return err
		}
		start := time.Now()
		if *check {
			if err := st.VerifyProjections(ctx); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "projections match the journal (%s entries, checked in %s)\n", thousands(float64(head), 0), time.Since(start).Round(time.Millisecond))
			return nil
		}
		if err := st.Rebuild(ctx); err != nil {
			return err
		}
		if err := st.Close(); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "rebuilt the projections from %s journal entries in %s\n", thousands(float64(head), 0), time.Since(start).Round(time.Millisecond))
		return nil
	}
}
