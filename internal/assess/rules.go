package assess

import "github.com/truce-dev/truce/internal/truce"

// ruleInfo is how one rule is judged: what breaks it, its base severity,
// whether a heavy weapon raises it to high, and how its party is found. The
// table is the single statement of the severities; doc.go and
// docs/assessment.md restate it, and a test holds them to it.
type ruleInfo struct {
	rule     truce.Rule
	severity truce.Severity
	heavy    bool   // high when the incident's weapon is heavy (see heavyWeapons)
	what     string // the categories that can break it
	party    string // how the party held responsible is found
}

var ruleTable = []ruleInfo{
	{truce.RuleCeasefire, truce.SeverityMedium, true,
		"fire: explosion, impact, outgoing_fire, projectile, muzzle_flash, burst, shot",
		"fire attribution: the side of the origin, or the far side of the line the direction of fire crosses within range; else undetermined"},
	{truce.RuleWithdrawal, truce.SeverityMedium, true,
		"weapon_sighting, or military_presence naming a weapon, of a class the withdrawal zone lists",
		"the side it stands on (the zone covers that side)"},
	{truce.RuleBuffer, truce.SeverityMedium, true,
		"military_presence or weapon_sighting inside the buffer zone",
		"the side it stands on"},
	{truce.RuleDisengagement, truce.SeverityMedium, true,
		"military_presence or weapon_sighting inside a disengagement area",
		"the side it stands on"},
	{truce.RuleAirspace, truce.SeverityMedium, true,
		"aircraft or uav inside a no-fly zone, or across the line from a known origin",
		"the side of its known origin (launch or take-off point); else undetermined"},
	{truce.RuleMaritime, truce.SeverityMedium, false,
		"vessel inside a maritime zone",
		"undetermined: a position does not say whose vessel it is"},
	{truce.RuleProtectedSite, truce.SeverityHigh, false,
		"impact, explosion or damage within a protected site's radius",
		"fire attribution, as for the ceasefire"},
	{truce.RuleSilence, truce.SeverityCritical, false,
		"fire within an acknowledged window of silence, in its place and time",
		"fire attribution, as for the ceasefire"},
	{truce.RuleFreedomOfMovement, truce.SeverityLow, false,
		"restriction of the monitors' freedom of movement",
		"the side it happened on"},
}

// heavyWeapons are the classes that raise a rule marked heavy to high
// severity: the Minsk II heavy weapons and combat aircraft.
var heavyWeapons = map[truce.WeaponClass]bool{
	truce.WeaponArtillery100Plus: true,
	truce.WeaponMLRS:             true,
	truce.WeaponHeavyMLRS:        true,
	truce.WeaponTacticalMissile:  true,
	truce.WeaponCombatAircraft:   true,
}

func infoOf(r truce.Rule) *ruleInfo {
	for i := range ruleTable {
		if ruleTable[i].rule == r {
			return &ruleTable[i]
		}
	}
	return nil
}

// severityOf returns the severity of a violation of r by an incident with
// weapon w.
func severityOf(r truce.Rule, w truce.WeaponClass) truce.Severity {
	info := infoOf(r)
	if info.heavy && heavyWeapons[w] {
		return truce.SeverityHigh
	}
	return info.severity
}

// fireCategories are the categories that are fire.
var fireCategories = map[truce.Category]bool{
	truce.CategoryExplosion:    true,
	truce.CategoryImpact:       true,
	truce.CategoryOutgoingFire: true,
	truce.CategoryProjectile:   true,
	truce.CategoryMuzzleFlash:  true,
	truce.CategoryBurst:        true,
	truce.CategoryShot:         true,
}

// isFire reports whether category c is fire, and so breaks the ceasefire.
func isFire(c truce.Category) bool { return fireCategories[c] }

// firedFromHere reports whether an incident of category c is located where
// the fire left the weapon, so that its location is its origin.
func firedFromHere(c truce.Category) bool {
	return c == truce.CategoryOutgoingFire || c == truce.CategoryMuzzleFlash
}

// defaultRange is how far, in metres, a direction of fire is followed back
// when the weapon class is unknown or has no range in weaponRange.
const defaultRange = 40e3

// weaponRange is the greatest plausible range of each class firing, in
// metres: a direction of fire is followed back this far to find where it
// crosses the line. Figures are rounded up from public maximum ranges.
var weaponRange = map[truce.WeaponClass]float64{
	truce.WeaponSmallArms:         1.5e3,
	truce.WeaponHeavyMachineGun:   2.5e3,
	truce.WeaponGrenadeLauncher:   2.5e3,
	truce.WeaponAntiTankMissile:   5.5e3,
	truce.WeaponMortar:            8e3,
	truce.WeaponArtilleryUnder100: 16e3,
	truce.WeaponArtillery100Plus:  40e3,
	truce.WeaponMLRS:              40e3,
	truce.WeaponHeavyMLRS:         90e3,
	truce.WeaponTacticalMissile:   120e3,
	truce.WeaponTank:              10e3,
	truce.WeaponArmouredVehicle:   5e3,
}

func rangeOf(w truce.WeaponClass) float64 {
	if r, ok := weaponRange[w]; ok {
		return r
	}
	return defaultRange
}
