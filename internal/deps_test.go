package internal

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/truce-dev/truce/"

// policy is the allowed import graph: for each package of the module, the
// module packages and third-party modules it may import (the standard
// library is always allowed). It is a statement of policy, in the manner of
// the Go standard library's go/build deps test: the vocabulary (truce) and
// geometry (geo) sit at the bottom, the command line at the top, and a
// change to this map is a change to the architecture, to be argued in
// docs/architecture.md. A trailing "/..." allows a module's packages.
var policy = map[string][]string{
	"cmd/truce":                {"internal/cli"},
	"internal/cli":             {"examples/coalition", "examples/donbas", "internal/agreement", "internal/api", "internal/auth", "internal/engine", "internal/evidence", "internal/geo", "internal/ingest", "internal/journal", "internal/pledge", "internal/report", "internal/server", "internal/sim", "internal/store", "internal/store/sqlite", "internal/truce", "internal/version", "golang.org/x/mod/sumdb/note", "golang.org/x/mod/sumdb/tlog"},
	"internal/agreement":       {"internal/geo", "internal/geoindex", "internal/truce", "go.yaml.in/yaml/v3"},
	"internal/geoindex":        {"internal/geo"},
	"internal/truce":           {"internal/geo"},
	"internal/geo":             {"github.com/golang/geo/...", "github.com/peterstace/simplefeatures/geom"},
	"internal/version":         {},
	"internal/api":             {"internal/geo", "internal/pledge", "internal/truce"},
	"internal/auth":            {"internal/truce"},
	"internal/journal":         {"internal/feed", "internal/geo", "internal/truce", "github.com/goccy/go-json"},
	"internal/feed":            {},
	"internal/ingest":          {"internal/api", "internal/geo", "internal/truce", "github.com/goccy/go-json"},
	"internal/store":           {"internal/geo", "internal/journal", "internal/truce", "golang.org/x/mod/sumdb/tlog"},
	"internal/store/sqlite":    {"internal/evidence", "internal/geo", "internal/journal", "internal/store", "internal/truce", "golang.org/x/mod/sumdb/tlog", "modernc.org/sqlite"},
	"internal/store/storetest": {"internal/auth", "internal/geo", "internal/journal", "internal/store", "internal/truce", "golang.org/x/mod/sumdb/tlog"},
	"internal/httpapi":         {"internal/api", "internal/auth", "internal/deconflict", "internal/pledge", "internal/engine", "internal/evidence", "internal/feed", "internal/geo", "internal/ingest", "internal/journal", "internal/store", "internal/truce", "github.com/prometheus/client_golang/...", "github.com/goccy/go-json", "golang.org/x/mod/sumdb/tlog"},
	"internal/fuse":            {"internal/geo", "internal/truce", "github.com/golang/geo/r3"},
	"internal/assess":          {"internal/agreement", "internal/geo", "internal/truce", "github.com/golang/geo/r3"},
	"internal/engine":          {"internal/agreement", "internal/assess", "internal/feed", "internal/fuse", "internal/geo", "internal/journal", "internal/store", "internal/truce"},
	"internal/cot":             {"google.golang.org/protobuf/encoding/protowire"},
	"internal/deconflict":      {"internal/agreement", "internal/geo", "internal/truce"},
	"internal/pledge":          {"internal/truce"},
	"internal/sim":             {"internal/agreement", "internal/geo", "internal/truce"},
	"internal/report":          {"internal/agreement", "internal/engine", "internal/geo", "internal/pledge", "internal/truce"},
	"internal/evidence":        {"golang.org/x/mod/sumdb/..."},
	"examples/donbas":          {},
	"examples/coalition":       {},
	"internal/server":          {"internal/agreement", "internal/api", "internal/auth", "internal/cot", "internal/deconflict", "internal/pledge", "internal/engine", "internal/evidence", "internal/geo", "internal/httpapi", "internal/ingest", "internal/journal", "internal/store", "internal/store/sqlite", "internal/truce", "github.com/prometheus/client_golang/..."},
	"internal":                 {}, // this test
}

func TestImportGraph(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", module+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		seen[pkg] = true
		allowed, ok := policy[pkg]
		if !ok {
			t.Errorf("package %s is not in the import policy: add it to policy in internal/deps_test.go and describe it in docs/architecture.md", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if !strings.Contains(strings.Split(imp, "/")[0], ".") {
				continue // standard library
			}
			dep := strings.TrimPrefix(imp, module)
			if !slices.ContainsFunc(allowed, func(a string) bool {
				return a == dep || strings.HasSuffix(a, "/...") && strings.HasPrefix(dep, strings.TrimSuffix(a, "..."))
			}) {
				t.Errorf("%s imports %s, which the policy does not allow", pkg, dep)
			}
		}
	}
	for pkg := range policy {
		if !seen[pkg] {
			t.Errorf("policy names %s, which no longer exists", pkg)
		}
	}
}
