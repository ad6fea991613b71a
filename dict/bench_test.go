package dict_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/medmatch/medmatch/dict"
)

// cslPath is the CSL corpus (../shared/data/README.md): 2,000 Chinese
// journal abstracts, Apache-2.0. It is read at benchmark time, never copied
// into the repository. MEDMATCH_CSL overrides the path.
func cslPath() string {
	if p := os.Getenv("MEDMATCH_CSL"); p != "" {
		return p
	}
	return "../../shared/data/csl/csl.jsonl"
}

// cslAbstracts returns the abstracts of the CSL corpus, or skips b when the
// file is absent.
func cslAbstracts(b *testing.B) [][]byte {
	b.Helper()
	path := cslPath()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		b.Skipf("CSL corpus not found at %s (set MEDMATCH_CSL to its csl.jsonl; see ../shared/data/README.md)", path)
	} else if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		var p struct {
			Abstract string `json:"abstract"`
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			b.Fatalf("%s:%d: %v", path, n, err)
		}
		if p.Abstract != "" {
			out = append(out, []byte(p.Abstract))
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	if len(out) == 0 {
		b.Fatalf("%s: no abstracts", path)
	}
	return out
}

// BenchmarkSegment runs Analyzer.Tokens over every CSL abstract, one
// goroutine; one op is the whole corpus, so MB/s is the analyzer's
// throughput on ~550-byte technical abstracts. Index mode adds search-mode
// sub-words (as the index does), Query mode cuts precisely (as queries are).
func BenchmarkSegment(b *testing.B) {
	docs := cslAbstracts(b)
	var size int64
	for _, d := range docs {
		size += int64(len(d))
	}
	a, err := dict.Default()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		mode dict.Mode
	}{{"index", dict.Index}, {"query", dict.Query}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			var toks int
			for b.Loop() {
				toks = 0
				for _, d := range docs {
					toks += len(a.Tokens(d, c.mode))
				}
			}
			b.ReportMetric(float64(toks), "tokens/op")
			b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}
