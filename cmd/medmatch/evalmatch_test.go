package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// eval match on another labelled catalogue: a copy of the demo's
// achievements, enterprises and demands, labels by external_id and id.
func TestEvalMatchOnAnotherCatalogue(t *testing.T) {
	if testing.Short() {
		t.Skip("fits and evaluates on two catalogues")
	}
	dir := t.TempDir()
	for _, f := range []string{"achievements.jsonl", "enterprises.jsonl", "demands.jsonl"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "fixtures", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	labels := filepath.Join(dir, "labels.jsonl")
	// ach-0001 has external_id DL1Y-CG2024-017.
	os.WriteFile(labels, []byte(`{"query":"dem-001","candidate":"DL1Y-CG2024-017","grade":3}
{"query":"dem-001","candidate":"ach-0137","grade":0}
{"query":"dem-001","candidate":"ach-0002","grade":2}
`), 0o644)
	code, out, errs := run(t, "eval", "match", "--catalogue", dir, "--labels", labels, "--k", "32")
	if code != 0 {
		t.Fatalf("eval match --catalogue = %d %q %q", code, out, errs)
	}
	line := regexp.MustCompile(`^model=(bm25|semantic|default|learned) ndcg@10=[01]\.\d{3} mrr@10=[01]\.\d{3} p@5=[01]\.\d{3} misorder=[01]\.\d{3} queries=1$`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("stdout has %d lines; want 4:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Fatalf("line %q is not model=NAME ndcg@10=… queries=1", l)
		}
	}
	if !strings.Contains(errs, "weights learned on the demo catalogue") {
		t.Fatalf("table does not say where the weights were learned: %s", errs)
	}
	// A label naming no record is exit 2 with its line.
	os.WriteFile(labels, []byte(`{"query":"dem-001","candidate":"nothing","grade":3}`), 0o644)
	code, _, errs = run(t, "eval", "match", "--catalogue", dir, "--labels", labels)
	if code != 2 || !strings.Contains(errs, `label 1: candidate "nothing"`) {
		t.Fatalf("bad label = %d %q; want exit 2 naming label 1", code, errs)
	}
}
