// Package cli implements the truce command line: its subcommands, their
// flags and help. It is the only package that reads flags or the
// environment; it turns them into typed options for the packages below.
//
// Exit status: 0 on success, 1 when the work failed, 2 for bad usage or
// invalid input.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/truce-dev/truce/internal/version"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand, or a group of them.
type command struct {
	name    string
	args    string // synopsis of positional arguments
	summary string
	// flags declares the command's flags on fs and returns the function that
	// runs it with the positional arguments.
	flags func(fs *flag.FlagSet) func(ctx context.Context, io *stdio, args []string) error
	subs  []*command
}

type stdio struct {
	out, err io.Writer
}

// usageError is an error in how a command was called: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// invalidError wraps an error in the user's input: exit status 2.
type invalidError struct{ err error }

func (e invalidError) Error() string { return e.err.Error() }
func (e invalidError) Unwrap() error { return e.err }

func root() *command {
	return &command{
		name:    "truce",
		summary: "verify a ceasefire and coordinate the security guarantees around it",
		subs: []*command{
			demoCommand(),
			agreementCommand(),
			serveCommand(),
			reportCommand(),
			ingestCommand(),
			tokenCommand(),
			rebuildCommand(),
			verifyCommand(),
			logCommand(),
			pledgeCommand(),
			{name: "version", summary: "print the version of this build", flags: func(*flag.FlagSet) func(context.Context, *stdio, []string) error {
				return func(_ context.Context, s *stdio, args []string) error {
					if len(args) > 0 {
						return usagef("version takes no arguments")
					}
					fmt.Fprintln(s.out, version.String())
					return nil
				}
			}},
		},
	}
}

// Main runs the truce command line with args (without the program name)
// and returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s := &stdio{out: stdout, err: stderr}
	return dispatch(ctx, s, root(), nil, args)
}

func dispatch(ctx context.Context, s *stdio, cmd *command, path []string, args []string) int {
	path = append(path, cmd.name)
	if cmd.subs != nil {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			if len(args) > 1 && args[0] == "help" {
				return dispatch(ctx, s, cmd, path[:len(path)-1], append(args[1:], "--help"))
			}
			printGroupHelp(s.out, cmd, path)
			if len(args) == 0 {
				return exitUsage
			}
			return exitOK
		}
		for _, sub := range cmd.subs {
			if sub.name == args[0] {
				return dispatch(ctx, s, sub, path, args[1:])
			}
		}
		fmt.Fprintf(s.err, "%s: unknown command %q\n", strings.Join(path, " "), args[0])
		printGroupHelp(s.err, cmd, path)
		return exitUsage
	}
	fs := newFlagSet(path...)
	fs.SetOutput(s.err)
	run := cmd.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s", strings.Join(path, " "))
		if hasFlags(fs) {
			fmt.Fprint(fs.Output(), " [flags]")
		}
		fmt.Fprintf(fs.Output(), " %s\n\n%s\n", cmd.args, cmd.summary)
		if hasFlags(fs) {
			fmt.Fprintln(fs.Output(), "\nflags:")
			fs.PrintDefaults()
		}
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(s.out)
		fs.Usage()
		return exitOK
	}
	if err != nil {
		return exitUsage // the flag package has printed the problem and usage
	}
	err = run(ctx, s, pos)
	var ue usageError
	var ie invalidError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(s.err, "%s: %v\n", strings.Join(path, " "), err)
		fs.Usage()
		return exitUsage
	case errors.As(err, &ie):
		fmt.Fprintln(s.err, err)
		return exitUsage
	default:
		fmt.Fprintf(s.err, "%s: %v\n", strings.Join(path, " "), err)
		return exitFailure
	}
}

func newFlagSet(path ...string) *flag.FlagSet {
	return flag.NewFlagSet(strings.Join(path, " "), flag.ContinueOnError)
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseInterspersed parses flags wherever they appear among the positional
// arguments, so that `truce agreement zones FILE -o out.geojson` works.
// Arguments that parse as numbers (such as a negative longitude) are
// positional; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
		for len(args) > 0 && isNumber(args[0]) {
			pos = append(pos, args[0])
			args = args[1:]
		}
	}
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func printGroupHelp(w io.Writer, cmd *command, path []string) {
	fmt.Fprintf(w, "%s: %s\n\nusage: %s <command> [arguments]\n\ncommands:\n", strings.Join(path, " "), cmd.summary, strings.Join(path, " "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, sub := range cmd.subs {
		fmt.Fprintf(tw, "  %s\t%s\n", sub.name, sub.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's arguments and flags.\n", strings.Join(path, " "))
}
