package agreement

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// forms says which geometry forms each zone kind admits.
var forms = map[truce.ZoneKind]struct{ band, area, site bool }{
	truce.ZoneWithdrawal:    {band: true},
	truce.ZoneBuffer:        {band: true},
	truce.ZoneKeepOut:       {band: true},
	truce.ZoneNoFly:         {band: true, area: true},
	truce.ZoneDisengagement: {area: true},
	truce.ZoneMaritime:      {area: true},
	truce.ZoneProtectedSite: {site: true},
}

func (l *loader) zones(n *yaml.Node, parties []truce.Party) []truce.Zone {
	var out []truce.Zone
	seen := map[string]bool{}
	for i, item := range l.list(n, "agreement", "zones") {
		rec := fmt.Sprintf("zones[%d]", i)
		f := l.fields(item, rec, "id", "name", "kind", "weapons", "distance_km", "geometry", "feature", "site")
		z := truce.Zone{ID: l.str(f["id"], rec, "id", true)}
		if z.ID != "" {
			rec = fmt.Sprintf("zones[%d] (%s)", i, z.ID)
			if !zoneIDPattern.MatchString(z.ID) {
				l.add(f["id"], rec, "id", "%q must be lower-case letters, digits, '.', '_' or '-', at most 64", z.ID)
			}
			if seen[z.ID] {
				l.add(f["id"], rec, "id", "zone %s is defined twice", z.ID)
			}
			seen[z.ID] = true
		}
		z.Name = l.str(f["name"], rec, "name", false)
		if z.Name == "" {
			z.Name = z.ID
		}
		kind, err := truce.ParseZoneKind(l.str(f["kind"], rec, "kind", true))
		if err != nil {
			if !isNull(f["kind"]) {
				l.add(f["kind"], rec, "kind", "%v", err)
			}
			out = append(out, z)
			continue
		}
		z.Kind = kind
		form := forms[kind]
		given := 0
		for _, k := range []string{"distance_km", "geometry", "site"} {
			if !isNull(f[k]) {
				given++
			}
		}
		var want []string
		if form.band {
			want = append(want, "distance_km")
		}
		if form.area {
			want = append(want, "geometry")
		}
		if form.site {
			want = append(want, "site")
		}
		switch {
		case given == 0:
			l.add(item, rec, "", "a %s zone needs %s", kind, strings.Join(want, " or "))
		case given > 1:
			l.add(item, rec, "", "give only one of %s", strings.Join(want, ", "))
		}
		if !isNull(f["distance_km"]) {
			if !form.band {
				l.add(f["distance_km"], rec, "distance_km", "a %s zone is not a band along the line; give %s", kind, strings.Join(want, " or "))
			} else {
				z.Distance = l.distances(f["distance_km"], rec, parties)
			}
		}
		if !isNull(f["geometry"]) {
			if !form.area {
				l.add(f["geometry"], rec, "geometry", "a %s zone takes %s, not polygons", kind, strings.Join(want, " or "))
			} else {
				z.Area = l.region(f["geometry"], f["feature"], rec, "geometry")
			}
		} else if !isNull(f["feature"]) {
			l.add(f["feature"], rec, "feature", "feature selects from geometry, which is not given")
		}
		if !isNull(f["site"]) {
			if !form.site {
				l.add(f["site"], rec, "site", "only protected_site zones take a site")
			} else {
				z.Site = l.site(f["site"], rec)
			}
		}
		weapons := l.list(f["weapons"], rec, "weapons")
		switch {
		case kind == truce.ZoneWithdrawal && len(weapons) == 0:
			l.add(item, rec, "weapons", "a withdrawal zone needs at least one weapon class")
		case kind != truce.ZoneWithdrawal && len(weapons) > 0:
			l.add(f["weapons"], rec, "weapons", "only withdrawal zones list weapons")
		}
		for _, w := range weapons {
			wc, err := truce.ParseWeaponClass(l.str(w, rec, "weapons", true))
			if err != nil {
				l.add(w, rec, "weapons", "%v", err)
				continue
			}
			if slices.Contains(z.Weapons, wc) {
				l.add(w, rec, "weapons", "%s is listed twice", wc)
			}
			z.Weapons = append(z.Weapons, wc)
		}
		out = append(out, z)
	}
	return out
}

