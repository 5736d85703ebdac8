package agreement

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// Limits on what an agreement may hold, so that hostile input cannot
// exhaust memory or time.
const (
	maxYAMLBytes    = 4 << 20
	maxGeoJSONBytes = 256 << 20
	maxDistanceKm   = 500
	maxRadiusKm     = 100
)

var (
	agreementIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	partyIDPattern     = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,15}$`)
	zoneIDPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
)

// Load reads the agreement file at path and the GeoJSON files it names,
// which are resolved relative to its directory. Every problem found is
// reported in one truce.Problems error.
func Load(file string) (*truce.Agreement, error) {
	dir, name := filepath.Split(file)
	if dir == "" {
		dir = "."
	}
	return LoadFS(os.DirFS(dir), name)
}

// LoadFS is Load over a file system; name and the files it names are paths
// inside fsys.
func LoadFS(fsys fs.FS, name string) (*truce.Agreement, error) {
	l := &loader{reader: reader{file: name}, fsys: fsys, dir: path.Dir(name), files: map[string]*geoFile{}}
	data, err := readLimited(fsys, name, maxYAMLBytes)
	if err != nil {
		return nil, truce.Problems{{Where: name, Reason: err.Error()}}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		reason := strings.TrimPrefix(err.Error(), "yaml: ")
		if errors.Is(err, io.EOF) {
			reason = "file is empty"
		}
		return nil, truce.Problems{{Where: name, Reason: "unreadable YAML: " + reason}}
	}
	if len(doc.Content) != 1 {
		return nil, truce.Problems{{Where: name, Reason: "no YAML document"}}
	}
	a := l.agreement(doc.Content[0])
	if err := l.probs.Err(); err != nil {
		return nil, err
	}
	return a, nil
}

func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot open: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %v", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d MiB", limit>>20)
	}
	return data, nil
}

type geoFile struct {
	features []geo.Feature
	ok       bool
}

type loader struct {
	reader
	fsys  fs.FS
	dir   string
	files map[string]*geoFile
}

func (l *loader) agreement(root *yaml.Node) *truce.Agreement {
	const rec = "agreement"
	f := l.fields(root, rec, "id", "title", "version", "notice", "effective", "parties", "line", "zones", "sectors", "escalation", "coalition")
	a := &truce.Agreement{}
	if a.ID = l.str(f["id"], rec, "id", true); a.ID != "" && !agreementIDPattern.MatchString(a.ID) {
		l.add(f["id"], rec, "id", "%q must be lower-case letters, digits, '.', '_' or '-', at most 64", a.ID)
	}
	a.Title = l.str(f["title"], rec, "title", false)
	a.Notice = l.str(f["notice"], rec, "notice", false)
	if n := f["version"]; isNull(n) {
		l.add(root, rec, "version", "is required")
	} else if v, ok := l.integer(n, rec, "version"); ok {
		if v < 1 {
			l.add(n, rec, "version", "must be 1 or more, not %d", v)
		}
		a.Version = v
	}
	a.Effective = l.effective(root, f["effective"])
	a.Parties = l.parties(root, f["parties"])
	a.Line, a.LineDerived = l.line(root, f["line"], a.Parties)
	a.Zones = l.zones(f["zones"], a.Parties)
	a.Sectors = l.sectors(f["sectors"], a.Line)
	a.Escalation = l.escalation(f["escalation"], len(a.Sectors))
	a.Coalition = l.coalition(f["coalition"])
	if len(l.probs) == 0 {
		l.crossChecks(a)
	}
	return a
}

func (l *loader) effective(root, n *yaml.Node) truce.TimeRange {
	const rec = "effective"
	if isNull(n) {
		l.add(root, "agreement", "effective", "is required (with at least from:)")
		return truce.TimeRange{}
	}
	f := l.fields(n, rec, "from", "until")
	r := truce.TimeRange{From: l.time(f["from"], rec, "from", true), Until: l.time(f["until"], rec, "until", false)}
	if !r.From.IsZero() && !r.Until.IsZero() && !r.Until.After(r.From) {
		l.add(f["until"], rec, "until", "must be after from (%s)", r.From.Format(time.RFC3339))
	}
	return r
}

func (l *loader) parties(root, n *yaml.Node) []truce.Party {
	items := l.list(n, "agreement", "parties")
	if len(items) < 2 && (n == nil || n.Kind == yaml.SequenceNode) {
		l.add(orNode(n, root), "agreement", "parties", "at least two parties are required, found %d", len(items))
	}
	var out []truce.Party
	sides := map[geo.Side]truce.PartyID{}
	for i, item := range items {
		rec := fmt.Sprintf("parties[%d]", i)
		f := l.fields(item, rec, "id", "name", "control_area", "side")
		p := truce.Party{ID: truce.PartyID(l.str(f["id"], rec, "id", true))}
		if p.ID != "" {
			rec = fmt.Sprintf("parties[%d] (%s)", i, p.ID)
			if !partyIDPattern.MatchString(string(p.ID)) {
				l.add(f["id"], rec, "id", "%q must be 2-16 upper-case letters or digits, starting with a letter", p.ID)
			}
			if slices.ContainsFunc(out, func(q truce.Party) bool { return q.ID == p.ID }) {
				l.add(f["id"], rec, "id", "party %s is listed twice", p.ID)
			}
		}
		p.Name = l.str(f["name"], rec, "name", true)
		ca, side := f["control_area"], f["side"]
		switch {
		case !isNull(ca) && !isNull(side):
			l.add(item, rec, "", "give either control_area or side, not both")
		case !isNull(ca):
			p.ControlArea = l.region(ca, nil, rec, "control_area")
		case !isNull(side):
			switch s := l.str(side, rec, "side", true); s {
			case "left":
				p.LineSide = geo.Left
			case "right":
				p.LineSide = geo.Right
			default:
				l.add(side, rec, "side", "must be left or right (of the line, looking along its direction), not %q", s)
			}
			if other, dup := sides[p.LineSide]; dup && p.LineSide != geo.On {
				l.add(side, rec, "side", "party %s already holds the %s side", other, p.LineSide)
			}
			sides[p.LineSide] = p.ID
		default:
			l.add(item, rec, "", "party has no side: give control_area (a GeoJSON file of the area it holds) or side (left or right of the line)")
		}
		out = append(out, p)
	}
	areas, rules := 0, 0
	for _, p := range out {
		if p.ControlArea != nil {
			areas++
		}
		if p.LineSide != geo.On {
			rules++
		}
	}
	if areas > 0 && rules > 0 {
		l.add(n, "agreement", "parties", "every party must give a control_area, or every party a side; they cannot be mixed")
	}
	if rules > 0 && len(out) != 2 {
		l.add(n, "agreement", "parties", "sides of the line (left, right) need exactly two parties, found %d", len(out))
	}
	return out
}

func orNode(n, fallback *yaml.Node) *yaml.Node {
	if n == nil {
		return fallback
	}
	return n
}

func (l *loader) line(root, n *yaml.Node, parties []truce.Party) (*geo.Line, bool) {
	if isNull(n) {
		withArea := 0
		for _, p := range parties {
			if p.ControlArea != nil {
				withArea++
			}
		}
		if withArea < 2 || withArea != len(parties) {
			if len(l.probs) == 0 {
				l.add(root, "agreement", "line", "is required unless every party has a control_area to derive it from")
			}
			return nil, false
		}
		line, err := deriveLine(parties)
		if err != nil {
			l.add(root, "agreement", "line", "cannot derive the line from the control areas: %v", err)
			return nil, false
		}
		return line, true
	}
	file := l.str(n, "agreement", "line", true)
	gf := l.geojson(n, file, "agreement", "line")
	if gf == nil {
		return nil, false
	}
	var parts [][]geo.Point
	for _, f := range gf.features {
		if len(f.Geometry.Lines) == 0 {
			l.probs = append(l.probs, &truce.ValidationError{Where: file, Record: f.Name(), Field: "geometry", Reason: fmt.Sprintf("the line must be LineString or MultiLineString, not %s", f.Geometry.Type)})
			continue
		}
		parts = append(parts, f.Geometry.Lines...)
	}
	if len(parts) == 0 {
		if len(gf.features) == 0 {
			l.probs = append(l.probs, &truce.ValidationError{Where: file, Reason: "no line features"})
		}
		return nil, false
	}
	line, err := geo.NewLine(parts)
	if err != nil {
		l.probs = append(l.probs, &truce.ValidationError{Where: file, Record: "line", Reason: err.Error()})
		return nil, false
	}
	if err := geo.CheckSimple(line); err != nil {
		l.probs = append(l.probs, &truce.ValidationError{Where: file, Record: "line", Reason: err.Error()})
	}
	return line, false
}

// geojson reads and caches a GeoJSON file named in the agreement,
// reporting its problems once.
func (l *loader) geojson(n *yaml.Node, file, rec, field string) *geoFile {
	if file == "" {
		return nil
	}
	if gf, ok := l.files[file]; ok {
		if !gf.ok {
			return nil
		}
		return gf
	}
	gf := &geoFile{}
	l.files[file] = gf
	name := path.Join(l.dir, file)
	if path.IsAbs(file) || !fs.ValidPath(name) {
		l.add(n, rec, field, "%q must be a relative path inside the agreement's directory", file)
		return nil
	}
	data, err := readLimited(l.fsys, name, maxGeoJSONBytes)
	if err != nil {
		l.add(n, rec, field, "%s: %v", file, err)
		return nil
	}
	features, bad, err := geo.DecodeFeatures(data)
	if err != nil {
		l.probs = append(l.probs, &truce.ValidationError{Where: file, Reason: "unreadable GeoJSON: " + err.Error()})
		return nil
	}
	for _, b := range bad {
		l.probs = append(l.probs, &truce.ValidationError{Where: file, Record: b.Feature, Reason: b.Reason})
	}
	gf.features, gf.ok = features, len(bad) == 0
	if !gf.ok {
		return nil
	}
	return gf
}

// region reads the polygons of a GeoJSON file, or of the features in it
// whose id is feature, into a validated Region.
func (l *loader) region(fileNode, featureNode *yaml.Node, rec, field string) *geo.Region {
	file := l.str(fileNode, rec, field, true)
	want := ""
	if !isNull(featureNode) {
		want = l.str(featureNode, rec, "feature", false)
	}
	gf := l.geojson(fileNode, file, rec, field)
	if gf == nil {
		return nil
	}
	var mp geo.MultiPolygon
	found := false
	for _, f := range gf.features {
		if want != "" && f.ID != want {
			continue
		}
		found = true
		if f.Geometry.Polygons == nil {
			l.probs = append(l.probs, &truce.ValidationError{Where: file, Record: f.Name(), Field: "geometry", Reason: fmt.Sprintf("must be Polygon or MultiPolygon for %s, not %s", rec, f.Geometry.Type)})
			return nil
		}
		mp = append(mp, f.Geometry.Polygons...)
	}
	if !found {
		if want != "" {
			l.add(featureNode, rec, "feature", "no feature with id %q in %s", want, file)
		} else {
			l.add(fileNode, rec, field, "%s has no features", file)
		}
		return nil
	}
	r, err := geo.NewRegion(mp)
	if err != nil {
		what := "polygons"
		if want != "" {
			what = fmt.Sprintf("feature %q", want)
		}
		l.probs = append(l.probs, &truce.ValidationError{Where: file, Record: what, Reason: err.Error()})
		return nil
	}
	return r
}
