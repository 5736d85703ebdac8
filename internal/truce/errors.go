package truce

import (
	"errors"
	"fmt"
	"strings"
)

// Error sentinels. Classify errors with errors.Is; the HTTP edge maps each to
// one status code.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
)

// A ValidationError says which record and field of some input is wrong, and why.
// It matches ErrInvalid under errors.Is.
type ValidationError struct {
	// Where locates the input: a file name, "file:line", or a record index.
	Where string
	// Record names the record inside the input, for example "zones[3] (buffer)".
	Record string
	// Field is the field within the record, for example "distance_km".
	Field string
	// Reason says what is wrong, in lower case, without a trailing period.
	Reason string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.Where != "" {
		b.WriteString(e.Where)
		b.WriteString(": ")
	}
	switch {
	case e.Record != "" && e.Field != "":
		fmt.Fprintf(&b, "%s.%s: ", e.Record, e.Field)
	case e.Record != "":
		fmt.Fprintf(&b, "%s: ", e.Record)
	case e.Field != "":
		fmt.Fprintf(&b, "%s: ", e.Field)
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Problems is a list of validation errors found in one input, reported
// together so that a person can fix them all at once.
type Problems []*ValidationError

func (p Problems) Error() string {
	msgs := make([]string, len(p))
	for i, e := range p {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the individual errors, so errors.Is(p, ErrInvalid) and
// errors.As(p, **ValidationError) work.
func (p Problems) Unwrap() []error {
	errs := make([]error, len(p))
	for i, e := range p {
		errs[i] = e
	}
	return errs
}

// Err returns p as an error, or nil when p is empty.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return p
}
