package pledge

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/truce-dev/truce/internal/truce"
)

// Limits of one CSV file of `truce pledge import`.
const (
	MaxCSVBytes = 10 << 20 // 10 MiB
	MaxCSVRows  = 100_000  // rows after the header
)

// The columns of each file; the required ones come first.
var (
	pledgeColumns = []string{
		"id", "nation", "capability", "quantity", "unit", "stage", "stage_date",
		"stage_by", "stage_reference", "requirement", "contingent", "trigger", "approval",
		"caveat", "caveat_domains", "caveat_within", "marking", "note",
	}
	pledgeRequired = pledgeColumns[:7]

	requirementColumns  = []string{"id", "capability", "quantity", "unit", "domain", "where", "from", "note", "marking"}
	requirementRequired = requirementColumns[:4]

	supportColumns  = []string{"id", "donor", "type", "item", "value_eur", "announced", "stage", "delivered_eur", "source", "marking"}
	supportRequired = supportColumns[:7]
)

// PledgeRow is one row of pledges.csv: the stage change on that row and the
// pledge as it stands after it. Rows that share an id are successive
// changes of one pledge, in file order; on a later row an empty optional
// cell keeps the value the pledge had, and the pledge's History holds every
// change up to and including the row's.
type PledgeRow struct {
	Line   int // the row's first line in the file
	Pledge truce.Pledge
	Change truce.StageChange
}

// DecodePledges reads pledges.csv from r; file names it in errors. Every
// bad row is reported, each error naming the file line, the record (such
// as "pledge gbr-land-1") and the field, in a truce.Problems returned with
// the rows that decoded well (none when the header is bad); any other
// error is a read error, returned with no rows. Stage order is not checked
// here: the Book does that when the rows are imported.
//
// Columns, in any order after a header row: id, nation, capability,
// quantity, unit, stage and stage_date (required on every row); stage_by,
// stage_reference, requirement, contingent (yes/no, default no), trigger
// (default renewed_aggression for a contingent pledge), approval, caveat,
// caveat_domains (';'-separated), caveat_within, marking (a TLP label,
// default AMBER) and note. Later rows of a pledge must agree with its first
// on nation, capability and unit; they may change the quantity.
func DecodePledges(r io.Reader, file string) ([]PledgeRow, error) {
	type first struct {
		line int
		pl   truce.Pledge // as of the pledge's last good row
	}
	var out []PledgeRow
	seen := map[string]*first{}
	err := decodeCSV(r, file, "pledge", pledgeColumns, pledgeRequired, func(row *csvRow) {
		id := row.id("id", true)
		prev := seen[id]
		var pl truce.Pledge
		if prev != nil {
			pl = prev.pl
		} else {
			pl.Marking = truce.Marking{TLP: truce.TLPAmber}
		}
		pl.ID = id

		pl.Nation = truce.NationID(row.pattern("nation", true, nationPattern, "an ISO 3166 alpha-3 code in upper case, such as GBR"))
		pl.Capability = parseCell(row, "capability", true, truce.ParseCapability)
		pl.Quantity, _ = row.number("quantity", true, true)
		pl.Unit = row.text("unit", 40, false)
		if row.cell("unit") == "" {
			row.required("unit")
		}
		if prev != nil {
			for _, f := range []struct{ col, got, want string }{
				{"nation", string(pl.Nation), string(prev.pl.Nation)},
				{"capability", string(pl.Capability), string(prev.pl.Capability)},
				{"unit", pl.Unit, prev.pl.Unit},
			} {
				if f.got != "" && f.got != f.want {
					row.fail(f.col, "is %s, but %s on line %d, where pledge %s begins", f.got, f.want, prev.line, id)
				}
			}
		}

		var change truce.StageChange
		change.Stage = parseCell(row, "stage", true, truce.ParsePledgeStage)
		change.Date = row.date("stage_date", true)
		change.By = row.text("stage_by", 200, false)
		change.Reference = row.text("stage_reference", 500, false)

		if req := row.id("requirement", false); req != "" {
			pl.Requirement = req
		}
		if c := row.cell("contingent"); c != "" {
			switch strings.ToLower(c) {
			case "yes", "true":
				pl.Contingent = true
			case "no", "false":
				pl.Contingent = false
				pl.Trigger = ""
			default:
				row.fail("contingent", "want yes or no, not %q", c)
			}
		}
		if tr := row.pattern("trigger", false, regionPattern, "a trigger name: lower-case letters, digits and '_'"); tr != "" {
			if pl.Contingent {
				pl.Trigger = tr
			} else {
				row.fail("trigger", "is for contingent pledges only: set contingent to yes, or leave trigger empty")
			}
		}
		if pl.Contingent && pl.Trigger == "" {
			pl.Trigger = truce.RenewedAggression
		}
		if a := row.text("approval", 200, false); a != "" {
			pl.Approval = a
		}
		if c := row.text("caveat", maxText, true); c != "" {
			pl.Caveat.Text = c
		}
		if ds := row.domains("caveat_domains"); ds != nil {
			pl.Caveat.Domains = ds
		}
		if w := row.pattern("caveat_within", false, regionPattern, "a region name: lower-case letters, digits and '_'"); w != "" {
			pl.Caveat.Within = w
		}
		if m, ok := row.marking(); ok {
			pl.Marking = m
		}
		if n := row.text("note", maxText, true); n != "" {
			pl.Note = n
		}
		if row.bad {
			return
		}

		pl.Stage = change.Stage
		hist := make([]truce.StageChange, len(pl.History)+1)
		copy(hist, pl.History)
		hist[len(hist)-1] = change
		pl.History = hist
		row.check(ValidatePledge(&pl))
		if row.bad {
			return
		}
		if prev == nil {
			seen[id] = &first{line: row.line, pl: pl}
		} else {
			prev.pl = pl
		}
		out = append(out, PledgeRow{Line: row.line, Pledge: pl, Change: change})
	})
	return decoded(out, err)
}

