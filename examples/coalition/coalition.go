// Package coalition embeds the illustrative example commitments of a
// multinational force for Ukraine (CC0, see README.md here): the pledges,
// requirements and support records that `truce pledge import` takes, built
// on publicly reported facts with every specific quantity, date and
// reference illustrative.
package coalition

import "embed"

// FS holds pledges.csv, requirements.csv and support.csv.
//
//go:embed *.csv
var FS embed.FS