// distances reads distance_km: one number for every party's side, or a
// mapping from party id to a number.
func (l *loader) distances(n *yaml.Node, rec string, parties []truce.Party) map[truce.PartyID]float64 {
	check := func(n *yaml.Node, field string) (float64, bool) {
		v, ok := l.number(n, rec, field)
		switch {
		case !ok:
			return 0, false
		case v <= 0:
			l.add(n, rec, field, "must be positive, not %g", v)
			return 0, false
		case v > maxDistanceKm:
			l.add(n, rec, field, "%g km is more than the %d km allowed", v, maxDistanceKm)
			return 0, false
		}
		return v * 1000, true
	}
	out := map[truce.PartyID]float64{}
	if n.Kind == yaml.MappingNode {
		ids := make([]string, len(parties))
		for i, p := range parties {
			ids[i] = string(p.ID)
		}
		f := l.fields(n, rec+".distance_km", ids...)
		for _, id := range ids {
			if f[id] == nil {
				continue
			}
			if v, ok := check(f[id], "distance_km."+id); ok {
				out[truce.PartyID(id)] = v
			}
		}
		if len(f) == 0 {
			l.add(n, rec, "distance_km", "names no party")
		}
		return out
	}
	if v, ok := check(n, "distance_km"); ok {
		for _, p := range parties {
			out[p.ID] = v
		}
	}
	return out
}

func (l *loader) site(n *yaml.Node, rec string) *truce.Site {
	f := l.fields(n, rec+".site", "category", "lat", "lon", "radius_km")
	s := &truce.Site{}
	cat, err := truce.ParseSiteCategory(l.str(f["category"], rec, "site.category", true))
	if err != nil && !isNull(f["category"]) {
		l.add(f["category"], rec, "site.category", "%v", err)
	}
	s.Category = cat
	for _, k := range []string{"lat", "lon", "radius_km"} {
		if isNull(f[k]) {
			l.add(n, rec, "site."+k, "is required")
		}
	}
	if isNull(f["lat"]) || isNull(f["lon"]) || isNull(f["radius_km"]) {
		return s
	}
	lat, ok1 := l.number(f["lat"], rec, "site.lat")
	lon, ok2 := l.number(f["lon"], rec, "site.lon")
	if ok1 && ok2 {
		s.Cap.Center = geo.Pt(lat, lon)
		if err := s.Cap.Center.Validate(); err != nil {
			l.add(f["lat"], rec, "site", "%v", err)
		}
	}
	if r, ok := l.number(f["radius_km"], rec, "site.radius_km"); ok {
		if r <= 0 || r > maxRadiusKm {
			l.add(f["radius_km"], rec, "site.radius_km", "must be more than 0 and at most %d, not %g", maxRadiusKm, r)
		}
		s.Cap.Radius = r * 1000
	}
	return s
}

func (l *loader) sectors(n *yaml.Node, line *geo.Line) []truce.Sector {
	var out []truce.Sector
	for i, item := range l.list(n, "agreement", "sectors") {
		rec := fmt.Sprintf("sectors[%d]", i)
		f := l.fields(item, rec, "id", "name", "geometry", "feature")
		s := truce.Sector{ID: l.str(f["id"], rec, "id", true)}
		if s.ID != "" {
			rec = fmt.Sprintf("sectors[%d] (%s)", i, s.ID)
			if !zoneIDPattern.MatchString(s.ID) {
				l.add(f["id"], rec, "id", "%q must be lower-case letters, digits, '.', '_' or '-', at most 64", s.ID)
			}
			if slices.ContainsFunc(out, func(o truce.Sector) bool { return o.ID == s.ID }) {
				l.add(f["id"], rec, "id", "sector %s is defined twice", s.ID)
			}
		}
		s.Name = l.str(f["name"], rec, "name", false)
		if s.Name == "" {
			s.Name = s.ID
		}
		s.Area = l.region(f["geometry"], f["feature"], rec, "geometry")
		if s.Area != nil && line != nil && !s.Area.Intersects(line) {
			l.add(item, rec, "geometry", "sector is off the line: its polygons do not touch the line of contact")
		}
		out = append(out, s)
	}
	return out
}