// DecodeRequirements reads requirements.csv from r, reporting errors as
// DecodePledges does. Columns: id, capability, quantity and unit
// (required); domain, where (a region name), from (a date), note and
// marking (default AMBER).
func DecodeRequirements(r io.Reader, file string) ([]truce.Requirement, error) {
	var out []truce.Requirement
	lines := map[string]int{}
	err := decodeCSV(r, file, "requirement", requirementColumns, requirementRequired, func(row *csvRow) {
		q := truce.Requirement{Marking: truce.Marking{TLP: truce.TLPAmber}}
		q.ID = row.id("id", true)
		row.unique(lines, q.ID)
		q.Capability = parseCell(row, "capability", true, truce.ParseCapability)
		q.Quantity, _ = row.number("quantity", true, true)
		q.Unit = row.text("unit", 40, false)
		if row.cell("unit") == "" {
			row.required("unit")
		}
		q.Domain = parseCell(row, "domain", false, truce.ParseDomain)
		q.Where = row.pattern("where", false, regionPattern, "a region name: lower-case letters, digits and '_'")
		q.From = row.date("from", false)
		q.Note = row.text("note", maxText, true)
		if m, ok := row.marking(); ok {
			q.Marking = m
		}
		if !row.bad {
			row.check(ValidateRequirement(&q))
		}
		if !row.bad {
			out = append(out, q)
		}
	})
	return decoded(out, err)
}

// DecodeSupport reads support.csv, in the shape of the Kiel Institute's
// Ukraine Support Tracker, from r, reporting errors as DecodePledges does.
// Columns: id, donor (an ISO 3166 alpha-3 code or an organisation such as
// EU), type, item, value_eur, announced (a date) and stage (required);
// delivered_eur, source and marking (default CLEAR: the tracker is public).
func DecodeSupport(r io.Reader, file string) ([]truce.Support, error) {
	var out []truce.Support
	lines := map[string]int{}
	err := decodeCSV(r, file, "support", supportColumns, supportRequired, func(row *csvRow) {
		s := truce.Support{Marking: truce.Marking{TLP: truce.TLPClear}}
		s.ID = row.id("id", true)
		row.unique(lines, s.ID)
		s.Donor = truce.NationID(row.pattern("donor", true, donorPattern, "a donor code: an ISO 3166 alpha-3 code such as DEU, or an organisation such as EU"))
		s.Type = parseCell(row, "type", true, truce.ParseSupportType)
		s.Item = row.text("item", 500, true)
		if row.cell("item") == "" {
			row.required("item")
		}
		var valueOK, deliveredOK bool
		s.ValueEUR, valueOK = row.number("value_eur", true, false)
		s.Announced = row.date("announced", true)
		s.Stage = parseCell(row, "stage", true, truce.ParseSupportStage)
		s.DeliveredEUR, deliveredOK = row.number("delivered_eur", false, false)
		if valueOK && deliveredOK && s.DeliveredEUR > s.ValueEUR {
			row.fail("delivered_eur", "%s is more than value_eur, %s", row.cell("delivered_eur"), row.cell("value_eur"))
		}
		s.Source = row.text("source", maxText, false)
		if m, ok := row.marking(); ok {
			s.Marking = m
		}
		if !row.bad {
			row.check(ValidateSupport(&s))
		}
		if !row.bad {
			out = append(out, s)
		}
	})
	return decoded(out, err)
}

