package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// drawTolerance is how closely exported zone boundaries follow the true
// boundary, in metres.
const drawTolerance = 10

func agreementCommand() *command {
	return &command{
		name:    "agreement",
		summary: "validate, inspect and export a ceasefire agreement",
		subs: []*command{
			{name: "check", args: "FILE", summary: "validate an agreement and print its parties, line, zones and sectors", flags: agreementCheck},
			{name: "zones", args: "FILE", summary: "write every zone's polygons, per party side, as a GeoJSON FeatureCollection", flags: agreementZones},
			{name: "locate", args: "FILE LAT LON", summary: "say which side of the line a point is on, how far from it, and which zones and sector hold it", flags: agreementLocate},
		},
	}
}

func loadAgreement(file string) (*truce.Agreement, error) {
	a, err := agreement.Load(file)
	if err != nil {
		return nil, invalidError{fmt.Errorf("%s is not a valid agreement:\n%w", file, indent(err))}
	}
	return a, nil
}

type indented struct{ error }

func (e indented) Error() string {
	return "  " + strings.ReplaceAll(e.error.Error(), "\n", "\n  ")
}
func (e indented) Unwrap() error { return e.error }

func indent(err error) error { return indented{err} }

func agreementCheck(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
	return func(_ context.Context, s *stdio, args []string) error {
		if len(args) != 1 {
			return usagef("want one agreement FILE, got %d arguments", len(args))
		}
		a, err := loadAgreement(args[0])
		if err != nil {
			return err
		}
		sh, err := agreement.ZoneShapes(a, drawTolerance)
		if err != nil {
			return fmt.Errorf("zone geometry: %w", err)
		}
		printSummary(s.out, a, sh)
		return nil
	}
}

// zoneArea is a zone's area: exact on the sphere for areas and sites, from
// the drawn polygons for bands.
func zoneArea(z *truce.Zone, sh *agreement.Shapes) float64 {
	switch {
	case z.Area != nil:
		return z.Area.Area()
	case z.Site != nil:
		return z.Site.Cap.Area()
	}
	return sh.ZoneArea(z)
}

func km2(m2 float64) string { return thousands(m2/1e6, 1) }

// thousands formats v with the given decimals and thin grouping commas.
func thousands(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if neg {
		out = "-" + out
	}
	if frac != "" {
		out += "." + frac
	}
	return out
}

func printSummary(w io.Writer, a *truce.Agreement, sh *agreement.Shapes) {
	fmt.Fprintf(w, "agreement %s, version %d: valid\n", a.ID, a.Version)
	if a.Title != "" {
		fmt.Fprintf(w, "  %s\n", a.Title)
	}
	until := "open-ended"
	if !a.Effective.Until.IsZero() {
		until = "until " + a.Effective.Until.Format(time.RFC3339)
	}
	fmt.Fprintf(w, "effective from %s (%s), %s\n", a.Effective.From.Format(time.RFC3339), dtg(a.Effective.From), until)
	if a.Notice != "" {
		fmt.Fprintf(w, "notice: %s\n", a.Notice)
	}

	fmt.Fprintf(w, "\nparties (%d):\n", len(a.Parties))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, p := range a.Parties {
		if p.ControlArea != nil {
			fmt.Fprintf(tw, "  %s\t%s\tcontrol area: %d polygon(s), %s km²\n", p.ID, p.Name, len(p.ControlArea.Polygons()), km2(sh.Sides[i].Area()))
		} else {
			fmt.Fprintf(tw, "  %s\t%s\tthe %s side of the line\n", p.ID, p.Name, p.LineSide)
		}
	}
	tw.Flush()

	how := "given"
	if a.LineDerived {
		how = "derived from the control areas"
	}
	fmt.Fprintf(w, "\nline of contact: %s km, %d vertices in %d part(s), %s\n", thousands(a.Line.Length()/1e3, 1), a.Line.NumVertices(), len(a.Line.Parts()), how)

	fmt.Fprintf(w, "\nzones (%d):\n", len(a.Zones))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  ID\tKIND\tEXTENT\tAREA km²\tBY SIDE km²\n")
	for i := range a.Zones {
		z := &a.Zones[i]
		var bySide []string
		for _, p := range sh.SideAreas(z) {
			side := string(p.Side)
			if side == "" {
				side = "none"
			}
			bySide = append(bySide, side+" "+km2(p.Area))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", z.ID, z.Kind, extent(a, z), km2(zoneArea(z, sh)), strings.Join(bySide, ", "))
	}
	tw.Flush()

	fmt.Fprintf(w, "\nsectors (%d):\n", len(a.Sectors))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  ID\tNAME\tAREA km²\n")
	for _, s := range a.Sectors {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.ID, s.Name, km2(s.Area.Area()))
	}
	tw.Flush()

	e := a.Escalation
	var ws []string
	for _, win := range e.Windows {
		ws = append(ws, fmt.Sprintf("%s: tense %g, serious %g, critical %g", shortDuration(win.Duration), win.Tense, win.Serious, win.Critical))
	}
	fmt.Fprintf(w, "\nescalation: %s; hysteresis %g; renewed aggression when %d sector(s) are critical\n", strings.Join(ws, "; "), e.Hysteresis, e.RenewedAggressionSectors)

	c := a.Coalition
	var ms []string
	for _, d := range []truce.Domain{truce.DomainAir, truce.DomainLand, truce.DomainSea} {
		m := c.Margins[d]
		ms = append(ms, fmt.Sprintf("%s %g m, %g m, %s", d, m.Horizontal, m.Vertical, shortDuration(m.Time)))
	}
	overlap := "refused"
	if c.EqualPriorityOverlap {
		overlap = "allowed"
	}
	fmt.Fprintf(w, "coalition: separation %s; equal-priority overlap %s\n", strings.Join(ms, "; "), overlap)
	for _, cv := range c.Caveats {
		var limits []string
		if len(cv.Domains) > 0 {
			ds := make([]string, len(cv.Domains))
			for i, d := range cv.Domains {
				ds[i] = string(d)
			}
			limits = append(limits, "domains "+strings.Join(ds, ", "))
		}
		if cv.Within != nil {
			limits = append(limits, "within a region of "+km2(cv.Within.Area())+" km²")
		}
		if cv.Outside != nil {
			limits = append(limits, "outside a region of "+km2(cv.Outside.Area())+" km²")
		}
		fmt.Fprintf(w, "  caveat %s: %s (%s)\n", cv.Nation, cv.Name, strings.Join(limits, "; "))
	}
}

