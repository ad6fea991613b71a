package curation_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/curation"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/internal/corpus"
)

// BenchmarkDuplicates builds the near-duplicate index over 100,000
// achievements recombined from the CSL corpus and looks up every one of
// them (what the catalogue-wide listing does): records/s.
func BenchmarkDuplicates(b *testing.B) {
	papers, err := corpus.Read("../../shared/data/csl/csl.jsonl")
	if errors.Is(err, fs.ErrNotExist) {
		b.Skip("the CSL corpus (../shared/data/csl) is absent")
	} else if err != nil {
		b.Fatal(err)
	}
	demo, _ := fixtures.Records()
	var meta []*medmatch.Achievement
	for _, r := range demo {
		if a, ok := r.(*medmatch.Achievement); ok {
			meta = append(meta, a)
		}
	}
	const n = 100000
	recs, _ := corpus.Catalogue(papers, meta, n)
	b.ResetTimer()
	pairs := 0
	for range b.N {
		ix := curation.NewDupIndex()
		docs := make([]*curation.Doc, len(recs))
		for i, a := range recs {
			docs[i], _ = curation.NewDoc(a)
			ix.Add(docs[i])
		}
		pairs = 0
		for _, d := range docs {
			pairs += len(ix.Similar(d))
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(pairs/2), "pairs")
}
