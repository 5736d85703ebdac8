package agreement

import (
	"strings"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

const coalitionSection = `
coalition:
  equal_priority_overlap: true
  margins:
    air: {horizontal_m: 9000, vertical_m: 600, time_min: 5}
    sea: {time_min: 45}
  caveats:
    - nation: DEU
      name: Air only, from the west
      domains: [air]
      within: {geometry: zones.geojson, feature: no-fly-west}
    - nation: FRA
      outside: {geometry: zones.geojson, feature: sea}
`

func TestCoalitionSection(t *testing.T) {
	a := mustLoad(t, variant(t, map[string][]string{"agreement.yaml": {"zones:\n", strings.TrimPrefix(coalitionSection, "\n") + "zones:\n"}}))
	c := a.Coalition
	if !c.EqualPriorityOverlap {
		t.Error("equal_priority_overlap not read")
	}
	want := map[truce.Domain]truce.Margin{
		truce.DomainAir:  {Horizontal: 9000, Vertical: 600, Time: 5 * time.Minute},
		truce.DomainSea:  {Horizontal: 2000, Vertical: 0, Time: 45 * time.Minute}, // defaults but for time
		truce.DomainLand: DefaultMargins[truce.DomainLand],
	}
	for d, m := range want {
		if c.Margins[d] != m {
			t.Errorf("margin %s = %+v, want %+v", d, c.Margins[d], m)
		}
	}
	if got := c.Margin(truce.DomainAir, truce.DomainSea); got != (truce.Margin{Horizontal: 9000, Vertical: 600, Time: 45 * time.Minute}) {
		t.Errorf("air/sea margin %+v: want the larger of each", got)
	}
	if len(c.Caveats) != 2 {
		t.Fatalf("%d caveats, want 2", len(c.Caveats))
	}
	deu, fra := c.Caveats[0], c.Caveats[1]
	if deu.Nation != "DEU" || deu.Name != "Air only, from the west" || len(deu.Domains) != 1 || deu.Domains[0] != truce.DomainAir || deu.Within == nil || deu.Outside != nil {
		t.Errorf("DEU caveat %+v", deu)
	}
	if !deu.Within.Contains(geo.Pt(48, 35)) || deu.Within.Contains(geo.Pt(48, 36)) {
		t.Error("DEU's region is not the no-fly-west polygon")
	}
	if fra.Name != "FRA caveats" || fra.Outside == nil || !fra.Outside.Contains(geo.Pt(46.6, 37.2)) {
		t.Errorf("FRA caveat %+v", fra)
	}
	// Without the section: the defaults.
	if d := mustLoad(t, simple).Coalition; d.EqualPriorityOverlap || len(d.Caveats) != 0 || d.Margins[truce.DomainAir] != DefaultMargins[truce.DomainAir] {
		t.Errorf("default coalition section %+v", d)
	}
}

func TestCoalitionErrors(t *testing.T) {
	for _, tc := range []struct{ old, new, want string }{
		{"horizontal_m: 9000", "horizontal_m: -1", "coalition.margins.air.horizontal_m: must be between 0 and 100000, not -1"},
		{"time_min: 45", "time_minutes: 45", "coalition.margins.sea.time_minutes: unknown field (want one of horizontal_m, vertical_m, time_min)"},
		{"domains: [air]", "domains: [space]", `coalition.caveats[0] (DEU).domains: unknown domain "space" (want one of land, sea, air)`},
		{"nation: FRA", "nation: DEU", "coalition.caveats[1] (DEU).nation: nation DEU has two caveat entries; merge them"},
		{"feature: sea", "feature: ocean", `coalition.caveats[1] (FRA).outside.feature: no feature with id "ocean" in zones.geojson`},
		{"equal_priority_overlap: true", "equal_priority_overlap: sometimes", "coalition.equal_priority_overlap: must be true or false"},
		{"    sea: {time_min: 45}\n", "    space: {time_min: 45}\n", "coalition.margins.space: unknown field (want one of air, land, sea)"},
	} {
		section := strings.Replace(strings.TrimPrefix(coalitionSection, "\n"), tc.old, tc.new, 1)
		_, err := Load(variant(t, map[string][]string{"agreement.yaml": {"zones:\n", section + "zones:\n"}}))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s → %s: error %v\nwant it to contain %q", tc.old, tc.new, err, tc.want)
		}
	}
}