// shortDuration formats d without zero minutes and seconds: 1h, 90m, 24h.
func shortDuration(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// extent describes a zone's geometry in words.
func extent(a *truce.Agreement, z *truce.Zone) string {
	switch {
	case z.IsBand():
		var parts []string
		same := true
		var first float64
		for i, p := range a.Parties {
			t, ok := z.Distance[p.ID]
			if !ok {
				same = false
				continue
			}
			if i == 0 {
				first = t
			} else if t != first {
				same = false
			}
			parts = append(parts, fmt.Sprintf("%s %g km", p.ID, t/1e3))
		}
		if same && len(parts) == len(a.Parties) {
			return fmt.Sprintf("%g km each side", first/1e3)
		}
		return strings.Join(parts, ", ")
	case z.Site != nil:
		return fmt.Sprintf("%s, %g km radius", z.Site.Category, z.Site.Cap.Radius/1e3)
	default:
		return fmt.Sprintf("%d polygon(s)", len(z.Area.Polygons()))
	}
}

// dtg formats t as a NATO date-time group: DDHHMMZ MON YY.
func dtg(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%02d%02d%02dZ %s %02d", t.Day(), t.Hour(), t.Minute(), strings.ToUpper(t.Format("Jan")), t.Year()%100)
}

func agreementZones(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
	out := fs.String("o", "-", "write the FeatureCollection to this `file` (- for standard output)")
	tol := fs.Float64("tolerance", drawTolerance, "how closely drawn band and circle boundaries follow the true ones, in `metres`")
	return func(_ context.Context, s *stdio, args []string) error {
		if len(args) != 1 {
			return usagef("want one agreement FILE, got %d arguments", len(args))
		}
		if *tol < 1 || *tol > 10000 {
			return usagef("-tolerance must be between 1 and 10000 metres, not %g", *tol)
		}
		a, err := loadAgreement(args[0])
		if err != nil {
			return err
		}
		sh, err := agreement.ZoneShapes(a, *tol)
		if err != nil {
			return fmt.Errorf("zone geometry: %w", err)
		}
		var fc []geo.OutFeature
		for _, p := range sh.Pieces {
			props := map[string]any{"zone": p.Zone.ID, "name": p.Zone.Name, "kind": string(p.Zone.Kind), "side": nil, "distance_km": nil, "area_km2": roundTo(p.Area/1e6, 3)}
			if p.Side != "" {
				props["side"] = string(p.Side)
			}
			if p.Zone.IsBand() {
				props["distance_km"] = p.Distance / 1e3
			}
			if len(p.Zone.Weapons) > 0 {
				props["weapons"] = p.Zone.Weapons
			}
			if p.Zone.Site != nil {
				props["site_category"] = string(p.Zone.Site.Category)
			}
			fc = append(fc, geo.OutFeature{Properties: props, Polygons: p.Polygons})
		}
		data, err := geo.EncodeFeatureCollection(fc)
		if err != nil {
			return err
		}
		data = append(data, '\n')
		if *out == "-" {
			_, err = s.out.Write(data)
			return err
		}
		if err := writeFileAtomic(*out, data); err != nil {
			return err
		}
		fmt.Fprintf(s.err, "wrote %d zone pieces of %d zones to %s\n", len(fc), len(a.Zones), *out)
		return nil
	}
}

func roundTo(v float64, decimals int) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', decimals, 64), 64)
	return f
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and
// renames it into place, so a reader never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(dirOf(path), ".truce-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, os.PathSeparator); i >= 0 {
		return path[:i+1]
	}
	return "."
}