// defaultEscalation applies when an agreement gives no escalation section.
func defaultEscalation(sectors int) truce.Escalation {
	return truce.Escalation{
		Windows: []truce.EscalationWindow{
			{Duration: time.Hour, Tense: 4, Serious: 12, Critical: 30},
			{Duration: 24 * time.Hour, Tense: 20, Serious: 60, Critical: 150},
		},
		Hysteresis:               0.75,
		SeverityWeights:          map[truce.Severity]float64{truce.SeverityLow: 1, truce.SeverityMedium: 3, truce.SeverityHigh: 8, truce.SeverityCritical: 20},
		RenewedAggressionSectors: max(1, min(3, sectors)),
	}
}

func (l *loader) escalation(n *yaml.Node, sectors int) truce.Escalation {
	e := defaultEscalation(sectors)
	if isNull(n) {
		return e
	}
	const rec = "escalation"
	f := l.fields(n, rec, "windows", "hysteresis", "severity_weights", "renewed_aggression")
	if items := l.list(f["windows"], rec, "windows"); len(items) > 0 {
		e.Windows = nil
		for i, item := range items {
			wrec := fmt.Sprintf("escalation.windows[%d]", i)
			wf := l.fields(item, wrec, "duration", "tense", "serious", "critical")
			w := truce.EscalationWindow{}
			if s := l.str(wf["duration"], wrec, "duration", true); s != "" {
				d, err := time.ParseDuration(s)
				if err != nil || d <= 0 {
					l.add(wf["duration"], wrec, "duration", "must be a positive duration such as 1h or 30m, not %q", s)
				}
				w.Duration = d
			}
			vals := map[string]float64{}
			for _, k := range []string{"tense", "serious", "critical"} {
				if isNull(wf[k]) {
					l.add(item, wrec, k, "is required")
					continue
				}
				if v, ok := l.number(wf[k], wrec, k); ok {
					vals[k] = v
				}
			}
			w.Tense, w.Serious, w.Critical = vals["tense"], vals["serious"], vals["critical"]
			if len(vals) == 3 && !(0 < w.Tense && w.Tense < w.Serious && w.Serious < w.Critical) {
				l.add(item, wrec, "", "thresholds must rise: 0 < tense (%g) < serious (%g) < critical (%g)", w.Tense, w.Serious, w.Critical)
			}
			e.Windows = append(e.Windows, w)
		}
	}
	if h := f["hysteresis"]; !isNull(h) {
		if v, ok := l.number(h, rec, "hysteresis"); ok {
			if v <= 0 || v > 1 {
				l.add(h, rec, "hysteresis", "must be more than 0 and at most 1, not %g", v)
			}
			e.Hysteresis = v
		}
	}
	if sw := f["severity_weights"]; !isNull(sw) {
		names := make([]string, 0, 4)
		for _, s := range truce.Severities() {
			names = append(names, string(s))
		}
		wf := l.fields(sw, rec+".severity_weights", names...)
		prev := 0.0
		for _, s := range truce.Severities() {
			v := e.SeverityWeights[s]
			if n := wf[string(s)]; n != nil {
				if x, ok := l.number(n, rec, "severity_weights."+string(s)); ok {
					v = x
				}
			}
			if v < prev || v <= 0 || math.IsInf(v, 0) {
				l.add(sw, rec, "severity_weights."+string(s), "must be positive and at least the weight of the grade below (%g), not %g", prev, v)
			}
			e.SeverityWeights[s], prev = v, v
		}
	}
	if ra := f["renewed_aggression"]; !isNull(ra) {
		rf := l.fields(ra, rec+".renewed_aggression", "critical_sectors")
		if c := rf["critical_sectors"]; c != nil {
			if v, ok := l.integer(c, rec, "renewed_aggression.critical_sectors"); ok {
				if v < 1 || (sectors > 0 && v > sectors) {
					l.add(c, rec, "renewed_aggression.critical_sectors", "must be between 1 and the number of sectors (%d), not %d", sectors, v)
				}
				e.RenewedAggressionSectors = v
			}
		}
	}
	return e
}
