package agreement

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/truce-dev/truce/internal/geo"
)

// FuzzLoad feeds the loader arbitrary agreement YAML and an arbitrary
// GeoJSON file in place of zones.geojson, beside the simple agreement's
// other files. No input may make it panic; whatever it accepts must be
// usable.
func FuzzLoad(f *testing.F) {
	files := fstest.MapFS{}
	paths, _ := filepath.Glob("testdata/simple/*")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		files[filepath.Base(p)] = &fstest.MapFile{Data: data}
	}
	zones := files["zones.geojson"].Data
	f.Add(files["agreement.yaml"].Data, zones)
	f.Add([]byte("id: x\nversion: 1\neffective: {from: 2026-01-01T00:00:00Z}\nparties: [{id: AA, name: a, side: left}, {id: BB, name: b, side: right}]\nline: line.geojson\n"), zones)
	f.Add([]byte("id: x\nversion: 1\neffective: {from: 2026-01-01T00:00:00Z}\nparties: [{id: UA, name: a, control_area: ua.geojson}, {id: RU, name: b, control_area: ru.geojson}]\nzones: [{id: s, kind: no_fly, geometry: zones.geojson, feature: sea}]\n"), zones)
	f.Add([]byte("a: &a [*a]\n"), []byte("{}"))
	f.Fuzz(func(t *testing.T, yaml, geojson []byte) {
		fsys := fstest.MapFS{}
		for k, v := range files {
			fsys[k] = v
		}
		fsys["agreement.yaml"] = &fstest.MapFile{Data: yaml}
		fsys["zones.geojson"] = &fstest.MapFile{Data: geojson}
		a, err := LoadFS(fsys, "agreement.yaml")
		if err != nil {
			return
		}
		Locate(a, geo.Pt(48.3, 35.8))
	})
}
