package agreement

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/truce-dev/truce/internal/truce"
)

// DefaultMargins are the separations kept when the agreement's coalition
// section names none for a domain: aircraft 5 km and 300 m (about 1,000
// ft) apart and 10 minutes; land units 1 km and 15 minutes; vessels 2 km
// and 30 minutes.
var DefaultMargins = map[truce.Domain]truce.Margin{
	truce.DomainAir:  {Horizontal: 5000, Vertical: 300, Time: 10 * time.Minute},
	truce.DomainLand: {Horizontal: 1000, Vertical: 0, Time: 15 * time.Minute},
	truce.DomainSea:  {Horizontal: 2000, Vertical: 0, Time: 30 * time.Minute},
}

// coalition reads the coalition section: margins per domain, the
// equal-priority rule and national caveats.
func (l *loader) coalition(n *yaml.Node) truce.Coalition {
	const rec = "coalition"
	c := truce.Coalition{Margins: map[truce.Domain]truce.Margin{}}
	for d, m := range DefaultMargins {
		c.Margins[d] = m
	}
	if isNull(n) {
		return c
	}
	f := l.fields(n, rec, "margins", "equal_priority_overlap", "caveats")
	if v := f["equal_priority_overlap"]; !isNull(v) {
		if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
			l.add(v, rec, "equal_priority_overlap", "must be true or false, not %s", describe(v))
		} else {
			c.EqualPriorityOverlap = v.Value == "true"
		}
	}
	if m := f["margins"]; !isNull(m) {
		mm := l.fields(m, "coalition.margins", "air", "land", "sea")
		for _, d := range []string{"air", "land", "sea"} {
			node := mm[d]
			if isNull(node) {
				continue
			}
			mrec := fmt.Sprintf("coalition.margins.%s", d)
			mf := l.fields(node, mrec, "horizontal_m", "vertical_m", "time_min")
			margin := c.Margins[truce.Domain(d)]
			if v := mf["horizontal_m"]; !isNull(v) {
				margin.Horizontal = l.nonNegative(v, mrec, "horizontal_m", 100e3)
			}
			if v := mf["vertical_m"]; !isNull(v) {
				margin.Vertical = l.nonNegative(v, mrec, "vertical_m", 10e3)
			}
			if v := mf["time_min"]; !isNull(v) {
				margin.Time = time.Duration(l.nonNegative(v, mrec, "time_min", 24*60) * float64(time.Minute))
			}
			c.Margins[truce.Domain(d)] = margin
		}
	}
	seen := map[truce.NationID]bool{}
	for i, item := range l.list(f["caveats"], rec, "caveats") {
		crec := fmt.Sprintf("coalition.caveats[%d]", i)
		cf := l.fields(item, crec, "nation", "name", "domains", "within", "outside")
		cv := truce.Caveat{Nation: truce.NationID(l.str(cf["nation"], crec, "nation", true))}
		if cv.Nation != "" {
			crec = fmt.Sprintf("coalition.caveats[%d] (%s)", i, cv.Nation)
			if !truce.ValidOrgID(string(cv.Nation)) {
				l.add(cf["nation"], crec, "nation", "%q is not an organisation id", cv.Nation)
			}
			if seen[cv.Nation] {
				l.add(cf["nation"], crec, "nation", "nation %s has two caveat entries; merge them", cv.Nation)
			}
			seen[cv.Nation] = true
		}
		cv.Name = l.str(cf["name"], crec, "name", false)
		if cv.Name == "" {
			cv.Name = string(cv.Nation) + " caveats"
		}
		for _, d := range l.list(cf["domains"], crec, "domains") {
			dom, err := truce.ParseDomain(l.str(d, crec, "domains", true))
			if err != nil {
				l.add(d, crec, "domains", "%v", err)
				continue
			}
			cv.Domains = append(cv.Domains, dom)
		}
		for _, k := range []string{"within", "outside"} {
			node := cf[k]
			if isNull(node) {
				continue
			}
			gf := l.fields(node, crec+"."+k, "geometry", "feature")
			r := l.region(gf["geometry"], gf["feature"], crec+"."+k, "geometry")
			if k == "within" {
				cv.Within = r
			} else {
				cv.Outside = r
			}
		}
		c.Caveats = append(c.Caveats, cv)
	}
	return c
}

// nonNegative reads a number in [0, limit].
func (l *loader) nonNegative(n *yaml.Node, rec, field string, limit float64) float64 {
	v, ok := l.number(n, rec, field)
	if ok && (v < 0 || v > limit) {
		l.add(n, rec, field, "must be between 0 and %g, not %g", limit, v)
		return 0
	}
	return v
}