// locateJSON is the machine-readable answer of agreement locate.
type locateJSON struct {
	Lat           float64  `json:"lat"`
	Lon           float64  `json:"lon"`
	Side          *string  `json:"side"`
	LineDistanceM float64  `json:"line_distance_m"`
	LineSide      string   `json:"line_side"`
	NearestLat    float64  `json:"nearest_lat"`
	NearestLon    float64  `json:"nearest_lon"`
	Sector        *string  `json:"sector"`
	Zones         []string `json:"zones"`
}

func agreementLocate(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	return func(_ context.Context, s *stdio, args []string) error {
		if len(args) != 3 {
			return usagef("want FILE LAT LON, got %d arguments", len(args))
		}
		lat, err1 := strconv.ParseFloat(args[1], 64)
		lon, err2 := strconv.ParseFloat(args[2], 64)
		p := geo.Pt(lat, lon)
		if err1 != nil || err2 != nil {
			return usagef("LAT and LON must be decimal degrees, such as 48.0 37.8")
		}
		if err := p.Validate(); err != nil {
			return usagef("%v", err)
		}
		a, err := loadAgreement(args[0])
		if err != nil {
			return err
		}
		loc := agreement.Locate(a, p)
		if *asJSON {
			out := locateJSON{Lat: lat, Lon: lon, LineDistanceM: roundTo(loc.Line.Distance, 1), LineSide: loc.Line.Side.String(),
				NearestLat: roundTo(loc.Line.Point.Lat, 6), NearestLon: roundTo(loc.Line.Point.Lon, 6), Zones: loc.ZoneIDs()}
			if loc.Party != nil {
				id := string(loc.Party.ID)
				out.Side = &id
			}
			if loc.Sector != nil {
				out.Sector = &loc.Sector.ID
			}
			enc := json.NewEncoder(s.out)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		printLocation(s.out, loc)
		return nil
	}
}

func printLocation(w io.Writer, loc agreement.Location) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "point\t%.5f, %.5f\n", loc.Point.Lat, loc.Point.Lon)
	if loc.Party != nil {
		fmt.Fprintf(tw, "side\t%s (%s)\n", loc.Party.ID, loc.Party.Name)
	} else {
		fmt.Fprintf(tw, "side\tnone: outside every party's control area\n")
	}
	fmt.Fprintf(tw, "line\t%s km away; nearest point on the line %.5f, %.5f; %s of the line looking along it\n",
		thousands(loc.Line.Distance/1e3, 2), loc.Line.Point.Lat, loc.Line.Point.Lon, loc.Line.Side)
	if loc.Sector != nil {
		fmt.Fprintf(tw, "sector\t%s (%s)\n", loc.Sector.ID, loc.Sector.Name)
	} else {
		fmt.Fprintf(tw, "sector\tnone\n")
	}
	if len(loc.Zones) == 0 {
		fmt.Fprintf(tw, "zones\tnone\n")
	}
	zones := append([]*truce.Zone(nil), loc.Zones...)
	sort.SliceStable(zones, func(i, j int) bool { return zones[i].Kind < zones[j].Kind })
	for i, z := range zones {
		label := ""
		if i == 0 {
			label = "zones"
		}
		detail := string(z.Kind)
		switch {
		case z.IsBand() && loc.Party != nil:
			detail += fmt.Sprintf(", within %g km of the line on %s's side", z.Distance[loc.Party.ID]/1e3, loc.Party.ID)
		case z.Site != nil:
			detail += fmt.Sprintf(", %s km from the site (radius %g km)", thousands(geo.Distance(loc.Point, z.Site.Cap.Center)/1e3, 2), z.Site.Cap.Radius/1e3)
		}
		if len(z.Weapons) > 0 {
			ws := make([]string, len(z.Weapons))
			for i, w := range z.Weapons {
				ws[i] = string(w)
			}
			detail += "; weapons: " + strings.Join(ws, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s: %s (%s)\n", label, z.ID, z.Name, detail)
	}
	tw.Flush()
}
