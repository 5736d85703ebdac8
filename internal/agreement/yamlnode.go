package agreement

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/truce-dev/truce/internal/truce"
)

// reader walks a YAML node tree, collecting every problem it meets with the
// file, line, record and field it belongs to, instead of stopping at the first.
type reader struct {
	file  string
	probs truce.Problems
}

func (r *reader) add(n *yaml.Node, record, field, format string, args ...any) {
	where := r.file
	if n != nil && n.Line > 0 {
		where = fmt.Sprintf("%s:%d", r.file, n.Line)
	}
	r.probs = append(r.probs, &truce.ValidationError{Where: where, Record: record, Field: field, Reason: fmt.Sprintf(format, args...)})
}

// fields returns the members of a mapping node by key, reporting unknown and
// repeated keys. A nil node is an empty mapping.
func (r *reader) fields(n *yaml.Node, record string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n == nil {
		return out
	}
	if n.Kind != yaml.MappingNode {
		r.add(n, record, "", "must be a mapping of field: value, not %s", describe(n))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(allowed, k.Value):
			r.add(k, record, k.Value, "unknown field (want one of %s)", strings.Join(allowed, ", "))
		case out[k.Value] != nil:
			r.add(k, record, k.Value, "given more than once")
		case v.Kind == yaml.AliasNode:
			r.add(v, record, k.Value, "YAML aliases are not supported")
		default:
			out[k.Value] = v
		}
	}
	return out
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%q", n.Value)
}

func isNull(n *yaml.Node) bool { return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") }

func (r *reader) str(n *yaml.Node, record, field string, required bool) string {
	if isNull(n) {
		if required {
			r.add(n, record, field, "is required")
		}
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		r.add(n, record, field, "must be text, not %s", describe(n))
		return ""
	}
	return n.Value
}

func (r *reader) number(n *yaml.Node, record, field string) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		r.add(n, record, field, "must be a number, not %s", describe(n))
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || v != v || v > 1e300 || v < -1e300 {
		r.add(n, record, field, "must be a finite number, not %q", n.Value)
		return 0, false
	}
	return v, true
}

func (r *reader) integer(n *yaml.Node, record, field string) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		r.add(n, record, field, "must be a whole number, not %s", describe(n))
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		r.add(n, record, field, "must be a whole number, not %q", n.Value)
		return 0, false
	}
	return v, true
}

func (r *reader) list(n *yaml.Node, record, field string) []*yaml.Node {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		r.add(n, record, field, "must be a list, not %s", describe(n))
		return nil
	}
	for _, c := range n.Content {
		if c.Kind == yaml.AliasNode {
			r.add(c, record, field, "YAML aliases are not supported")
			return nil
		}
	}
	return n.Content
}

func (r *reader) time(n *yaml.Node, record, field string, required bool) time.Time {
	s := r.str(n, record, field, required)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		r.add(n, record, field, "must be an RFC 3339 time such as 2026-12-01T00:00:00Z, not %q", s)
	}
	return t.UTC()
}
