package truce

import (
	"fmt"
	"slices"
	"strings"
)

// A Term is one entry of a controlled vocabulary: its name as written in
// agreements and on the wire, and what it means.
type Term struct {
	Name        string
	Description string
}

// vocabulary is a closed list of terms of one kind.
type vocabulary[T ~string] struct {
	what  string
	terms []Term
}

func (v vocabulary[T]) parse(s string) (T, error) {
	for _, t := range v.terms {
		if t.Name == s {
			return T(s), nil
		}
	}
	names := make([]string, len(v.terms))
	for i, t := range v.terms {
		names[i] = t.Name
	}
	return "", fmt.Errorf("unknown %s %q (want one of %s)", v.what, s, strings.Join(names, ", "))
}

func (v vocabulary[T]) valid(s T) bool {
	return slices.ContainsFunc(v.terms, func(t Term) bool { return t.Name == string(s) })
}

// ZoneKind is the kind of an agreement zone. Each kind admits certain geometry
// forms (see Zone) and is judged by its own rules.
type ZoneKind string

// Zone kinds.
const (
	ZoneWithdrawal    ZoneKind = "withdrawal"
	ZoneBuffer        ZoneKind = "buffer"
	ZoneDisengagement ZoneKind = "disengagement"
	ZoneProtectedSite ZoneKind = "protected_site"
	ZoneNoFly         ZoneKind = "no_fly"
	ZoneMaritime      ZoneKind = "maritime"
	ZoneKeepOut       ZoneKind = "keep_out"
)

var zoneKinds = vocabulary[ZoneKind]{"zone kind", []Term{
	{string(ZoneWithdrawal), "weapons of the listed classes must be withdrawn this far from the line on each party's own side"},
	{string(ZoneBuffer), "no military presence within this distance of the line"},
	{string(ZoneDisengagement), "a named area (polygons) from which both parties' forces and hardware are disengaged"},
	{string(ZoneProtectedSite), "a facility (point and radius) that must not be struck or approached: power, water, nuclear"},
	{string(ZoneNoFly), "no military aircraft or UAV flights, as a distance from the line or as polygons"},
	{string(ZoneMaritime), "a sea area (polygons) closed to military vessels"},
	{string(ZoneKeepOut), "no coalition force within this distance of the line"},
}}

// ZoneKinds lists every zone kind with its meaning.
func ZoneKinds() []Term { return slices.Clone(zoneKinds.terms) }

// ParseZoneKind returns the zone kind named s.
func ParseZoneKind(s string) (ZoneKind, error) { return zoneKinds.parse(s) }

// Valid reports whether k is a known zone kind.
func (k ZoneKind) Valid() bool { return zoneKinds.valid(k) }

// WeaponClass is a class of weapon as withdrawal rules and observations name it.
// The classes follow the Minsk II package (2015) and its addendum.
type WeaponClass string

// Weapon classes.
const (
	WeaponSmallArms         WeaponClass = "small_arms"
	WeaponHeavyMachineGun   WeaponClass = "heavy_machine_gun"
	WeaponGrenadeLauncher   WeaponClass = "grenade_launcher"
	WeaponAntiTankMissile   WeaponClass = "anti_tank_missile"
	WeaponMortar            WeaponClass = "mortar"
	WeaponArtilleryUnder100 WeaponClass = "artillery_under_100mm"
	WeaponArtillery100Plus  WeaponClass = "artillery_100mm_plus"
	WeaponMLRS              WeaponClass = "mlrs"
	WeaponHeavyMLRS         WeaponClass = "heavy_mlrs"
	WeaponTacticalMissile   WeaponClass = "tactical_missile"
	WeaponTank              WeaponClass = "tank"
	WeaponArmouredVehicle   WeaponClass = "armoured_vehicle"
	WeaponAirDefence        WeaponClass = "air_defence"
	WeaponCombatAircraft    WeaponClass = "combat_aircraft"
	WeaponAttackUAV         WeaponClass = "attack_uav"
	WeaponLoiteringMunition WeaponClass = "loitering_munition"
	WeaponNavalVessel       WeaponClass = "naval_vessel"
)

var weaponClasses = vocabulary[WeaponClass]{"weapon class", []Term{
	{string(WeaponSmallArms), "rifles, light machine guns and other small arms"},
	{string(WeaponHeavyMachineGun), "heavy machine guns (12.7 mm and above)"},
	{string(WeaponGrenadeLauncher), "automatic and under-barrel grenade launchers"},
	{string(WeaponAntiTankMissile), "anti-tank guided missiles and recoilless weapons"},
	{string(WeaponMortar), "mortars up to 120 mm"},
	{string(WeaponArtilleryUnder100), "guns and howitzers under 100 mm calibre"},
	{string(WeaponArtillery100Plus), "guns and howitzers of 100 mm calibre and above"},
	{string(WeaponMLRS), "multiple launch rocket systems (Grad class)"},
	{string(WeaponHeavyMLRS), "heavy multiple launch rocket systems (Tornado, Uragan, Smerch class)"},
	{string(WeaponTacticalMissile), "tactical ballistic missiles (Tochka class)"},
	{string(WeaponTank), "main battle tanks"},
	{string(WeaponArmouredVehicle), "armoured combat vehicles other than tanks"},
	{string(WeaponAirDefence), "surface-to-air missile and anti-aircraft systems"},
	{string(WeaponCombatAircraft), "fixed-wing and rotary-wing combat aircraft"},
	{string(WeaponAttackUAV), "armed or strike unmanned aerial vehicles"},
	{string(WeaponLoiteringMunition), "loitering munitions and one-way attack drones"},
	{string(WeaponNavalVessel), "warships and armed boats"},
}}

// WeaponClasses lists every weapon class with its meaning.
func WeaponClasses() []Term { return slices.Clone(weaponClasses.terms) }

// ParseWeaponClass returns the weapon class named s.
func ParseWeaponClass(s string) (WeaponClass, error) { return weaponClasses.parse(s) }

// Valid reports whether w is a known weapon class.
func (w WeaponClass) Valid() bool { return weaponClasses.valid(w) }

// SiteCategory is the kind of facility a protected site is.
type SiteCategory string

var siteCategories = vocabulary[SiteCategory]{"site category", []Term{
	{"nuclear_power_plant", "nuclear power plant"},
	{"thermal_power_plant", "thermal (coal, gas) power plant"},
	{"hydroelectric_plant", "hydroelectric power plant"},
	{"substation", "electrical substation or switching station"},
	{"water_station", "water filtration, treatment or pumping station"},
	{"water_pipeline", "water main or canal structure"},
	{"dam", "dam or reservoir structure"},
	{"gas_facility", "gas compressor, storage or distribution facility"},
	{"hospital", "hospital or clinic"},
	{"school", "school or kindergarten"},
}}

// SiteCategories lists every protected-site category with its meaning.
func SiteCategories() []Term { return slices.Clone(siteCategories.terms) }

// ParseSiteCategory returns the site category named s.
func ParseSiteCategory(s string) (SiteCategory, error) { return siteCategories.parse(s) }
