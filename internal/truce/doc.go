// Package truce is the domain vocabulary shared by every other package:
// parties, zones, weapon classes, agreements and the error sentinels.
//
// It imports only the standard library and internal/geo, carries no JSON or
// SQL tags, and holds no behaviour beyond validation of its own enumerations.
// Wire forms live in internal/api; storage forms in internal/store.
//
// Every controlled vocabulary here (ZoneKind, WeaponClass, SiteCategory) is
// closed: a value outside the documented list is invalid, and the Parse
// functions say so with the list of accepted values.
package truce