// decoded returns what a decoder found: the records that decoded well
// with the problems of the others, or a read error alone.
func decoded[T any](out []T, err error) ([]T, error) {
	var probs truce.Problems
	if err != nil && !errors.As(err, &probs) {
		return nil, err
	}
	return out, err
}

// csvRow is one data row being decoded.
type csvRow struct {
	file   string
	line   int
	record string // "pledge gbr-land-1", or the kind alone while the id is unknown or bad
	index  map[string]int
	cells  []string
	probs  *truce.Problems
	bad    bool
}

func (r *csvRow) fail(field, format string, args ...any) {
	r.bad = true
	*r.probs = append(*r.probs, &truce.ValidationError{
		Where: fmt.Sprintf("%s:%d", r.file, r.line), Record: r.record, Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (r *csvRow) required(col string) { r.fail(col, "is required") }

// check reports the problems of a Validate function, named by column.
func (r *csvRow) check(err error) {
	var probs truce.Problems
	if !errors.As(err, &probs) {
		if err != nil {
			r.fail("", "%v", err)
		}
		return
	}
	for _, p := range probs {
		field := p.Field
		switch field {
		case "caveat.text":
			field = "caveat"
		case "caveat.domains", "caveat.within":
			field = strings.Replace(field, ".", "_", 1)
		}
		r.fail(field, "%s", p.Reason)
	}
}

// cell returns the trimmed content of column col, "" when the file has no
// such column.
func (r *csvRow) cell(col string) string {
	i, ok := r.index[col]
	if !ok {
		return ""
	}
	return strings.TrimSpace(r.cells[i])
}

func (r *csvRow) id(col string, required bool) string {
	s := r.cell(col)
	switch {
	case s == "":
		if required {
			r.required(col)
		}
	case !idPattern.MatchString(s):
		r.fail(col, "%q is not an id: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", s)
		return ""
	}
	return s
}

// unique reports id when an earlier row had it, and remembers its line.
func (r *csvRow) unique(lines map[string]int, id string) {
	if id == "" {
		return
	}
	if l, dup := lines[id]; dup {
		r.fail("id", "%s is already the id of line %d", id, l)
		return
	}
	lines[id] = r.line
}

// pattern returns the cell of col if it matches p; what describes a match.
func (r *csvRow) pattern(col string, required bool, p *regexp.Regexp, what string) string {
	s := r.cell(col)
	switch {
	case s == "":
		if required {
			r.required(col)
		}
	case !p.MatchString(s):
		r.fail(col, "%q is not %s", s, what)
		return ""
	}
	return s
}

// parseCell parses the cell of col with parse.
func parseCell[T ~string](r *csvRow, col string, required bool, parse func(string) (T, error)) T {
	s := r.cell(col)
	if s == "" {
		if required {
			r.required(col)
		}
		return ""
	}
	v, err := parse(s)
	if err != nil {
		r.fail(col, "%v", err)
	}
	return v
}

// number parses a number, at most 1e15: above 0 when positive, else at
// least 0. ok is false when the cell is empty or bad.
func (r *csvRow) number(col string, required, positive bool) (x float64, ok bool) {
	s := r.cell(col)
	if s == "" {
		if required {
			r.required(col)
		}
		return 0, false
	}
	x, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange), math.IsNaN(x), err == nil && math.IsInf(x, 0):
		r.fail(col, "want a number such as 12 or 2.5, not %q", s)
	case positive && !(x > 0):
		r.fail(col, "must be above 0, not %s", s)
	case !positive && x < 0:
		r.fail(col, "must not be negative, not %s", s)
	case x > 1e15:
		r.fail(col, "%s is more than 1e15, the limit", s)
	default:
		return x, true
	}
	return 0, false
}

// date parses a date (midnight UTC) or an RFC 3339 time.
func (r *csvRow) date(col string, required bool) time.Time {
	s := r.cell(col)
	if s == "" {
		if required {
			r.required(col)
		}
		return time.Time{}
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		r.fail(col, "want a date such as 2025-09-04 or an RFC 3339 time such as 2025-09-04T10:00:00Z, not %q", s)
		return time.Time{}
	}
	return t.UTC()
}

// text returns free text of at most limit bytes: valid UTF-8 without
// control characters, except line feeds and tabs when multiline.
func (r *csvRow) text(col string, limit int, multiline bool) string {
	s := r.cell(col)
	switch {
	case !utf8.ValidString(s):
		r.fail(col, "is not valid UTF-8")
		return ""
	case len(s) > limit:
		r.fail(col, "is %d bytes long, more than %d", len(s), limit)
		return ""
	}
	for _, c := range s {
		if unicode.IsControl(c) && !(multiline && (c == '\n' || c == '\t')) {
			r.fail(col, "holds the control character %U", c)
			return ""
		}
	}
	return s
}

// domains parses a ';'-separated list of domains; nil when the cell is
// empty.
func (r *csvRow) domains(col string) []truce.Domain {
	s := r.cell(col)
	if s == "" {
		return nil
	}
	var ds []truce.Domain
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := truce.ParseDomain(part)
		switch {
		case err != nil:
			r.fail(col, "%v", err)
			return nil
		case slices.Contains(ds, d):
			r.fail(col, "names %s twice", d)
			return nil
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		r.fail(col, "%q names no domain", s)
	}
	return ds
}

// marking returns the TLP label of the marking column; ok is false when
// the cell is empty or bad.
func (r *csvRow) marking() (m truce.Marking, ok bool) {
	s := r.cell("marking")
	if s == "" {
		return m, false
	}
	l, err := truce.ParseTLP(s)
	if err != nil {
		r.fail("marking", "%v", err)
		return m, false
	}
	return truce.Marking{TLP: l}, true
}

// decodeCSV reads a CSV file of kind's records: a header row naming
// columns of cols (all of required among them), then one record a row,
// each passed to each. It returns the problems found, or a read error.
func decodeCSV(r io.Reader, file, kind string, cols, required []string, each func(*csvRow)) error {
	data, err := io.ReadAll(io.LimitReader(r, MaxCSVBytes+1))
	if err != nil {
		return fmt.Errorf("pledge: read %s: %w", file, err)
	}
	if len(data) > MaxCSVBytes {
		return truce.Problems{{Where: file, Reason: fmt.Sprintf("is larger than %d MiB, the limit", MaxCSVBytes>>20)}}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	at := func(line int) string { return fmt.Sprintf("%s:%d", file, line) }

	header, err := cr.Read()
	if err == io.EOF {
		return truce.Problems{{Where: file, Reason: "is empty: want a header row naming the columns (" + strings.Join(cols, ",") + ")"}}
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return truce.Problems{{Where: at(pe.StartLine), Record: "header", Reason: "is not valid CSV: " + pe.Err.Error()}}
		}
		return fmt.Errorf("pledge: read %s: %w", file, err)
	}
	headerLine, _ := cr.FieldPos(0)
	var probs truce.Problems
	headerProblem := func(format string, args ...any) {
		probs = append(probs, &truce.ValidationError{Where: at(headerLine), Record: "header", Reason: fmt.Sprintf(format, args...)})
	}
	index := map[string]int{}
	var unknown []string
	for i, name := range header {
		name = strings.TrimSpace(name)
		if !slices.Contains(cols, name) {
			unknown = append(unknown, strconv.Quote(name))
			continue
		}
		if _, dup := index[name]; dup {
			headerProblem("column %q appears twice", name)
			continue
		}
		index[name] = i
	}
	switch len(unknown) {
	case 0:
	case 1:
		headerProblem("unknown column %s (the columns are %s)", unknown[0], strings.Join(cols, ", "))
	default:
		headerProblem("unknown columns %s (the columns are %s)", strings.Join(unknown, ", "), strings.Join(cols, ", "))
	}
	var missing []string
	for _, c := range required {
		if _, ok := index[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		headerProblem("missing the required %s %s", plural(len(missing), "column", "columns"), strings.Join(missing, ", "))
	}
	if len(probs) > 0 {
		return probs
	}

	for rows := 1; ; rows++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if rows > MaxCSVRows {
			line, _ := cr.FieldPos(0)
			probs = append(probs, &truce.ValidationError{Where: at(line), Reason: fmt.Sprintf("more than %d rows, the limit; reading stopped here", MaxCSVRows)})
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("pledge: read %s: %w", file, err)
			}
			probs = append(probs, &truce.ValidationError{Where: at(pe.StartLine), Reason: "not valid CSV: " + pe.Err.Error()})
			continue
		}
		line, _ := cr.FieldPos(0)
		if !slices.ContainsFunc(rec, func(c string) bool { return strings.TrimSpace(c) != "" }) {
			continue // a blank row, as spreadsheets write
		}
		row := &csvRow{file: file, line: line, record: kind, index: index, cells: rec, probs: &probs}
		if len(rec) != len(header) {
			row.fail("", "has %d cells, want %d as in the header", len(rec), len(header))
			continue
		}
		if id := row.cell("id"); idPattern.MatchString(id) {
			row.record = kind + " " + id
		}
		each(row)
	}
	return probs.Err()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
