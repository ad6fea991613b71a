package indexer_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/internal/corpus"
)

// loadCSL reads the CSL corpus (internal/corpus), or skips b when absent.
func loadCSL(b *testing.B) []corpus.Paper {
	b.Helper()
	path := corpus.Path("../../shared/data/csl/csl.jsonl")
	papers, err := corpus.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		b.Skipf("CSL corpus not found at %s (set MEDMATCH_CSL to its csl.jsonl; see ../shared/data/README.md)", path)
	} else if err != nil {
		b.Fatal(err)
	}
	return papers
}

func benchQueries(papers []corpus.Paper) []string {
	return corpus.Queries(papers, indexer.MaxQueryChars)
}

// benchStore returns a bolt store in a temp dir holding n derived records,
// and the bytes of text they hold.
func benchStore(b *testing.B, papers []corpus.Paper, n int) (*bolt.Store, string, int64) {
	b.Helper()
	dir := b.TempDir()
	s, err := bolt.Open(dir, bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	as, size := corpus.Achievements(papers, n)
	recs := make([]medmatch.Record, len(as))
	for i, a := range as {
		recs[i] = a
	}
	res, err := s.Import(context.Background(), medmatch.System, recs, medmatch.ImportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if res.Created != n || res.Rejected != 0 {
		b.Fatalf("import: created %d, rejected %d of %d", res.Created, res.Rejected, n)
	}
	return s, dir, size
}

func benchOpenIndex(b *testing.B, dir string, s *bolt.Store) *indexer.Index {
	b.Helper()
	ix, err := indexer.Open(context.Background(), indexer.Dir(dir), s, indexer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ix.Close() })
	return ix
}

// BenchmarkIndex times Index.Rebuild (the whole store into a new index,
// batches of BatchSize, then the swap) over 2k and 20k derived ~1 KB
// achievements. The store and the first index are built untimed.
func BenchmarkIndex(b *testing.B) {
	papers := loadCSL(b)
	if _, err := dict.Default(); err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			s, dir, size := benchStore(b, papers, n)
			ix := benchOpenIndex(b, dir, s)
			ctx := context.Background()
			b.SetBytes(size)
			for b.Loop() {
				if err := ix.Rebuild(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if got, err := ix.DocCount(); err != nil || got != uint64(n) {
				b.Fatalf("DocCount = %d, %v; want %d", got, err, n)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// BenchmarkSearch runs one query per op over a 20k-doc index, as an
// anonymous viewer with the default limit (10) and highlights, cycling
// through the CSL keywords. hits/op is the mean number of matching records
// (Result.Total).
func BenchmarkSearch(b *testing.B) {
	papers := loadCSL(b)
	queries := benchQueries(papers)
	s, dir, _ := benchStore(b, papers, 20000)
	ix := benchOpenIndex(b, dir, s)
	ctx := context.Background()
	var hits, returned uint64
	i := 0
	for b.Loop() {
		res, err := ix.Search(ctx, medmatch.Viewer{}, indexer.Request{Query: queries[i%len(queries)]})
		if err != nil {
			b.Fatal(err)
		}
		hits += res.Total
		returned += uint64(len(res.Hits))
		i++
	}
	b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
	b.ReportMetric(float64(returned)/float64(b.N), "returned/op")
}

// BenchmarkSuggest completes prefixes (1–4 characters of titles, and their
// pinyin and initials) over a 20k-record index; it reports p50 and p99 of
// single calls in microseconds.
func BenchmarkSuggest(b *testing.B) {
	papers := loadCSL(b)
	s, dir, _ := benchStore(b, papers, 20000)
	ix := benchOpenIndex(b, dir, s)
	var prefixes []string
	for i, p := range papers {
		r := []rune(p.Title)
		n := 1 + i%4
		if len(r) < n {
			continue
		}
		prefixes = append(prefixes, string(r[:n]))
	}
	prefixes = append(prefixes, "naoqibo", "nqbq", "xinji", "kjd", "zhineng", "AI", "3d")
	ctx := context.Background()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		t := time.Now()
		if _, err := ix.Suggest(ctx, medmatch.Viewer{}, prefixes[i%len(prefixes)], indexer.DefaultSuggestLimit); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-µs")
}
