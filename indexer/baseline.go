package indexer

import (
	"context"
	"fmt"
	"strconv"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	index "github.com/blevesearch/bleve_index_api"
)

// Baseline analyzers, bleve's own, for comparison with ours.
const (
	BaselineCJK      = cjk.AnalyzerName // CJK character bigrams
	BaselineStandard = standard.Name    // Unicode words: single characters for Chinese
)

// Baseline is an in-memory index of titles in one text field analysed by
// one of bleve's analyzers, with the same BM25 scoring as ours; it exists
// to measure our analysis against.
type Baseline struct {
	idx bleve.Index
}

// NewBaseline indexes titles (document i has id i) with analyzer.
func NewBaseline(analyzer string, titles []string) (*Baseline, error) {
	im := bleve.NewIndexMapping()
	im.ScoringModel = index.BM25Scoring
	dm := bleve.NewDocumentStaticMapping()
	fm := bleve.NewTextFieldMapping()
	fm.Analyzer = analyzer
	fm.Store, fm.IncludeInAll, fm.DocValues = false, false, false
	dm.AddFieldMappingsAt("title", fm)
	dm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	im.DefaultMapping = dm
	idx, err := bleve.NewMemOnly(im)
	if err != nil {
		return nil, err
	}
	b := idx.NewBatch()
	for i, t := range titles {
		if err := b.Index(strconv.Itoa(i), map[string]string{"title": t}); err != nil {
			return nil, err
		}
		if b.Size() >= BatchSize {
			if err := idx.Batch(b); err != nil {
				return nil, err
			}
			b = idx.NewBatch()
		}
	}
	if err := idx.Batch(b); err != nil {
		return nil, fmt.Errorf("indexer: baseline %s: %w", analyzer, err)
	}
	return &Baseline{idx: idx}, nil
}

// Rank returns the ids (title positions) of the top n titles for q: a
// match query on the title, its words combined with OR.
func (b *Baseline) Rank(ctx context.Context, q string, n int) ([]int, error) {
	mq := bleve.NewMatchQuery(q)
	mq.SetField("title")
	res, err := b.idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(mq, n, 0, false))
	if err != nil {
		return nil, err
	}
	out := make([]int, len(res.Hits))
	for i, h := range res.Hits {
		out[i], _ = strconv.Atoi(h.ID)
	}
	return out, nil
}

// Close releases the index.
func (b *Baseline) Close() error { return b.idx.Close() }
