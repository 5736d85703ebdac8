package evidence

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// The checkpoint shown in docs/evidence.md verifies with the key shown
// beside it.
func TestDocCheckpoint(t *testing.T) {
	b, err := os.ReadFile("../../docs/evidence.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "```\ntruce.local/donbas-2026\n")
	end := strings.Index(doc[start+4:], "```")
	cp := doc[start+4 : start+4+end]
	const key = "truce.local/donbas-2026+5ac897d3+AUY1Dk4/rMVNYv8o5S2EBK86V9TIUpKlkE+ZmWM2q/9n"
	if !strings.Contains(doc, key) {
		t.Fatal("the doc no longer shows the key")
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		t.Fatal(err)
	}
	_, size, _, err := VerifyCheckpoint([]byte(cp), v)
	if err != nil || size != 3 {
		t.Errorf("doc checkpoint: size %d, %v\n%q", size, err, cp)
	}
}
