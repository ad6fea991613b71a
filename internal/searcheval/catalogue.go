package searcheval

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/indexer"
)

// CatalogueQuery is one query of the catalogue set (fixtures/queries).
type CatalogueQuery struct {
	ID, Text, Intent string
	Labels           map[string]int // "kind/id" → grade 0-3
}

// ReadCatalogue reads queries.tsv (qid, query, intent) and, when judgments
// is not nil, judgments.tsv (qid, kind/id, grade; other columns ignored).
func ReadCatalogue(queries, judgments io.Reader) ([]CatalogueQuery, error) {
	var out []CatalogueQuery
	idx := map[string]int{}
	sc := bufio.NewScanner(queries)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("queries.tsv:%d: want qid<TAB>query<TAB>intent", n)
		}
		idx[f[0]] = len(out)
		out = append(out, CatalogueQuery{ID: f[0], Text: f[1], Intent: f[2], Labels: map[string]int{}})
	}
	if judgments == nil {
		return out, sc.Err()
	}
	sc = bufio.NewScanner(judgments)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			return nil, fmt.Errorf("judgments.tsv:%d: want qid<TAB>kind/id<TAB>grade", n)
		}
		i, ok := idx[f[0]]
		if !ok {
			return nil, fmt.Errorf("judgments.tsv:%d: unknown qid %q", n, f[0])
		}
		g, err := strconv.Atoi(f[2])
		if err != nil || g < 0 || g > 3 {
			return nil, fmt.Errorf("judgments.tsv:%d: grade %q is not 0-3", n, f[2])
		}
		out[i].Labels[f[1]] = g
	}
	return out, sc.Err()
}

// Catalogue is the demo catalogue in a temporary store and index.
type Catalogue struct {
	dir   string
	store *bolt.Store
	Index *indexer.Index
}

// OpenCatalogue loads the demo catalogue into a temporary data dir.
func OpenCatalogue(ctx context.Context) (*Catalogue, error) {
	dir, err := os.MkdirTemp("", "medmatch-eval-")
	if err != nil {
		return nil, err
	}
	c := &Catalogue{dir: dir}
	if c.store, err = bolt.Open(dir, bolt.Options{Taxonomy: dict.MustTaxonomy()}); err != nil {
		c.Close()
		return nil, err
	}
	recs, err := fixtures.Records()
	if err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.store.Import(ctx, medmatch.System, recs, medmatch.ImportOptions{}); err != nil {
		c.Close()
		return nil, err
	}
	if c.Index, err = indexer.Open(ctx, indexer.Dir(dir), c.store, indexer.Options{}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close removes the temporary data dir.
func (c *Catalogue) Close() error {
	if c.Index != nil {
		c.Index.Close()
	}
	if c.store != nil {
		c.store.Close()
	}
	return os.RemoveAll(c.dir)
}

// Top returns the top 10 "kind/id" of a query as an anonymous user.
func (c *Catalogue) Top(ctx context.Context, q string, req indexer.Request) ([]indexer.Hit, error) {
	req.Query, req.Limit, req.NoHighlight = q, 10, true
	res, err := c.Index.Search(ctx, medmatch.Viewer{}, req)
	if err != nil {
		return nil, err
	}
	return res.Hits, nil
}

// Variant is one way of building queries, evaluated on the catalogue set.
type Variant struct {
	Name string
	Req  indexer.Request
}

// Variants are the query-builder variants the defaults were chosen from.
var Variants = []Variant{
	{"default", indexer.Request{}},
	{"words only", indexer.Request{CharMin: -1}},
	{"character boost 3", indexer.Request{CharBoost: 3}},
	{"character boost 6", indexer.Request{CharBoost: 6}},
	{"character boost 20", indexer.Request{CharBoost: 20}},
	{"character boost 10, all fields 1", indexer.Request{FieldBoosts: map[string]float64{"title": 1, "summary": 1, "body": 1, "org": 1}}},
	{"character boost 20, all fields 1", indexer.Request{CharBoost: 20, FieldBoosts: map[string]float64{"title": 1, "summary": 1, "body": 1, "org": 1}}},
	{"character boost 6, all fields 1", indexer.Request{CharBoost: 6, FieldBoosts: map[string]float64{"title": 1, "summary": 1, "body": 1, "org": 1}}},
	{"characters ≥ 50%", indexer.Request{CharMin: 0.5}},
	{"all fields boost 1", indexer.Request{FieldBoosts: map[string]float64{"title": 1, "summary": 1, "body": 1, "org": 1}}},
	{"title 5, summary 2, body 1, org 0.5", indexer.Request{FieldBoosts: map[string]float64{"title": 5, "summary": 2, "body": 1, "org": 0.5}}},
	{"title 2, summary 1, body 1, org 0.5", indexer.Request{FieldBoosts: map[string]float64{"title": 2, "summary": 1, "body": 1, "org": 0.5}}},
	{"no common-word rule", indexer.Request{Common: -1}},
	{"operator and", indexer.Request{Operator: indexer.OperatorAnd}},
}

// EvalCatalogue averages nDCG@10 and MRR@10 of req over the judged queries.
func (c *Catalogue) Eval(ctx context.Context, qs []CatalogueQuery, name string, req indexer.Request) (Result, error) {
	r := Result{Analyzer: name}
	for _, q := range qs {
		if len(q.Labels) == 0 {
			continue
		}
		hits, err := c.Top(ctx, q.Text, req)
		if err != nil {
			return r, fmt.Errorf("%s: %w", q.ID, err)
		}
		ids := make([]int, len(hits))
		labels := map[int]int{}
		keys := map[string]int{}
		for k, g := range q.Labels {
			keys[k] = len(keys)
			labels[keys[k]] = g
		}
		for i, h := range hits {
			k := string(h.Kind) + "/" + h.ID
			if n, ok := keys[k]; ok {
				ids[i] = n
			} else {
				ids[i] = -1 - i // unjudged: gain 0
			}
		}
		if len(hits) == 0 {
			r.NoHits++
		}
		n, rr := Scores(ids, labels)
		if maxGrade(q.Labels) < 2 {
			continue // no relevant record: nothing to rank
		}
		r.NDCG += n
		r.MRR += rr
		r.Queries++
	}
	if r.Queries > 0 {
		r.NDCG /= float64(r.Queries)
		r.MRR /= float64(r.Queries)
	}
	return r, nil
}

func maxGrade(m map[string]int) int {
	g := 0
	for _, v := range m {
		g = max(g, v)
	}
	return g
}

// Pool returns, for every query, the union of the top 10 of every variant,
// in a stable order, for judging.
func (c *Catalogue) Pool(ctx context.Context, qs []CatalogueQuery) (map[string][]indexer.Hit, error) {
	out := map[string][]indexer.Hit{}
	for _, q := range qs {
		seen := map[string]bool{}
		for _, v := range Variants {
			hits, err := c.Top(ctx, q.Text, v.Req)
			if err != nil {
				return nil, err
			}
			for _, h := range hits {
				k := string(h.Kind) + "/" + h.ID
				if !seen[k] {
					seen[k] = true
					out[q.ID] = append(out[q.ID], h)
				}
			}
		}
		sort.SliceStable(out[q.ID], func(i, j int) bool { return out[q.ID][i].ID < out[q.ID][j].ID })
	}
	return out, nil
}
