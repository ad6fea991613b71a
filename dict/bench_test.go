package dict_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/internal/corpus"
)

// cslAbstracts returns the abstracts of the CSL corpus, or skips b when
// the file is absent.
func cslAbstracts(b *testing.B) [][]byte {
	b.Helper()
	path := corpus.Path("../../shared/data/csl/csl.jsonl")
	papers, err := corpus.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		b.Skipf("CSL corpus not found at %s (set MEDMATCH_CSL to its csl.jsonl; see ../shared/data/README.md)", path)
	} else if err != nil {
		b.Fatal(err)
	}
	out := make([][]byte, len(papers))
	for i, p := range papers {
		out[i] = []byte(p.Abstract)
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
