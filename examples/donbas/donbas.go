// Package donbas embeds the illustrative example agreement (CC0, see
// README.md here), so that `truce demo` runs from any directory and from
// an installed binary.
package donbas

import "embed"

// FS holds agreement.yaml and the GeoJSON files it refers to.
//
//go:embed agreement.yaml *.geojson
var FS embed.FS
